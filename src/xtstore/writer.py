"""Writable blobs: what ``open_blob(..., mode="wb")`` returns (docs/contract.md §1, "Writable
blobs").

A :class:`BlobWriter` gathers what is written into parts of its sink's ``part_size`` and hands
each full part to the sink (an Azure block, an S3 part, a GCS resumable chunk, a region of an
unnamed file); ``close()`` hands over the rest and the sink makes the whole content visible at
once. Nothing becomes visible if the writer is aborted: an exception leaving its ``with``
block, :meth:`BlobWriter.abort`, or the writer collected without being closed. A killed
process leaves only what the store drops by itself (uncommitted blocks, an incomplete
multipart upload or resumable session, an unnamed file). Memory is bounded by one part.

Each part and the commit are steps of the ``open_blob`` call (:mod:`xtstore.continuation`):
under a Store they run inside its layers, under its retry policy, typed and named like the
call. A step is safe to repeat because its bytes stay in the writer until it returns, and a
sink writes part ``index`` to the same place however often it is asked.
"""

from __future__ import annotations

import io
from contextlib import suppress
from types import TracebackType
from typing import Any, Protocol

from xtstore.continuation import StepRunner, run_directly

__all__ = ["COMMIT_STEP", "WRITE_STEP", "BlobWriter", "PartSink"]

WRITE_STEP = "open_blob.write"
"""The name of each part's step in logs and errors."""

COMMIT_STEP = "open_blob.commit"
"""The name of the step that makes the content visible."""


class PartSink(Protocol):
    """Where a :class:`BlobWriter` puts its bytes: one per writable ``open_blob``."""

    part_size: int
    """How many bytes each part but the last holds."""

    def write_part(self, index: int, data: bytes) -> None:
        """Store part ``index`` (from 0) of ``part_size`` bytes; repeatable."""

    def commit(self, parts: int, tail: bytes) -> None:
        """Make the blob's whole content visible at once: the ``parts`` parts already written,
        then ``tail`` (fewer than ``part_size`` bytes, maybe none); repeatable."""

    def abort(self) -> None:
        """Drop what was written; the blob stays as it was. Called at most once, never after
        a commit that returned."""


class BlobWriter(io.BufferedIOBase):
    """A binary file object whose content becomes the blob's whole content on ``close()``.

    ``write``, ``tell`` and ``flush`` work as on a file (``flush`` stores nothing: the content
    appears only on close); it cannot read or seek.
    """

    def __init__(self, sink: PartSink) -> None:
        super().__init__()
        if sink.part_size <= 0:
            raise ValueError("a writer's part size must be positive")
        self._sink = sink
        self._part_size = sink.part_size
        self._buffer = bytearray()
        self._parts = 0
        self._position = 0
        self._run: StepRunner = run_directly
        self._finished = False

    def continue_under(self, run: StepRunner) -> None:
        self._run = run

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        self._check_open()
        return self._position

    def write(self, data: Any) -> int:
        self._check_open()
        view = memoryview(data).cast("B")
        size = len(view)
        part_size = self._part_size
        start = 0
        if self._buffer:
            start = min(size, part_size - len(self._buffer))
            self._buffer += view[:start]
            if len(self._buffer) == part_size:
                self._write_part(bytes(self._buffer))
                self._buffer.clear()
        # Whole parts straight from the caller's buffer: one copy, not two.
        while size - start >= part_size:
            self._write_part(bytes(view[start:start + part_size]))
            start += part_size
        self._buffer += view[start:]
        self._position += size
        return size

    def flush(self) -> None:
        self._check_open()

    def close(self) -> None:
        """Make what was written the blob's whole content; a failed commit aborts."""
        if self.closed:
            return
        try:
            if not self._finished:
                tail = bytes(self._buffer)
                self._run(COMMIT_STEP, lambda: self._sink.commit(self._parts, tail))
                self._finished = True
        except BaseException:
            self._abort_quietly()
            raise
        finally:
            self._buffer = bytearray()
            super().close()

    def abort(self) -> None:
        """Drop what was written: the blob stays as it was. Nothing after close()."""
        if self.closed:
            return
        try:
            self._abort_quietly()
        finally:
            self._buffer = bytearray()
            super().close()

    def __enter__(self) -> BlobWriter:
        self._check_open()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        # Collected unclosed: the writer never finished, so nothing may become visible
        # (io.IOBase would close, that is commit, a half-written blob).
        with suppress(Exception):
            self.abort()

    def _write_part(self, data: bytes) -> None:
        index = self._parts
        try:
            self._run(WRITE_STEP, lambda: self._sink.write_part(index, data))
        except BaseException:
            self.abort()
            raise
        self._parts += 1

    def _abort_quietly(self) -> None:
        if self._finished:
            return
        self._finished = True
        # The failure that led here is what the caller must see, not a failed clean-up's.
        with suppress(Exception):
            self._sink.abort()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed blob writer")
