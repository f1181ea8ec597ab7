"""store-file's optional content checksums (service key ``checksum: crc32``; off by default,
see docs/reliability.md "Integrity" for what they cost): a CRC-32 of each blob written whole,
kept with its file in an extended attribute, and checked by whole-blob reads, downloads and
``open_blob`` streams read through to their end (:class:`CheckedFile`).

The attribute belongs to the file (the inode), so it arrives with the file in the same
rename, and snapshots and copies made as hard links share it. It records the size it was
computed for: an append in place grows the file past it, which makes the record stale and
the blob unchecked (never falsely refused). A file system without user extended attributes
keeps no record, and its blobs are not checked.
"""

from __future__ import annotations

import errno
import io
import os
import zlib
from typing import Any

from xtstore.providers._shared import Expected

__all__ = ["ATTRIBUTE", "NO_ATTRIBUTES", "CheckedFile", "Crc32", "expected_of", "record"]

ATTRIBUTE = "user.xtstore.crc32"
"""``<size>:<crc32 as 8 hex digits>``."""
NO_ATTRIBUTES = frozenset({errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.E2BIG,
                           errno.ENOSPC, errno.EDQUOT})
"""The errors of a file system that keeps no (more) user extended attributes."""
_READ_CHUNK = 4 * 1024 * 1024


class Crc32:
    """A running CRC-32 and size of bytes written."""

    __slots__ = ("size", "value")

    def __init__(self) -> None:
        self.value = 0
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self.value = zlib.crc32(data, self.value)
        self.size += len(data)

    def update_from(self, fd: int, size: int) -> None:
        """Add the first ``size`` bytes of the open file ``fd`` (read with ``pread``)."""
        offset = 0
        while offset < size:
            chunk = os.pread(fd, min(_READ_CHUNK, size - offset), offset)
            if not chunk:
                break
            self.update(chunk)
            offset += len(chunk)


def record(fd: int, crc: Crc32) -> None:
    """Keep ``crc`` with the file ``fd`` (nothing where the file system cannot)."""
    try:
        os.setxattr(fd, ATTRIBUTE, f"{crc.size}:{crc.value:08x}".encode("ascii"))
    except OSError as error:
        if error.errno not in NO_ATTRIBUTES:
            raise


def expected_of(fd: int, size: int) -> Expected:
    """What the open blob file ``fd``, ``size`` bytes long now, must read as: its recorded
    CRC-32 if the record is for this size, else only its size."""
    try:
        text = os.getxattr(fd, ATTRIBUTE).decode("ascii")
        recorded, _, value = text.partition(":")
        if int(recorded) == size:
            return Expected(size, "crc32", int(value, 16).to_bytes(4, "big"))
    except (OSError, ValueError, UnicodeDecodeError, OverflowError):
        pass  # no record (ENODATA), no attributes here, or not one of ours
    return Expected(size)


class CheckedFile(io.FileIO):
    """A blob file opened for reading (``open_blob`` with ``checksum: crc32``) that checks
    what it reads in order from the start against ``expected`` (the blob's recorded CRC-32
    and size): the read that reaches the recorded size raises :class:`IntegrityError` on a
    mismatch, so a stream read through to its end never delivers damaged content as whole.

    A seek to anywhere but the position checked so far turns the check off for this stream
    (a seek back to the start begins it again): reads in another order are not checked.
    Bytes appended in place after the stream was opened are read unchecked, as the record is
    of the content before them. Buffered by :class:`io.BufferedReader` like any file."""

    def __init__(self, fd: int, expected: Expected) -> None:
        super().__init__(fd, "rb")
        self._expected = expected
        self._size = expected.size or 0
        self._crc: Crc32 | None = Crc32()

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = super().readinto(view)
        if self._crc is not None and count is not None and view.nbytes:
            self._hash(view[:count])
        return count

    def readall(self) -> bytes:
        data = super().readall()
        if self._crc is not None:
            self._hash(memoryview(data))
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        buffer = bytearray(size)
        return bytes(buffer[:self.readinto(buffer)])

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = super().seek(offset, whence)
        if position == 0:
            self._crc = Crc32()
        elif self._crc is not None and position != self._crc.size:
            self._crc = None
        return position

    def _hash(self, data: memoryview) -> None:
        crc = self._crc
        assert crc is not None
        wanted = self._size - crc.size
        if data.nbytes and wanted > 0:
            crc.update(data[:wanted])
        if crc.size == self._size or not data.nbytes:  # the recorded end, or an early one
            self._crc = None
            self._expected.verify(crc.size, crc.value.to_bytes(4, "big"))
