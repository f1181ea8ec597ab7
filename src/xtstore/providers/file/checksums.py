"""store-file's optional content checksums (service key ``checksum: crc32``; off by default,
see docs/reliability.md "Integrity" for what they cost): a CRC-32 of each blob written whole,
kept with its file in an extended attribute, and checked by whole-blob reads and downloads.

The attribute belongs to the file (the inode), so it arrives with the file in the same
rename, and snapshots and copies made as hard links share it. It records the size it was
computed for: an append in place grows the file past it, which makes the record stale and
the blob unchecked (never falsely refused). A file system without user extended attributes
keeps no record, and its blobs are not checked.
"""

from __future__ import annotations

import errno
import os
import zlib

from xtstore.providers._shared import Expected

__all__ = ["ATTRIBUTE", "Crc32", "expected_of", "record"]

ATTRIBUTE = "user.xtstore.crc32"
"""``<size>:<crc32 as 8 hex digits>``."""
_NO_ATTRIBUTES = frozenset({errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.E2BIG,
                            errno.ENOSPC, errno.EDQUOT})
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
        if error.errno not in _NO_ATTRIBUTES:
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
