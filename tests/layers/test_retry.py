"""The one retry policy: transient errors only, bounded, never blindly repeating a
non-idempotent request."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from xtstore.errors import BlobNotFound, TransientError
from xtstore.layers import Call
from xtstore.layers.retry import RetryLayer, RetryPolicy


class Clock:
    """Virtual time: sleeping advances it, so tests never wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def failing(times: int, error: Exception) -> tuple[list[int], Callable[[], str]]:
    attempts: list[int] = []

    def operation() -> str:
        attempts.append(1)
        if len(attempts) <= times:
            raise error
        return "done"

    return attempts, operation


def layer(policy: RetryPolicy, clock: Clock) -> RetryLayer:
    return RetryLayer(policy, sleep=clock.sleep, clock=clock)


def test_transient_errors_are_retried_until_success() -> None:
    clock = Clock()
    attempts, operation = failing(3, TransientError("503"))
    result = layer(RetryPolicy(attempts=5), clock)(Call("get_blob_text", "s"), operation)
    assert result == "done"
    assert len(attempts) == 4
    assert len(clock.sleeps) == 3


def test_attempts_bound_the_tries() -> None:
    clock = Clock()
    attempts, operation = failing(10, TransientError("503"))
    with pytest.raises(TransientError):
        layer(RetryPolicy(attempts=3), clock)(Call("get_blob_text", "s"), operation)
    assert len(attempts) == 3


def test_non_transient_errors_are_never_retried() -> None:
    attempts, operation = failing(1, BlobNotFound("gone"))
    with pytest.raises(BlobNotFound):
        layer(RetryPolicy(attempts=5), Clock())(Call("get_blob_text", "s"), operation)
    assert len(attempts) == 1


def test_non_idempotent_call_is_not_repeated_once_its_request_was_sent() -> None:
    attempts, operation = failing(1, TransientError("reset after send"))
    call = Call("append_blob", "s", idempotent=False)
    with pytest.raises(TransientError):
        layer(RetryPolicy(attempts=5), Clock())(call, operation)
    assert len(attempts) == 1


def test_non_idempotent_call_is_retried_when_the_request_never_left() -> None:
    attempts, operation = failing(2, TransientError("refused", request_sent=False))
    call = Call("append_blob", "s", idempotent=False)
    assert layer(RetryPolicy(attempts=5), Clock())(call, operation) == "done"
    assert len(attempts) == 3


def test_total_timeout_stops_retrying() -> None:
    clock = Clock()
    attempts, operation = failing(100, TransientError("503"))
    policy = RetryPolicy(attempts=100, base_delay=1.0, max_delay=1.0, total_timeout=5.0)
    with pytest.raises(TransientError):
        layer(policy, clock)(Call("get_blob_text", "s"), operation)
    assert clock.now <= 5.0
    assert len(attempts) < 100


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    for retry_number, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        delays = [policy.delay(retry_number) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling / 2, "full jitter spreads over the whole range"


def test_set_retry_counts_retries_not_tries() -> None:
    assert RetryPolicy().with_retries(0).attempts == 1
    assert RetryPolicy().with_retries(3).retries == 3
