"""xtstore.writer.BlobWriter: parts of the sink's size handed over as whole parts, the rest on
close; nothing committed on abort, on an exception in its with block or when collected
unclosed; each part and the commit a repeatable step of the runner; under a Store, transient
failures of a part or of the commit retried without repeating or losing bytes."""

from __future__ import annotations

import gc
import io
import os
import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from xtstore.errors import AccessDenied, BlobNotFound, ContainerNotFound
from xtstore.interface import _SpooledUpload
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store
from xtstore.writer import COMMIT_STEP, WRITE_STEP, BlobWriter

T = TypeVar("T")


class RecordingSink:
    """A sink that keeps parts by index and records every call."""

    def __init__(self, part_size: int = 4) -> None:
        self.part_size = part_size
        self.calls: list[tuple[Any, ...]] = []
        self.parts: dict[int, bytes] = {}
        self.committed: bytes | None = None
        self.fail_commit: BaseException | None = None
        self.fail_part: dict[int, BaseException] = {}
        self.fail_abort: BaseException | None = None

    def write_part(self, index: int, data: bytes) -> None:
        self.calls.append(("write_part", index, data))
        if index in self.fail_part:
            raise self.fail_part[index]
        self.parts[index] = data

    def commit(self, parts: int, tail: bytes) -> None:
        self.calls.append(("commit", parts, tail))
        if self.fail_commit is not None:
            raise self.fail_commit
        self.committed = b"".join(self.parts[n] for n in range(parts)) + tail

    def abort(self) -> None:
        self.calls.append(("abort",))
        if self.fail_abort is not None:
            raise self.fail_abort

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]


def test_writes_become_whole_parts_and_a_tail() -> None:
    sink = RecordingSink(part_size=4)
    writer = BlobWriter(sink)
    assert writer.write(b"ab") == 2
    assert sink.calls == []  # nothing handed over before a part is full
    assert writer.write(b"cdefghij") == 8
    assert writer.write(b"k") == 1
    writer.close()
    assert sink.calls == [("write_part", 0, b"abcd"), ("write_part", 1, b"efgh"),
                          ("commit", 2, b"ijk")]
    assert sink.committed == b"abcdefghijk"


def test_a_write_ending_on_a_part_boundary_leaves_an_empty_tail() -> None:
    sink = RecordingSink(part_size=4)
    with BlobWriter(sink) as writer:
        writer.write(b"abc")
        writer.write(b"defgh")
        writer.write(b"")
    assert sink.calls == [("write_part", 0, b"abcd"), ("write_part", 1, b"efgh"),
                          ("commit", 2, b"")]


def test_nothing_written_commits_an_empty_blob() -> None:
    sink = RecordingSink()
    with BlobWriter(sink):
        pass
    assert sink.calls == [("commit", 0, b"")]


def test_any_buffer_is_written_as_its_bytes() -> None:
    sink = RecordingSink(part_size=5)
    with BlobWriter(sink) as writer:
        writer.write(bytearray(b"ab"))
        assert writer.write(memoryview(b"cdef")) == 4
        # A 2-D view of 6 bytes counts as 6 bytes, in C order.
        assert writer.write(memoryview(b"ghijkl").cast("B", (2, 3))) == 6
        with pytest.raises(TypeError):
            writer.write("text")  # type: ignore[arg-type]
    assert sink.committed == b"abcdefghijkl"


def test_tell_counts_every_byte_written() -> None:
    writer = BlobWriter(RecordingSink(part_size=3))
    assert writer.tell() == 0
    total = 0
    for size in (1, 2, 3, 7, 0, 11):
        writer.write(b"x" * size)
        total += size
        assert writer.tell() == total
    writer.close()
    with pytest.raises(ValueError):
        writer.tell()


def test_whole_parts_are_copied_once_from_a_large_write() -> None:
    part = 4 * 1024 * 1024
    sink = RecordingSink(part_size=part)
    sink.write_part = lambda index, data: None  # type: ignore[method-assign]  # keep nothing
    data = b"z" * (8 * part + 5)
    writer = BlobWriter(sink)
    tracemalloc.start()
    try:
        writer.write(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One part's copy at a time: buffering the write first would hold all 32 MiB again.
    assert peak < 1.5 * part, peak
    writer.abort()


def test_flush_hands_over_nothing_and_fails_once_closed() -> None:
    sink = RecordingSink(part_size=4)
    writer = BlobWriter(sink)
    writer.write(b"ab")
    writer.flush()
    assert sink.calls == []
    writer.close()
    with pytest.raises(ValueError):
        writer.flush()


def test_write_after_close_raises_value_error() -> None:
    writer = BlobWriter(RecordingSink())
    writer.close()
    assert writer.closed
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"x")
    with pytest.raises(ValueError):
        writer.__enter__()


