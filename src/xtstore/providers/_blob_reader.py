"""The one ``open_blob`` stream of the providers that read over HTTP (Azure, S3): a blob read
from a body that resumes where it broke off, under the one retry policy (docs/contract.md §1,
"Retry"; :mod:`xtstore.continuation`).

The provider makes the call's first request itself and gives :func:`open_resuming` that body,
what the whole content must be (:class:`~xtstore.providers._shared.Expected`) and
``open_at(offset)``: a new body from that offset to the end, pinned to the version first read
(an etag condition, or the snapshot), so that a resume never mixes two versions. Each read is
one step of the call: run inside the Store's layers, it may be repeated, so it starts from the
bytes already delivered. A body that fails, or ends before the blob's size, is dropped, and
the repeat opens another at that offset. The position moves only when a read returns: CPython's
``BufferedReader`` drops what a raw read gave before it raised, so the resuming has to be
here, below it (and :class:`BlobStream` seeks back after a read that raised). The checksum is
computed over the bytes delivered in order, across bodies, and checked by the read that
delivers the last byte, before it returns (a failed check repeats that read); a seek drops the
body, and the next read opens one at the new offset. Memory is bounded by the reads, never the
blob.
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

__all__ = ["READ_STEP", "BlobStream", "Body", "ResumingReader", "changed_while_read",
           "open_resuming"]

READ_STEP = "open_blob.read"
"""The name of each read's step in logs and errors."""

STEP_BYTES = 1024 * 1024
"""The most one step reads, so the most a failed step reads again."""


class Body(Protocol):
    """A response body from some offset of the blob to its end."""

    def readinto(self, buffer: memoryview, /) -> int:
        """Fill the start of ``buffer``; how many bytes (at least one, 0 only at the end)."""

    def close(self) -> None: ...


OpenAt = Callable[[int], Body]
"""``open_at(offset)``: a body from ``offset`` (less than the size) to the end, of the version
first read; raises ``PreconditionFailed`` if that version is gone."""


def changed_while_read() -> PreconditionFailed:
    """What ``open_at`` raises when the version first read is gone."""
    return PreconditionFailed("the blob changed while it was read (it was written after"
                              " open_blob returned); open it again to read the new content")


class ResumingReader(io.RawIOBase):
    """The raw stream under :class:`BlobStream` (see the module's description), of a blob of
    ``expected.size`` bytes (which must be known: it tells a short body from the end)."""

    def __init__(self, open_at: OpenAt, expected: Expected, first: Body | None = None) -> None:
        super().__init__()
        if expected.size is None:
            raise ValueError("a resuming read needs the blob's size")
        self._open_at = open_at
        self._expected = expected
        self._size: int = expected.size
        self._body = first
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
        if target != self._position:
            self._drop()
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
        # In steps of STEP_BYTES into one buffer, not RawIOBase's 8 KiB reads.
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
        offset (nothing is kept of a failed run)."""
        start = self._position
        try:
            body = self._body
            if body is None:
                body = self._body = self._open_at(start)
            count = body.readinto(view)
        except BaseException:
            self._drop()
            raise
        if not count:
            self._drop()
            raise TransientError(
                f"the store's response ended after {start} of the blob's {self._size} bytes")
        end = start + count
        if end == self._size:
            self._drop()
        if start <= self._in_order < end:
            self._hasher = self._hashed(view[self._in_order - start:count], end)
            self._in_order = end
        self._position = end
        return count

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
        try:
            return io.BufferedReader.read(self, size)
        except BaseException:
            self._back_to(position)
            raise

    def read1(self, size: int = -1) -> bytes:
        position = self.tell()
        try:
            return io.BufferedReader.read1(self, size)
        except BaseException:
            self._back_to(position)
            raise

    def readinto(self, buffer: Any) -> int:
        position = self.tell()
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


def open_resuming(open_at: OpenAt, expected: Expected, first: Body | None = None
                  ) -> BlobStream:
    """The stream of a blob whose first body (from offset 0) is ``first`` (None: opened by the
    first read), resumed with ``open_at``."""
    return BlobStream(ResumingReader(open_at, expected, first))
