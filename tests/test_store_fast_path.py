"""The Store's direct first attempt (no extra layers, call logging off) must behave exactly
like the full layer stack: same retries, same typed errors, same context."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import pytest

from xtstore.errors import BlobNotFound, InvalidName, TransientError
from xtstore.layers import Call
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store

T = TypeVar("T")


class FlakyAppends(MemoryProvider):
    """Fails the first ``failures`` appends with ``error``, then appends for real."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__({"name": "mem"})
        self.failures = failures
        self.error = error
        self.attempts = 0

    def append_blob(self, container: str, blob_path: str, text: object,
                    append_with_rewrite: bool = False) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        super().append_blob(container, blob_path, text,  # type: ignore[arg-type]
                            append_with_rewrite=append_with_rewrite)


class Counting:
    """An extra layer: forces the full stack and counts the calls it sees."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        self.calls.append(call.operation)
        return proceed()


def stores(provider: MemoryProvider) -> list[Store]:
    policy = RetryPolicy(attempts=3, base_delay=0.001)
    return [Store(provider, "mem", retry=policy),
            Store(provider, "mem", retry=policy, extra_layers=[Counting()])]


@pytest.mark.parametrize("full_stack", [False, True])
def test_unsent_request_of_a_non_idempotent_call_is_retried(full_stack: bool) -> None:
    provider = FlakyAppends(2, ConnectionRefusedError("refused"))
    store = stores(provider)[full_stack]
    store.create_container("runs")
    store.append_blob("runs", "log", "x")
    assert provider.attempts == 3
    assert store.get_blob_text("runs", "log") == "x"


@pytest.mark.parametrize("full_stack", [False, True])
def test_sent_request_of_a_non_idempotent_call_is_not_retried(full_stack: bool) -> None:
    provider = FlakyAppends(1, TransientError("503", request_sent=True))
    store = stores(provider)[full_stack]
    store.create_container("runs")
    with pytest.raises(TransientError, match="blob 'log'"):
        store.append_blob("runs", "log", "x")
    assert provider.attempts == 1


def test_builtin_errors_are_typed_and_named_with_logging_on_and_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(MemoryProvider({"name": "mem"}), "mem")
    store.create_container("runs")
    for level in (logging.WARNING, logging.DEBUG):
        with (caplog.at_level(level, logger="xtstore.calls"),
              pytest.raises(BlobNotFound, match="service 'mem', container 'runs'")):
            store.get_blob_text("runs", "missing")
    assert any("get_blob_text" in record.getMessage() for record in caplog.records)


def test_a_remembered_container_name_never_lets_an_invalid_one_through() -> None:
    store = Store(MemoryProvider({"name": "mem"}), "mem")
    store.create_container("runs")
    for number in range(300):  # more names than the cache holds
        store.does_container_exist(f"run{number:03d}")
    assert store.does_container_exist("runs")
    for bad in ("Runs", "runs ", "ru", ["runs"]):
        with pytest.raises(InvalidName):
            store.does_container_exist(bad)  # type: ignore[arg-type]