def test_it_writes_but_neither_reads_nor_seeks() -> None:
    writer = BlobWriter(RecordingSink())
    assert writer.writable()
    assert not writer.readable() and not writer.seekable()
    with pytest.raises(io.UnsupportedOperation):
        writer.read()
    writer.abort()


def test_a_part_size_that_is_not_positive_is_refused() -> None:
    sink = RecordingSink(part_size=0)
    with pytest.raises(ValueError, match="part size"):
        BlobWriter(sink)


def test_a_failed_commit_aborts_and_re_raises() -> None:
    sink = RecordingSink(part_size=4)
    sink.fail_commit = RuntimeError("commit refused")
    writer = BlobWriter(sink)
    writer.write(b"abcdef")
    with pytest.raises(RuntimeError, match="commit refused"):
        writer.close()
    assert sink.names() == ["write_part", "commit", "abort"]
    assert writer.closed
    writer.close()
    writer.abort()
    assert sink.names() == ["write_part", "commit", "abort"]  # aborted once, nothing more


def test_a_failed_clean_up_does_not_hide_the_failure_that_led_to_it() -> None:
    sink = RecordingSink()
    sink.fail_commit = RuntimeError("commit refused")
    sink.fail_abort = OSError("abort failed too")
    writer = BlobWriter(sink)
    with pytest.raises(RuntimeError, match="commit refused"):
        writer.close()


def test_a_failed_part_aborts_and_re_raises() -> None:
    sink = RecordingSink(part_size=4)
    sink.fail_part[1] = OSError("part refused")
    writer = BlobWriter(sink)
    with pytest.raises(OSError, match="part refused"):
        writer.write(b"abcdefghij")
    assert sink.names() == ["write_part", "write_part", "abort"]
    assert writer.closed
    writer.close()
    assert "commit" not in sink.names()


def test_abort_drops_everything_and_after_close_does_nothing() -> None:
    sink = RecordingSink(part_size=4)
    writer = BlobWriter(sink)
    writer.write(b"abcdef")
    writer.abort()
    assert sink.names() == ["write_part", "abort"]
    writer.abort()
    writer.close()
    assert sink.names() == ["write_part", "abort"]

    closed = RecordingSink()
    writer = BlobWriter(closed)
    writer.write(b"ab")
    writer.close()
    writer.abort()
    assert closed.names() == ["commit"]


def test_an_exception_in_the_with_block_aborts() -> None:
    sink = RecordingSink(part_size=4)
    with pytest.raises(KeyError), BlobWriter(sink) as writer:
        writer.write(b"abcdef")
        raise KeyError("stop")
    assert sink.names() == ["write_part", "abort"]
    assert writer.closed


def test_a_writer_collected_unclosed_aborts_and_never_commits() -> None:
    sink = RecordingSink(part_size=4)
    writer = BlobWriter(sink)
    writer.write(b"abcdef")
    del writer
    gc.collect()
    assert sink.names() == ["write_part", "abort"]


def test_a_closed_writer_collected_does_nothing_more() -> None:
    sink = RecordingSink()
    writer = BlobWriter(sink)
    writer.write(b"ab")
    writer.close()
    del writer
    gc.collect()
    assert sink.names() == ["commit"]


class RecordingRunner:
    """A step runner that records each step's name and runs it ``times`` times, as a retry
    layer does when an attempt failed after it had applied."""

    def __init__(self, times: int = 1) -> None:
        self.times = times
        self.steps: list[str] = []

    def __call__(self, step: str, body: Callable[[], T]) -> T:
        self.steps.append(step)
        for _ in range(self.times - 1):
            body()
        return body()


def test_every_part_and_the_commit_run_as_steps_of_the_runner() -> None:
    sink = RecordingSink(part_size=4)
    runner = RecordingRunner()
    writer = BlobWriter(sink)
    writer.continue_under(runner)
    writer.write(b"abcdefghij")
    writer.close()
    assert runner.steps == [WRITE_STEP, WRITE_STEP, COMMIT_STEP]


def test_a_repeated_step_writes_the_same_part_index_with_the_same_bytes() -> None:
    sink = RecordingSink(part_size=4)
    writer = BlobWriter(sink)
    writer.continue_under(RecordingRunner(times=2))
    writer.write(b"abcdefghij")
    writer.close()
    assert sink.calls == [("write_part", 0, b"abcd"), ("write_part", 0, b"abcd"),
                          ("write_part", 1, b"efgh"), ("write_part", 1, b"efgh"),
                          ("commit", 2, b"ij"), ("commit", 2, b"ij")]
    assert sink.committed == b"abcdefghij"


