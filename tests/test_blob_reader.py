"""The resuming open_blob stream of the HTTP providers (src/xtstore/providers/_blob_reader.py),
over scripted bodies: where each read resumes after a failure, the checksum across resumes,
seeking, which range a read after a seek asks for (bounded, growing while reading on, a short
skip read through), truncated bodies, a blob changed mid-read, and the Store running each read
in its layers (retried, typed, named). The same stream on Azurite and moto, through the fault proxy:
tests/providers/azure/test_resumed_reads.py and tests/providers/s3/test_resumed_reads.py."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable
from typing import IO, Any

import pytest

from xtstore import Store
from xtstore.continuation import Continuing
from xtstore.errors import IntegrityError, PreconditionFailed, StoreError, TransientError
from xtstore.layers.retry import RetryPolicy
from xtstore.providers import _blob_reader
from xtstore.providers._blob_reader import STEP_BYTES, BlobStream, open_ranged
from xtstore.providers._shared import Expected
from xtstore.providers.memory.store import MemoryProvider

CONTENT = random.Random(23).randbytes(100_000)


class Blob:
    """A blob served as bodies from any offset, each failing as scripted: ``faults`` maps
    the number of a body (0: the first) to ``(after_bytes, error)``, raised once that body
    has given that many bytes (``error`` None: the body just ends there)."""

    def __init__(self, content: bytes = CONTENT, *, chunk: int = 4096) -> None:
        self.content = content
        self.chunk = chunk
        self.faults: dict[int, tuple[int, BaseException | None]] = {}
        self.damaged: dict[int, int] = {}
        """body number -> offset in the blob of one byte that body gives flipped"""
        self.opened: list[int] = []
        self.ranges: list[tuple[int, int | None]] = []
        """(start, end) of every body opened by ``open_range`` (end None: to the end)"""
        self.asked: list[int] = []
        self.closed = 0
        self.changed = False

    def open_at(self, offset: int) -> Body:
        return self.open_range(offset, None)

    def open_range(self, start: int, end: int | None) -> Body:
        if self.changed:
            raise PreconditionFailed("the blob changed while it was read")
        assert end is None or start < end <= len(self.content)
        self.opened.append(start)
        self.ranges.append((start, end))
        number = len(self.opened) - 1
        return Body(self, number, start, len(self.content) if end is None else end)

    def expected(self, digest: bytes | None = None) -> Expected:
        return Expected(len(self.content), "md5", digest or hashlib.md5(self.content).digest())

    def stream(self, digest: bytes | None = None, read_ahead: int = _blob_reader.READ_AHEAD
               ) -> BlobStream:
        return open_ranged(self.open_range, self.expected(digest), self.open_range(0, None),
                           read_ahead=read_ahead)


class Body:
    def __init__(self, blob: Blob, number: int, offset: int, end: int) -> None:
        self.blob = blob
        self.number = number
        self.offset = offset
        self.end = end
        self.given = 0

    def readinto(self, buffer: memoryview, /) -> int:
        self.blob.asked.append(len(buffer))
        after, error = self.blob.faults.get(self.number, (None, None))
        count = min(len(buffer), self.blob.chunk, self.end - self.offset)
        if after is not None:
            if self.given >= after:
                if error is None:
                    return 0
                raise error
            count = min(count, after - self.given)
        data = bytearray(self.blob.content[self.offset:self.offset + count])
        damaged = self.blob.damaged.get(self.number)
        if damaged is not None and self.offset <= damaged < self.offset + count:
            data[damaged - self.offset] ^= 0xFF
        buffer[:count] = data
        self.offset += count
        self.given += count
        return count

    def close(self) -> None:
        self.blob.closed += 1


def retrying(attempts: int = 4) -> Callable[[str, Callable[[], Any]], Any]:
    """A runner that repeats a step after a TransientError, as the Store's retry layer does."""

    def run(step: str, body: Callable[[], Any]) -> Any:
        for attempt in range(attempts):
            try:
                return body()
            except TransientError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    return run


def read_in_pieces(stream: IO[bytes], size: int) -> bytes:
    pieces = []
    while piece := stream.read(size):
        pieces.append(piece)
    return b"".join(pieces)


