"""xtstore.attempts: a provider that makes a repeat harmless is retried on a non-idempotent
call, with one memo across every attempt (the Store's direct first attempt included); one that
does not gets a TransientError saying the change may have been applied."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from xtstore.attempts import current_attempt
from xtstore.errors import TransientError
from xtstore.layers import Call
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store

T = TypeVar("T")


class LostResponses(MemoryProvider):
    """Each append applies, then the first ``lost`` of them lose their response. With
    ``safe``, it remembers the length before the first attempt and a repeat that finds the
    change applied succeeds without appending again."""

    def __init__(self, lost: int, *, safe: bool) -> None:
        super().__init__({"name": "mem"})
        self.lost = lost
        self.safe = safe
        # The memos themselves, kept alive: an id() of a freed one can be reused.
        self.memos: list[dict[str, Any]] = []

    def append_blob(self, container: str, blob_path: str, text: object,
                    append_with_rewrite: bool = False) -> None:
        data = str(text).encode()
        attempt = current_attempt()
        self.memos.append(attempt.memo)
        length = (len(self.get_blob_bytes(container, blob_path))
                  if self.does_blob_exist(container, blob_path) else 0)
        if self.safe:
            if "before" not in attempt.memo:
                attempt.memo["before"] = length
                attempt.repeat_safe = True
            elif length == attempt.memo["before"] + len(data):
                return  # the lost attempt had applied it
        super().append_blob(container, blob_path, str(text))
        if self.lost:
            self.lost -= 1
            raise TransientError("connection reset after the request was sent")


class Counting:
    """An extra layer: forces the full stack instead of the Store's direct first attempt."""

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        return proceed()


def _store(provider: MemoryProvider, full_stack: bool) -> Store:
    return Store(provider, "mem", retry=RetryPolicy(attempts=4, base_delay=0.001),
                 extra_layers=[Counting()] if full_stack else [])


@pytest.mark.parametrize("full_stack", [False, True])
def test_a_repeat_safe_call_is_retried_and_applies_once(full_stack: bool) -> None:
    provider = LostResponses(2, safe=True)
    store = _store(provider, full_stack)
    store.create_container("runs")
    store.append_blob("runs", "log.txt", "one;")
    assert store.get_blob_bytes("runs", "log.txt") == b"one;"
    assert len(provider.memos) == 2 and len({id(m) for m in provider.memos}) == 1  # 2 tries
    store.append_blob("runs", "log.txt", "two;")
    assert store.get_blob_bytes("runs", "log.txt") == b"one;two;"
    assert len({id(m) for m in provider.memos}) == 2  # a new call, a new memo


@pytest.mark.parametrize("full_stack", [False, True])
def test_a_call_not_made_safe_says_its_change_may_have_applied(full_stack: bool) -> None:
    provider = LostResponses(1, safe=False)
    store = _store(provider, full_stack)
    store.create_container("runs")
    with pytest.raises(TransientError) as raised:
        store.append_blob("runs", "log.txt", "one;")
    assert raised.value.may_have_applied is True
    assert "the change may have been applied" in str(raised.value)
    assert str(raised.value).startswith("service 'mem', container 'runs', blob 'log.txt': ")
    assert store.get_blob_bytes("runs", "log.txt") == b"one;"  # applied once, not repeated


def test_an_unsent_request_says_the_change_did_not_apply() -> None:
    class Refused(MemoryProvider):
        def snapshot_blob(self, container: str, blob_path: str) -> object:  # type: ignore[override]
            raise ConnectionRefusedError("refused")

    store = Store(Refused({"name": "mem"}), "mem", retry=RetryPolicy(attempts=2,
                                                                      base_delay=0.001))
    store.create_container("runs")
    store.create_blob("runs", "a", b"x")
    with pytest.raises(TransientError) as raised:
        store.snapshot_blob("runs", "a")
    assert raised.value.may_have_applied is False
    assert "may have been applied" not in str(raised.value)


def test_idempotent_calls_leave_may_have_applied_unset() -> None:
    class Down(MemoryProvider):
        def get_blob_bytes(self, container: str, blob_path: str,
                           snapshot: str | None = None) -> bytes:
            raise TransientError("503")

    store = Store(Down({"name": "mem"}), "mem", retry=RetryPolicy(attempts=2, base_delay=0.001))
    with pytest.raises(TransientError) as raised:
        store.get_blob_bytes("runs", "a")
    assert raised.value.may_have_applied is None


def test_outside_a_store_each_call_is_its_own_attempt() -> None:
    first, second = current_attempt(), current_attempt()
    assert first is not second and first.memo == {} and not first.repeat_safe


class BrokenOffUploads(MemoryProvider):
    """Each stream upload reads part of the stream, then the first ``failures`` lose their
    connection before their last request left (``request_sent=False``)."""

    def __init__(self, failures: int) -> None:
        super().__init__({"name": "mem"})
        self.failures = failures

    def create_blob_from_stream(self, container: str, blob_path: str, stream: Any,
                                length: int | None = None,
                                progress_callback: Any = None) -> None:
        if self.failures:
            self.failures -= 1
            stream.read(5)
            raise ConnectionRefusedError("refused")
        super().create_blob_from_stream(container, blob_path, stream, length=length)


class OneWay(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("full_stack", [False, True])
def test_a_seekable_stream_is_uploaded_again_from_where_it_started(full_stack: bool) -> None:
    store = _store(BrokenOffUploads(2), full_stack)
    store.create_container("runs")
    stream = io.BytesIO(b"skip|0123456789")
    stream.seek(5)
    store.create_blob_from_stream("runs", "s.bin", stream)
    assert store.get_blob_bytes("runs", "s.bin") == b"0123456789"


@pytest.mark.parametrize("full_stack", [False, True])
def test_a_stream_that_cannot_seek_is_never_uploaded_again(full_stack: bool) -> None:
    # Before: the refused connection was repeated and the blob got the stream's rest only.
    store = _store(BrokenOffUploads(1), full_stack)
    store.create_container("runs")
    with pytest.raises(TransientError):
        store.create_blob_from_stream("runs", "s.bin", OneWay(b"0123456789"))
    assert not store.does_blob_exist("runs", "s.bin")
