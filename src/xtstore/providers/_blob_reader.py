"""The one ``open_blob`` stream of the providers that read over HTTP (Azure, S3): a blob read
from bodies of byte ranges that resume where they broke off, under the one retry policy
(docs/contract.md §1, "Retry" and "Streaming"; :mod:`xtstore.continuation`).

The provider makes the call's first request itself (the whole blob, open-ended) and gives
:func:`open_ranged` that body, what the whole content must be
(:class:`~xtstore.providers._shared.Expected`) and ``open_range(start, end)``: a new body of
the bytes ``[start, end)`` (``end`` None: to the blob's end), pinned to the version first read
(an etag condition, or the snapshot), so that a resume never mixes two versions.

Which range a read asks for (:class:`ResumingReader`): reading on in order from the first
body costs no request; after a seek, a read asks for a bounded range: what it wants, at least
:data:`READ_AHEAD`; a read that goes on where that range ended asks for twice as much as
before (and to the end once that reaches it), so a sequential run after a seek costs
``log2(run / READ_AHEAD)`` requests, and random reads never leave a huge body unread (an
abandoned body costs its connection). A forward seek of at most :data:`SKIP_LIMIT` bytes
inside the open body reads through them instead of asking again. A range left mostly unread
for a read elsewhere marks the reader as random: its next range is just what the read wants,
so random reads move no more bytes than the SDK's exact ranged downloads (the read-ahead comes
back once a range is read to its end).

Each read is one step of the call: run inside the Store's layers, it may be repeated, so it
starts from the bytes already delivered. A body that fails, or ends before its range does, is
dropped, and the repeat opens another at that offset. The position moves only when a read
returns: CPython's ``BufferedReader`` drops what a raw read gave before it raised, so the
resuming has to be here, below it (and :class:`BlobStream` seeks back after a read that
raised). The checksum is computed over the bytes delivered in order from the start, across
bodies, and checked by the read that delivers the last byte, before it returns (a failed check
repeats that read). Memory is bounded by one step (:data:`STEP_BYTES`) and the SDK's chunk,
never by a range or the blob.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import partial
from typing import Any, Protocol

from xtstore.continuation import StepRunner, run_directly
from xtstore.errors import PreconditionFailed, StoreError, TransientError
from xtstore.providers._shared import Expected

__all__ = ["READ_AHEAD", "READ_STEP", "SKIP_LIMIT", "BlobStream", "Body", "OpenRange",
           "ResumingReader", "changed_while_read", "open_ranged"]

READ_STEP = "open_blob.read"
"""The name of each read's step in logs and errors."""

STEP_BYTES = 1024 * 1024
"""The most one step reads, so the most a failed step reads again."""

READ_AHEAD = 1024 * 1024
"""The least a range opened after a seek asks for. At the 50-100 MB/s one connection to S3 or
Azure gives, 1 MiB arrives in 10-20 ms, less than a request's 20-50 ms to its first byte: a
small random read costs little more than an exact one, and small reads in order after a seek
ask again at 1, 2, 4, ... MiB (7 requests for a 100 MiB run). Larger read-aheads were slower
for random 64 KiB reads on Azurite and moto (benchmarks/bench_open_blob.py: 20 reads of a
16 MiB blob, 0.16 s at 1 MiB, 0.34 s at 4 MiB on Azurite) and win back only a request or two
per run. Peers: obstore's buffered reader asks for 1 MiB, s3fs for 5 MiB blocks."""

SKIP_LIMIT = 1024 * 1024
"""A forward seek up to this far inside the open body reads through (about 10 ms at those
speeds) instead of dropping the body and its connection for a new request."""


class Body(Protocol):
    """A response body from some offset of the blob to its end."""

    def readinto(self, buffer: memoryview, /) -> int:
        """Fill the start of ``buffer``; how many bytes (at least one, 0 only at the end)."""

    def close(self) -> None: ...


OpenRange = Callable[[int, "int | None"], Body]
"""``open_range(start, end)``: a body of the bytes ``[start, end)`` (``start`` less than
``end``; ``end`` None: to the end, and never more than the size), of the version first read;
raises ``PreconditionFailed`` if that version is gone."""


def changed_while_read() -> PreconditionFailed:
    """What ``open_at`` raises when the version first read is gone."""
    return PreconditionFailed("the blob changed while it was read (it was written after"
                              " open_blob returned); open it again to read the new content")