def test_a_read_without_faults_uses_the_first_body_only() -> None:
    blob = Blob()
    with blob.stream() as stream:
        assert read_in_pieces(stream, 1000) == CONTENT
    assert blob.opened == [0]
    assert blob.closed == 1


@pytest.mark.parametrize("how", ["read()", "read(1000)", "read(50_000)", "readinto"])
def test_a_body_broken_mid_way_is_resumed_at_the_offset_delivered(how: str) -> None:
    blob = Blob()
    blob.faults = {0: (30_000, TransientError("reset")),
                   1: (20_000, TransientError("reset"))}
    stream = blob.stream()
    stream.continue_under(retrying())
    if how == "read()":
        data = stream.read()
    elif how == "readinto":
        buffer = bytearray(len(CONTENT))
        view = memoryview(buffer)
        filled = 0
        while count := stream.readinto(view[filled:]):
            filled += count
        data = bytes(buffer[:filled])
    else:
        data = read_in_pieces(stream, int(how[5:-1].replace("_", "")))
    assert data == CONTENT
    assert blob.opened == [0, 30_000, 50_000]
    assert stream.tell() == len(CONTENT)


def test_used_bare_a_failed_read_raises_and_the_next_read_resumes() -> None:
    # No runner: each step runs once. A read that raised leaves the stream where it stood
    # (CPython's BufferedReader would drop the 1192 bytes it had buffered beyond 9000).
    blob = Blob()
    blob.faults = {0: (10_000, TransientError("reset"))}
    stream = blob.stream()
    head = stream.read(9_000)
    with pytest.raises(TransientError):
        stream.read(5_000)
    assert stream.tell() == 9_000
    assert head + read_in_pieces(stream, 5_000) == CONTENT
    assert blob.opened == [0, 9_000]


def test_a_body_that_ends_early_is_a_transient_error_and_is_resumed() -> None:
    blob = Blob()
    blob.faults = {0: (12_345, None)}
    stream = blob.stream()
    with pytest.raises(TransientError, match="ended after 12345 of the blob's 100000 bytes"):
        stream.read()
    stream.seek(0)
    blob.faults = {1: (40_000, None)}
    stream.continue_under(retrying())
    assert stream.read() == CONTENT
    assert blob.opened == [0, 0, 40_000]


def test_the_checksum_covers_the_bytes_of_every_resumed_body() -> None:
    blob = Blob()
    blob.faults = {0: (30_000, TransientError("reset"))}
    blob.damaged = {1: 60_000}  # the resumed body gives one wrong byte, early in the blob
    stream = blob.stream()
    stream.continue_under(retrying())
    with pytest.raises(IntegrityError, match="md5"):
        read_in_pieces(stream, 8_000)


def test_damage_in_the_last_read_is_read_again() -> None:
    # The last read is checked before it returns: a repeat of it (a new body at its offset)
    # replaces damage on the way.
    blob = Blob()
    blob.damaged = {0: len(CONTENT) - 10}
    stream = blob.stream()
    stream.continue_under(retrying())
    assert read_in_pieces(stream, 8_000) == CONTENT
    assert len(blob.opened) == 2


def test_content_damaged_at_rest_fails_every_repeat() -> None:
    blob = Blob()
    stream = blob.stream(digest=b"\0" * 16)
    stream.continue_under(retrying(3))
    with pytest.raises(IntegrityError):
        stream.read()
    assert len(blob.opened) == 3  # the first body and two repeats of the last read


def test_the_checksum_is_checked_only_when_read_through_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_blob_reader, "SKIP_LIMIT", 0)  # every seek opens a body there
    blob = Blob()
    stream = blob.stream(digest=b"\0" * 16)
    stream.seek(50_000)
    assert stream.read() == CONTENT[50_000:]  # never read in order from the start
    stream.seek(0)
    assert stream.read(50_000) == CONTENT[:50_000]
    stream.seek(0)
    # Now the start and the end were delivered, but never in one pass: reading from the
    # middle on in order completes it, and the check fails.
    stream.read(50_000)
    with pytest.raises(IntegrityError):
        stream.read()


