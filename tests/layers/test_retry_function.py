"""XT's retry function: ``set_retry(make_retry_func(n))`` makes the one retry layer ask the
function before each retry of a transient failure how long to wait, and stop when it says
None. ``make_retry_func`` below has the semantics of XT's ``xtlib.utils.make_retry_func``."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import (
    BlobNotFound,
    ConfigError,
    StoreError,
    TransientError,
    Unsupported,
)
from xtstore.layers import Call
from xtstore.layers.retry import RetryContext, RetryLayer, RetryPolicy
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store


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


Seen = list[tuple[int, BaseException | None, int | None]]


def make_retry_func(max_retries: int, seen: Seen | None = None) -> Callable[[Any], int | None]:
    """XT's semantics: the function counts the retries on the context itself, and waits
    min(16, 2**count) seconds until count exceeds ``max_retries``."""

    def expo_retry(context: Any) -> int | None:
        if not hasattr(context, "count"):
            context.count = 1
        else:
            context.count += 1
        status = None
        if context.response and context.response.status:
            status = context.response.status
        if seen is not None:
            seen.append((context.count, context.exception, status))
        if context.count > max_retries:
            return None
        return int(min(16, 2**context.count))

    return expo_retry


def failing(errors: list[Exception]) -> tuple[list[int], Callable[[], str]]:
    attempts: list[int] = []

    def operation() -> str:
        attempts.append(1)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return "done"

    return attempts, operation


def function_layer(function: Callable[[Any], Any], clock: Clock) -> RetryLayer:
    # A policy that alone would never retry: with a function set, the function decides.
    layer = RetryLayer(RetryPolicy(attempts=1, total_timeout=0.0), sleep=clock.sleep,
                       clock=clock)
    layer.function = function
    return layer


def test_the_function_is_asked_before_each_retry_with_count_exception_and_status() -> None:
    clock = Clock()
    seen: Seen = []
    errors: list[Exception] = [TransientError("503", status=503),
                               TransientError("reset"),
                               TransientError("500", status=500)]
    attempts, operation = failing(errors)
    result = function_layer(make_retry_func(8, seen), clock)(Call("get_blob_text", "s"),
                                                              operation)
    assert result == "done"
    assert len(attempts) == 4
    assert seen == [(1, errors[0], 503), (2, errors[1], None), (3, errors[2], 500)]
    assert clock.sleeps == [2, 4, 8]


def test_the_function_saying_none_stops_and_the_failure_is_raised() -> None:
    clock = Clock()
    seen: Seen = []
    attempts, operation = failing([TransientError("503", status=503)] * 10)
    with pytest.raises(TransientError, match="503"):
        function_layer(make_retry_func(2, seen), clock)(Call("get_blob_text", "s"), operation)
    assert len(attempts) == 3
    assert [count for count, _, _ in seen] == [1, 2, 3]
    assert clock.sleeps == [2, 4]


def test_each_call_gets_its_own_context_starting_at_zero() -> None:
    contexts: list[RetryContext] = []

    def record(context: RetryContext) -> float:
        contexts.append(context)
        assert context.count == 0  # never counted by the layer
        return 0.0

    layer = function_layer(record, Clock())
    for _ in range(2):
        _, operation = failing([TransientError("503", status=503)])
        layer(Call("get_blob_text", "s"), operation)
    assert len(contexts) == 2 and contexts[0] is not contexts[1]


def test_a_non_transient_error_never_asks_the_function() -> None:
    seen: Seen = []
    attempts, operation = failing([BlobNotFound("404")])
    with pytest.raises(BlobNotFound):
        function_layer(make_retry_func(8, seen), Clock())(Call("get_blob_text", "s"),
                                                           operation)
    assert (len(attempts), seen) == (1, [])


def test_a_sent_non_idempotent_request_is_not_retried_even_if_the_function_would() -> None:
    seen: Seen = []
    attempts, operation = failing([TransientError("reset after send")])
    call = Call("append_blob", "s", idempotent=False)
    with pytest.raises(TransientError):
        function_layer(make_retry_func(8, seen), Clock())(call, operation)
    assert (len(attempts), seen) == (1, [])
    attempts, operation = failing([TransientError("refused", request_sent=False)])
    assert function_layer(make_retry_func(8, seen), Clock())(call, operation) == "done"
    assert len(attempts) == 2 and len(seen) == 1


def test_a_function_returning_something_else_is_a_typed_error() -> None:
    _, operation = failing([TransientError("503", status=503)])
    with pytest.raises(ConfigError, match="not seconds or None"):
        function_layer(lambda context: "soon", Clock())(Call("get_blob_text", "s"), operation)


# ---- through Store ----


class Flaky(MemoryProvider):
    """A real in-memory store whose get_blob_text fails ``times`` times first."""

    def __init__(self, times: int, error: Exception) -> None:
        super().__init__({"name": "mem"})
        self.times = times
        self.error = error
        self.calls = 0

    def get_blob_text(self, container: str, blob_path: str) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        return super().get_blob_text(container, blob_path)


def flaky_store(times: int, error: Exception) -> tuple[Store, Flaky]:
    provider = Flaky(times, error)
    store = Store(provider, "mem")
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "hello")
    return store, provider


def test_make_retry_func_zero_makes_a_503_fail_at_once() -> None:
    store, provider = flaky_store(5, TransientError("503 Server Busy", status=503))
    seen: Seen = []
    store.set_retry(make_retry_func(0, seen))
    with pytest.raises(TransientError) as caught:
        store.get_blob_text("runs", "a.txt")
    assert provider.calls == 1
    assert [(count, status) for count, _, status in seen] == [(1, 503)]
    assert (caught.value.service, caught.value.container, caught.value.blob) == (
        "mem", "runs", "a.txt")


def test_store_retries_as_the_function_says() -> None:
    store, provider = flaky_store(2, TransientError("503", status=503))
    waits: list[int] = []

    def no_wait(context: Any) -> float:
        context.count += 1
        waits.append(context.count)
        return 0

    store.set_retry(no_wait)
    assert store.get_blob_text("runs", "a.txt") == "hello"
    assert (provider.calls, waits) == (3, [1, 2])


def test_a_404_through_store_never_calls_the_function() -> None:
    store, _ = flaky_store(0, TransientError("unused"))
    seen: Seen = []
    store.set_retry(make_retry_func(8, seen))
    with pytest.raises(BlobNotFound):
        store.get_blob_text("runs", "missing.txt")
    assert seen == []


def test_get_retry_returns_exactly_what_was_set() -> None:
    store = Store(MemoryProvider({"name": "mem"}), "mem", retry=RetryPolicy(attempts=4))
    assert store.get_retry() == 3
    function = make_retry_func(3)
    store.set_retry(function)
    assert store.get_retry() is function
    store.set_retry(7)
    assert store.get_retry() == 7
    assert store.retry_policy.attempts == 8
    store.set_retry(0)
    assert store.get_retry() == 0


def test_set_retry_is_forwarded_to_the_provider() -> None:
    provider = MemoryProvider({"name": "mem"})
    store = Store(provider, "mem")
    function = make_retry_func(2)
    store.set_retry(function)
    assert provider.get_retry() is function
    store.set_retry(5)
    assert provider.get_retry() == 5


def test_the_interface_defaults_keep_any_value_as_it_is() -> None:
    provider = MemoryProvider({"name": "mem"})
    assert provider.get_retry() == 0
    function = make_retry_func(1)
    provider.set_retry(function)
    assert provider.get_retry() is function


@pytest.mark.parametrize("value", ["3", 2.5, None, True, -1, [3]])
def test_set_retry_refuses_anything_but_an_int_or_a_function(value: object) -> None:
    store = Store(MemoryProvider({"name": "mem"}), "mem")
    with pytest.raises(ConfigError, match="set_retry takes") as caught:
        store.set_retry(value)  # type: ignore[arg-type]
    assert isinstance(caught.value, StoreError)
    assert store.get_retry() == RetryPolicy().retries


def file_store(root: Path) -> Store:
    config = {"external-services": {"disk": {"type": "storage", "provider": "store-file",
                                             "path": str(root)}}}
    return xtstore.get_storage("disk", config=config)


def module_level_retry(context: Any) -> None:
    """A retry function that pickles (by reference)."""
    return None


def test_pickling_a_store_with_xts_closure_is_a_clear_error(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    store.set_retry(make_retry_func(3))
    with pytest.raises(Unsupported, match=r"retry function .* cannot be pickled"):
        pickle.dumps(store)


def test_a_picklable_retry_function_travels_with_the_store(tmp_path: Path) -> None:
    store = file_store(tmp_path)
    store.set_retry(module_level_retry)
    again = pickle.loads(pickle.dumps(store))
    assert again.get_retry() is module_level_retry
    assert again.provider.get_retry() is module_level_retry
