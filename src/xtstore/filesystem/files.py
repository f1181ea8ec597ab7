"""The file objects ``XtstoreFileSystem.open`` returns: the Store's own streams, with what
fsspec's callers look for on a file (``path``, ``fs``, ``mode``, ``size``, ``info()``, and
``commit()``/``discard()`` inside an fsspec transaction).

Reading is ``Store.open_blob``'s seekable stream (its reads ranged where the provider reads
ranges); writing is ``Store.open_blob(mode="wb")``: the content becomes the blob whole on
``close()`` and never if the writer is aborted (an exception in its ``with`` block, the file
collected unclosed).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import suppress
from types import TracebackType
from typing import IO, Any

from xtstore.writer import BlobWriter

__all__ = ["ReadableBlobFile", "WritableBlobFile"]


class ReadableBlobFile(io.BufferedIOBase):
    """A blob opened with ``mode="rb"``: every read, seek and line goes to the Store's stream.

    ``size`` is asked of the store (one properties request) the first time it is read, unless
    the filesystem knew it when it opened the blob.
    """

    def __init__(self, fs: Any, path: str, stream: IO[bytes],
                 size_of: Callable[[], int], size: int | None = None) -> None:
        super().__init__()
        self.fs = fs
        self.path = path
        self.mode = "rb"
        self._stream = stream
        self._size_of = size_of
        self._size = size

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = self._size_of()
        return self._size

    def info(self) -> dict[str, Any]:
        return dict(self.fs.info(self.path))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        return self._stream.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        self._check_open()
        read1: Callable[[int], bytes] = getattr(self._stream, "read1", self._stream.read)
        return read1(size)

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        return int(self._stream.readinto(buffer))  # type: ignore[attr-defined]

    def readinto1(self, buffer: Any) -> int:
        return self.readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        self._check_open()
        return self._stream.readline(-1 if size is None else size)

    def __iter__(self) -> Iterator[bytes]:
        self._check_open()
        return iter(self._stream)

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        self._check_open()
        return self._stream.tell()

    def close(self) -> None:
        if not self.closed:
            try:
                self._stream.close()
            finally:
                super().close()

    def __enter__(self) -> ReadableBlobFile:
        self._check_open()
        return self

    def __repr__(self) -> str:
        return f"<xtstore file {self.path!r} mode 'rb'>"

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")


class WritableBlobFile(io.BufferedIOBase):
    """A blob opened with ``mode="wb"``: the Store's :class:`~xtstore.writer.BlobWriter`.

    With ``autocommit`` (outside an fsspec transaction) ``close()`` makes the content visible.
    Inside one, ``close()`` only stops the writing; the transaction's end calls ``commit()``
    (the content becomes visible) or ``discard()`` (nothing does).
    """

    def __init__(self, fs: Any, path: str, writer: BlobWriter, *, autocommit: bool = True,
                 mode: str = "wb") -> None:
        super().__init__()
        self.fs = fs
        self.path = path
        self.mode = mode
        self.autocommit = autocommit
        self._writer = writer

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self._writer.write(data)

    def tell(self) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self._writer.tell()

    def flush(self) -> None:
        # Nothing is stored before close: the content appears whole (io's close calls this
        # first, after the writer may have committed).
        pass

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self.autocommit:
                self._writer.close()
        finally:
            super().close()

    def commit(self) -> None:
        """Make what was written the blob's content (an fsspec transaction ending)."""
        self._writer.close()

    def discard(self) -> None:
        """Drop what was written: the blob stays as it was."""
        self._writer.abort()
        super().close()

    def abort(self) -> None:
        self.discard()

    def __enter__(self) -> WritableBlobFile:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()

    def __del__(self) -> None:
        # Collected unclosed: nothing may become visible (io's __del__ would close, that is
        # commit, a half-written blob). Inside a transaction the transaction decides.
        if not self.closed:
            with suppress(Exception):
                self.discard()

    def __repr__(self) -> str:
        return f"<xtstore file {self.path!r} mode {self.mode!r}>"