def test_seek_reopens_lazily_at_the_new_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_blob_reader, "SKIP_LIMIT", 0)  # every seek opens a body there
    blob = Blob()
    stream = blob.stream()
    assert stream.seekable()
    assert stream.read(10) == CONTENT[:10]
    assert stream.seek(70_000) == 70_000
    assert blob.opened == [0]  # nothing fetched until a read
    assert stream.read(100) == CONTENT[70_000:70_100]
    assert stream.tell() == 70_100
    assert stream.seek(-100, io.SEEK_END) == len(CONTENT) - 100
    assert stream.read() == CONTENT[-100:]
    assert stream.seek(-50, io.SEEK_CUR) == len(CONTENT) - 50
    assert stream.read(10) == CONTENT[-50:-40]
    assert stream.seek(len(CONTENT) + 5) == len(CONTENT) + 5
    assert stream.read() == b""
    assert blob.opened == [0, 70_000, len(CONTENT) - 100, len(CONTENT) - 50]
    with pytest.raises(ValueError):
        stream.seek(-1)


@pytest.fixture
def no_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every seek away from the open body's offset opens another (no short skip read
    through), so the ranges asked for show."""
    monkeypatch.setattr(_blob_reader, "SKIP_LIMIT", 0)


@pytest.mark.usefixtures("no_skips")
def test_a_read_after_a_seek_asks_for_the_read_ahead_and_reading_on_doubles_it() -> None:
    blob = Blob(chunk=100_000)
    stream = blob.stream(read_ahead=10_000)
    assert stream.read(10) == CONTENT[:10]
    stream.seek(20_000)
    assert stream.read(100) == CONTENT[20_000:20_100]
    assert blob.ranges == [(0, None), (20_000, 30_000)]
    assert read_in_pieces(stream, 3_000) == CONTENT[20_100:]
    # Reading on where a range ended asks for twice as much, up to the end.
    assert blob.ranges[1:] == [(20_000, 30_000), (30_000, 50_000), (50_000, 90_000),
                               (90_000, None)]
    assert blob.closed == len(blob.ranges)


@pytest.mark.usefixtures("no_skips")
def test_a_read_after_a_seek_asks_for_what_it_wants_when_that_is_more() -> None:
    blob = Blob(chunk=100_000)
    stream = blob.stream(read_ahead=10_000)
    stream.seek(5_000)
    assert stream.read(60_000) == CONTENT[5_000:65_000]
    buffer = bytearray(30_000)
    stream.seek(1_000)
    assert stream.readinto(buffer) == 30_000 and buffer == CONTENT[1_000:31_000]
    stream.seek(70_000)
    assert stream.read() == CONTENT[70_000:]
    assert blob.ranges == [(0, None), (5_000, 65_000), (1_000, 31_000), (70_000, None)]


def test_random_reads_ask_bounded_ranges_and_match_the_bytes() -> None:
    content = random.Random(3).randbytes(2_000_000)
    blob = Blob(content, chunk=65_536)
    read_ahead = 50_000
    stream = blob.stream(read_ahead=read_ahead)
    rng = random.Random(11)
    reads = 200
    for _ in range(reads):
        offset, length = rng.randrange(len(content)), rng.randrange(1, 20_000)
        assert stream.seek(offset) == offset
        assert stream.read(length) == content[offset:offset + length]
        assert stream.tell() == min(len(content), offset + length)
    stream.close()
    later = blob.ranges[1:]
    assert len(later) <= reads
    # No range is longer than a read-ahead (a read wants at most 20,000 bytes); only one
    # near the end runs to it, and every body was closed.
    assert all((len(content) if end is None else end) - start <= read_ahead
               for start, end in later)
    assert blob.closed == len(blob.ranges)


@pytest.mark.usefixtures("no_skips")
def test_a_range_left_mostly_unread_makes_the_next_ranges_just_what_the_reads_want() -> None:
    content = random.Random(4).randbytes(600_000)
    blob = Blob(content, chunk=1_000)
    stream = blob.stream(read_ahead=10_000)
    for offset in (50_000, 150_000, 250_000, 350_000):
        stream.seek(offset)
        assert stream.read(1_000) == content[offset:offset + 1_000]
    # The first seek leaves the whole-blob body, which says nothing of the pattern: the
    # read-ahead. That range is left 90% unread: from then on, what each read wants (the
    # BufferedReader's buffer, as it reads into that).
    wants = io.DEFAULT_BUFFER_SIZE
    assert blob.ranges[1:] == [(50_000, 60_000), (150_000, 150_000 + wants),
                               (250_000, 250_000 + wants), (350_000, 350_000 + wants)]
    # Reading on in order brings the read-ahead back at once, then doubles it.
    assert read_in_pieces(stream, 1_000) == content[351_000:]
    went_on = 350_000 + wants
    assert blob.ranges[5:7] == [(went_on, went_on + 2 * wants),
                                (went_on + 2 * wants, went_on + 6 * wants)]


def test_a_short_rest_of_a_range_left_for_a_read_elsewhere_is_read_out_first() -> None:
    # So that its connection goes back to the pool: a body closed unread is cut.
    content = random.Random(5).randbytes(3_000_000)
    blob = Blob(content, chunk=1_000)
    stream = blob.stream(read_ahead=10_000)
    stream.seek(1_200_000)  # beyond the skip limit: the first body is left (not read out)
    assert stream.read(1_000) == content[1_200_000:1_201_000]
    given_before = sum(blob.asked)
    stream.seek(2_600_000)
    assert stream.read(1_000) == content[2_600_000:2_601_000]
    # The 9,000 bytes left of the range at 1,200,000 were read before it was closed.
    assert sum(blob.asked) - given_before >= 9_000 + 1_000
    assert blob.ranges[1:2] == [(1_200_000, 1_210_000)]
    assert blob.closed == 2


def test_a_short_skip_forward_reads_through_the_open_body_and_keeps_the_checksum() -> None:
    blob = Blob(chunk=1000)
    stream = blob.stream(digest=b"\0" * 16)
    assert stream.read(10) == CONTENT[:10]
    stream.seek(70_000)
    assert stream.read(100) == CONTENT[70_000:70_100]
    assert blob.ranges == [(0, None)]  # read through, no new request
    # The bytes skipped were taken in order: reading on to the end checks the whole.
    with pytest.raises(IntegrityError):
        stream.read()


def test_a_long_skip_forward_asks_for_a_new_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_blob_reader, "SKIP_LIMIT", 1_000)
    blob = Blob(chunk=100_000)
    stream = blob.stream(read_ahead=10_000)
    stream.seek(500)
    assert stream.read(10) == CONTENT[500:510]
    stream.seek(20_000)  # beyond the 8 KiB buffered from 500, and the skip limit
    assert stream.read(10) == CONTENT[20_000:20_010]
    assert blob.ranges == [(0, None), (20_000, 30_000)]


@pytest.mark.usefixtures("no_skips")
def test_a_resume_inside_a_bounded_range_asks_for_the_rest_of_that_range() -> None:
    blob = Blob(chunk=1000)
    blob.faults = {1: (3_000, TransientError("reset"))}
    stream = blob.stream(read_ahead=10_000)
    stream.continue_under(retrying())
    stream.seek(40_000)
    assert stream.read(8_000) == CONTENT[40_000:48_000]
    assert blob.ranges == [(0, None), (40_000, 50_000), (43_000, 50_000)]
    assert read_in_pieces(stream, 4_000) == CONTENT[48_000:]
    assert blob.ranges[3] == (50_000, 70_000)  # reading on doubles the range it resumed


@pytest.mark.usefixtures("no_skips")
def test_a_failed_request_for_a_range_is_repeated_with_the_same_range() -> None:
    blob = Blob(chunk=100_000)
    stream = blob.stream(read_ahead=10_000)
    stream.seek(30_000)
    blob.changed = True
    with pytest.raises(PreconditionFailed):
        stream.read(10)
    blob.changed = False
    assert stream.tell() == 30_000
    assert stream.read(10) == CONTENT[30_000:30_010]
    assert blob.ranges == [(0, None), (30_000, 40_000)]


def test_seeking_to_where_the_stream_stands_keeps_the_body() -> None:
    blob = Blob()
    stream = blob.stream()
    stream.seek(0)
    stream.seek(0, io.SEEK_CUR)
    assert stream.read() == CONTENT
    assert blob.opened == [0]


def test_a_blob_changed_mid_read_is_a_precondition_failure_not_mixed_bytes() -> None:
    blob = Blob()
    blob.faults = {0: (20_000, TransientError("reset"))}
    stream = blob.stream()
    stream.continue_under(retrying())
    assert stream.read(10_000) == CONTENT[:10_000]
    blob.changed = True
    with pytest.raises(PreconditionFailed) as caught:
        stream.read()
    assert caught.value.from_stream
    assert stream.tell() == 10_000


def test_no_read_asks_a_body_for_more_than_one_step() -> None:
    blob = Blob(random.Random(5).randbytes(3 * STEP_BYTES + 7), chunk=10 * STEP_BYTES)
    stream = blob.stream()
    assert stream.read() == blob.content
    assert max(blob.asked) == STEP_BYTES


def test_an_empty_blob_reads_as_empty() -> None:
    blob = Blob(b"")
    with blob.stream() as stream:
        assert stream.read() == b""
        assert stream.read(10) == b""


class ResumingMemoryProvider(MemoryProvider):
    """The memory store with an HTTP provider's open_blob: the resuming stream over bodies
    scripted by ``blob``."""

    def __init__(self, blob: Blob) -> None:
        super().__init__()
        self.blob = blob

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None
                  ) -> IO[bytes]:
        return self.blob.stream()


def test_the_store_runs_each_read_in_its_layers_retried_and_named() -> None:
    blob = Blob()
    blob.faults = {0: (30_000, TransientError("reset")), 1: (1, TransientError("reset")),
                   2: (10_000, None)}
    store = Store(ResumingMemoryProvider(blob), "mem",
                  retry=RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002))
    with store.open_blob("box", "a/b.bin") as stream:
        assert isinstance(stream, Continuing)
        assert read_in_pieces(stream, 4096) == CONTENT
    assert blob.opened == [0, 30_000, 30_001, 40_001]

    blob.opened.clear()
    blob.faults = {0: (30_000, TransientError("reset")),
                   **{n: (0, TransientError("reset")) for n in range(1, 10)}}
    store = Store(ResumingMemoryProvider(blob), "mem",
                  retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002))
    stream = store.open_blob("box", "a/b.bin")
    with pytest.raises(TransientError) as caught:
        stream.read()
    error = caught.value
    assert (error.service, error.container, error.blob) == ("mem", "box", "a/b.bin")
    assert error.from_stream
    assert blob.opened == [0, 30_000, 30_000]  # 3 attempts of the read at 30000


def test_a_stream_that_does_not_resume_is_still_typed_and_not_retried() -> None:
    class Failing(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            Failing.reads += 1
            raise ConnectionResetError("reset")

    class Provider(MemoryProvider):
        def open_blob(self, container: str, blob_path: str, snapshot: str | None = None
                      ) -> IO[bytes]:
            return io.BufferedReader(Failing())

    store = Store(Provider(), "mem", retry=RetryPolicy(attempts=4, base_delay=0.001))
    stream = store.open_blob("box", "a.bin")
    with pytest.raises(StoreError) as caught:
        stream.read()
    assert isinstance(caught.value, TransientError)
    assert (caught.value.container, caught.value.blob) == ("box", "a.bin")
    assert Failing.reads == 1


@pytest.mark.parametrize("how", ["for line in stream", "next(stream)", "readline()"])
def test_line_reads_that_raise_leave_the_stream_at_the_line_they_started(how: str) -> None:
    lines = b"".join(b"line %05d\n" % number for number in range(5000))
    blob = Blob(lines, chunk=1000)
    blob.faults = {0: (20_000, TransientError("reset")), 1: (7_000, TransientError("reset"))}
    stream = open_ranged(blob.open_range, blob.expected(), blob.open_at(0))
    got: list[bytes] = []
    failures = 0
    while True:
        try:
            if how == "for line in stream":
                got.extend(stream)
                break
            line = next(stream, b"") if how == "next(stream)" else stream.readline()
        except TransientError:
            failures += 1
            continue
        if not line:
            break
        got.append(line)
    assert failures == 2
    assert b"".join(got) == lines