class ResumingReader(io.RawIOBase):
    """The raw stream under :class:`BlobStream` (see the module's description), of a blob of
    ``expected.size`` bytes (which must be known: it tells a short body from the end)."""

    def __init__(self, open_range: OpenRange, expected: Expected, first: Body | None = None,
                 *, read_ahead: int = READ_AHEAD) -> None:
        super().__init__()
        if expected.size is None:
            raise ValueError("a resuming read needs the blob's size")
        if read_ahead <= 0:
            raise ValueError("a read-ahead must be positive")
        self._open_range = open_range
        self._expected = expected
        self._size: int = expected.size
        self._read_ahead = read_ahead
        self._body = first
        self._first = first
        self._body_at = 0
        """The offset of the open body's next byte."""
        self._body_end = self._size
        """Where the open body's range ends (exclusive)."""
        self._window, self._window_end = self._size, self._size
        """The size and end of the last range asked for (at first the whole blob's, the first
        body's): a read that goes on where it ended asks for twice as much."""
        self._resume: tuple[int, int] | None = None if first is not None else (0, self._size)
        """Where the last read failed and the end of its body's range: a repeat there asks
        for the rest of that range (and the first read, without a first body, the whole)."""
        self.wanted_end: int | None = None
        """Where the read being made wants to stop (set by :class:`BlobStream`; None: not
        said): a range opened for it covers that much, if more than the read-ahead."""
        self._random = False
        """The last range was left mostly unread: ask the next for no more than is wanted."""
        self._position = 0
        self._hasher = expected.hasher()
        self._in_order = 0
        """How many bytes from the start were delivered in order (and hashed)."""
        self._run: StepRunner = run_directly

    def continue_under(self, run: StepRunner) -> None:
        self._run = run

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        # Unchecked: the BufferedReader above asks before every read it may have to undo.
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # No request and no drop here: the next read decides whether the open body still
        # serves (a short skip forward) or another range is asked for.
        self._checkClosed()
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._position + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._position = target
        return target

    def readinto(self, buffer: Any) -> int:
        self._checkClosed()
        left = self._size - self._position
        if left <= 0:
            self._drop()
            return 0
        view = memoryview(buffer).cast("B")[:min(left, STEP_BYTES)]
        if not view:
            return 0
        try:
            return self._run(READ_STEP, partial(self._step, view))
        except StoreError as error:
            # It names this stream's store and blob, never those of a store copying from it.
            error.from_stream = True
            raise

    def readall(self) -> bytes:
        # In steps of STEP_BYTES into one buffer, not RawIOBase's 8 KiB reads; one range to
        # the end.
        self.wanted_end = self._size
        buffer = bytearray(max(0, self._size - self._position))
        view = memoryview(buffer)
        filled = 0
        while filled < len(buffer):
            filled += self.readinto(view[filled:])
        view.release()
        return bytes(buffer)

    def close(self) -> None:
        self._drop()
        super().close()

    def _step(self, view: memoryview) -> int:
        """One read: it may be run again after it raised, and then starts from the same
        offset (nothing is kept of a failed run but bytes skipped in order, hashed), asking
        for the rest of the range the failed body was of."""
        start = self._position
        try:
            body = self._body_for(start, len(view))
            count = body.readinto(view)
            if not count:
                raise TransientError(
                    f"the store's response ended after {self._body_at} of the blob's"
                    f" {self._size} bytes (its range ended at {self._body_end})")
        except BaseException:
            if self._body is not None:
                self._resume = (start, self._body_end)
            self._drop()
            raise
        end = start + count
        self._body_at = end
        if end == self._body_end:
            self._random = False
            self._drop()
        if start <= self._in_order < end:
            self._hasher = self._hashed(view[self._in_order - start:count], end)
            self._in_order = end
        self._position = end
        return count

    def _body_for(self, start: int, need: int) -> Body:
        """The open body, moved on to ``start`` if that is a short skip forward inside it;
        else a new one (:meth:`_open_at`)."""
        body = self._body
        if body is not None and self._body_at != start:
            if not self._body_at < start < self._body_end or start - self._body_at > SKIP_LIMIT:
                self._leave(body)
                body = None
            else:
                self._skip_to(body, start)
        if body is None:
            body = self._body = self._open_at(start, need)
        return body

    def _leave(self, body: Body) -> None:
        """Drop the open body for a read elsewhere; a short rest of it is read out first, so
        that its connection goes back to the pool instead of being cut (a random reader
        would otherwise pay a new connection for every range)."""
        left = self._body_end - self._body_at
        # The first body (the whole blob, asked by open_blob) says nothing of the pattern.
        self._random = self._body is not self._first and 2 * left > self._window
        if left <= SKIP_LIMIT:
            with suppress(Exception):  # a body that fails here is dropped all the same
                self._skip_to(body, self._body_end)
        self._drop()

    def _skip_to(self, body: Body, start: int) -> None:
        """Read the open body on to ``start``; bytes skipped in order still go into the
        checksum (the position is not moved: a failure here repeats the read)."""
        scratch = memoryview(bytearray(min(start - self._body_at, 64 * 1024)))
        while self._body_at < start:
            count = body.readinto(scratch[:start - self._body_at])
            if not count:
                raise TransientError(f"the store's response ended after {self._body_at} of"
                                     f" the blob's {self._size} bytes")
            at, end = self._body_at, self._body_at + count
            if at <= self._in_order < end:
                self._hasher = self._hashed(scratch[self._in_order - at:count], end)
                self._in_order = end
            self._body_at = end

    def _open_at(self, start: int, need: int) -> Body:
        """A body from ``start``: the rest of the range a body that failed there was of (a
        resume); else a bounded range, twice the last one if it goes on where that ended,
        else the read-ahead, and at least what the read wants."""
        resume, self._resume = self._resume, None
        if resume is not None and resume[0] == start:
            end = resume[1]
        else:
            if start == self._window_end:
                window = max(2 * self._window, self._read_ahead)
            else:
                window = 0 if self._random else self._read_ahead
            wanted = self.wanted_end
            window = max(window, need, wanted - start if wanted is not None else 0)
            end = min(start + window, self._size)
            self._window, self._window_end = window, end
        self._resume = (start, end)  # kept if the request fails: its repeat asks the same
        body = self._open_range(start, None if end >= self._size else end)
        self._resume = None
        self._body_at, self._body_end = start, end
        return body

    def _hashed(self, data: memoryview, end: int) -> Any:
        """The hasher updated with ``data``, which ends at ``end``; at the blob's end, the
        content checked (``IntegrityError``), on a copy: if the check fails, this read is
        repeated (damage on the way, as in its last bytes, goes away on a repeat)."""
        hasher = self._hasher
        if end < self._size:
            if hasher is not None:
                hasher.update(data)
            return hasher
        if hasher is not None:
            hasher = hasher.copy() if hasattr(hasher, "copy") else copy.copy(hasher)
            hasher.update(data)
        self._expected.verify(end, hasher.digest() if hasher is not None else None)
        return hasher

    def _drop(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            with suppress(Exception):  # a broken body may fail to close too; it is gone
                body.close()


class BlobStream(io.BufferedReader):
    """What ``open_blob`` returns: a buffered :class:`ResumingReader`, whose steps the Store
    runs in its layers (it is :class:`~xtstore.continuation.Continuing`).

    A read that raises leaves the stream where it stood before: CPython's ``BufferedReader``
    drops the buffered bytes it had taken for a read whose raw read then failed, so a
    caller that went on after the error would miss them; here the stream seeks back."""

    raw: ResumingReader

    def continue_under(self, run: StepRunner) -> None:
        self.raw.continue_under(run)

    # Each read written out (no helper taking the method): the wrapper is paid on every
    # read, also those the buffer answers.

    def read(self, size: int | None = -1) -> bytes:
        position = self.tell()
        self.raw.wanted_end = None if size is None or size < 0 else position + size
        try:
            return io.BufferedReader.read(self, size)
        except BaseException:
            self._back_to(position)
            raise

    def read1(self, size: int = -1) -> bytes:
        position = self.tell()
        self.raw.wanted_end = None if size < 0 else position + size
        try:
            return io.BufferedReader.read1(self, size)
        except BaseException:
            self._back_to(position)
            raise

    def readinto(self, buffer: Any) -> int:
        position = self.tell()
        self.raw.wanted_end = position + memoryview(buffer).nbytes
        try:
            return io.BufferedReader.readinto(self, buffer)
        except BaseException:
            self._back_to(position)
            raise

    def readinto1(self, buffer: Any) -> int:
        position = self.tell()
        try:
            return io.BufferedReader.readinto1(self, buffer)
        except BaseException:
            self._back_to(position)
            raise

    def readline(self, size: int | None = -1) -> bytes:
        position = self.tell()
        try:
            return io.BufferedReader.readline(self, size)
        except BaseException:
            self._back_to(position)
            raise

    def peek(self, size: int = 0) -> bytes:
        position = self.tell()
        try:
            return io.BufferedReader.peek(self, size)
        except BaseException:
            self._back_to(position)
            raise

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __iter__(self) -> Iterator[bytes]:
        # Lines kept one by one, each read with the C type's readline (its own iteration
        # would call the readline above: two wrappers a line).
        readline = io.BufferedReader.readline
        while True:
            position = self.tell()
            try:
                line = readline(self)
            except BaseException:
                self._back_to(position)
                raise
            if not line:
                return
            yield line

    def _back_to(self, position: int) -> None:
        with suppress(Exception):
            self.seek(position)


def open_ranged(open_range: OpenRange, expected: Expected, first: Body | None = None, *,
                read_ahead: int = READ_AHEAD) -> BlobStream:
    """The stream of a blob whose first body (from offset 0 to the end) is ``first`` (None:
    opened by the first read), read on and resumed in ranges from ``open_range``."""
    return BlobStream(ResumingReader(open_range, expected, first, read_ahead=read_ahead))