def test_the_abort_runs_outside_the_runner() -> None:
    # An abort is a clean-up, never retried: a failing abort must not raise from abort().
    sink = RecordingSink()
    sink.fail_abort = OSError("gone")
    runner = RecordingRunner()
    writer = BlobWriter(sink)
    writer.continue_under(runner)
    writer.abort()
    assert runner.steps == []
    assert writer.closed


# ---- through a Store: the retry layer around each step ----


class FlakySink:
    """A memory store's sink (the interface default's spool) whose chosen calls fail once
    with ``error`` before they do anything."""

    def __init__(self, inner: Any, failing: set[str], error: Exception) -> None:
        self._inner = inner
        self.part_size = inner.part_size
        self._failing = set(failing)
        self._error = error
        self.calls: list[str] = []

    def _maybe_fail(self, name: str) -> None:
        self.calls.append(name)
        if name in self._failing:
            self._failing.discard(name)
            raise self._error

    def write_part(self, index: int, data: bytes) -> None:
        self._maybe_fail(f"write_part {index}")
        self._inner.write_part(index, data)

    def commit(self, parts: int, tail: bytes) -> None:
        self._maybe_fail("commit")
        self._inner.commit(parts, tail)

    def abort(self) -> None:
        self.calls.append("abort")
        self._inner.abort()


class FlakyWriterMemory(MemoryProvider):
    def __init__(self, failing: set[str], error: Exception) -> None:
        super().__init__({"name": "mem"})
        self.failing = failing
        self.error = error
        self.sinks: list[FlakySink] = []

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        if not self.does_container_exist(container):
            raise ContainerNotFound("container not found", container=container)
        inner = _SpooledUpload(self, container, blob_path, content_type)
        sink = FlakySink(inner, self.failing, self.error)
        self.sinks.append(sink)
        return BlobWriter(sink)


def flaky_store(failing: set[str], error: Exception) -> tuple[Store, FlakyWriterMemory]:
    provider = FlakyWriterMemory(failing, error)
    store = Store(provider, "mem", retry=RetryPolicy(attempts=3, base_delay=0.001))
    store.create_container("box")
    return store, provider


def pattern(size: int) -> bytes:
    return os.urandom(size)


def test_a_part_and_a_commit_failing_once_are_retried_without_repeating_bytes() -> None:
    store, provider = flaky_store({"write_part 1", "commit"}, ConnectionResetError("reset"))
    content = pattern(4 * 1024 * 1024 * 2 + 12_345)  # two whole parts of the spool and a tail
    store.create_blob("box", "model.pt", "old")
    with store.open_blob("box", "model.pt", mode="wb") as writer:
        for start in range(0, len(content), 100_000):
            writer.write(content[start:start + 100_000])
        assert store.get_blob_bytes("box", "model.pt") == b"old"
    assert store.get_blob_bytes("box", "model.pt") == content
    sink = provider.sinks[0]
    assert sink.calls == ["write_part 0", "write_part 1", "write_part 1", "commit", "commit"]


def test_a_part_failing_for_good_raises_typed_naming_the_blob_and_keeps_the_old() -> None:
    store, provider = flaky_store({"write_part 0"}, PermissionError("denied"))
    store.create_blob("box", "model.pt", "old")
    writer = store.open_blob("box", "model.pt", mode="wb")
    with pytest.raises(AccessDenied, match=r"blob 'model\.pt'") as caught:
        writer.write(pattern(4 * 1024 * 1024 + 1))
    assert "service 'mem'" in str(caught.value)
    assert provider.sinks[0].calls == ["write_part 0", "abort"]
    assert writer.closed
    assert store.get_blob_bytes("box", "model.pt") == b"old"


def test_a_commit_whose_retries_run_out_leaves_no_blob() -> None:
    provider = FlakyWriterMemory({"commit"}, TimeoutError("timed out"))
    store = Store(provider, "mem", retry=RetryPolicy(attempts=1, base_delay=0.001))
    store.create_container("box")
    writer = store.open_blob("box", "new.bin", mode="wb")
    writer.write(b"content")
    with pytest.raises(Exception, match=r"new\.bin"):
        writer.close()
    assert provider.sinks[0].calls == ["commit", "abort"]
    with pytest.raises(BlobNotFound):
        store.get_blob_bytes("box", "new.bin")


def test_a_store_writer_to_a_missing_container_fails_at_the_call() -> None:
    store, provider = flaky_store(set(), RuntimeError("unused"))
    with pytest.raises(ContainerNotFound, match="nothing-here"):
        store.open_blob("nothing-here", "a.bin", mode="wb")
    assert provider.sinks == []
