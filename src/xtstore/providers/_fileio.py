"""File-descriptor helpers for ``store-file``: whole reads and writes, exact copies, and the
real path of an open file."""

from __future__ import annotations

import errno
import os
from contextlib import suppress

from xtstore.interface import ProgressCallback
from xtstore.providers._local import copy_fd

__all__ = [
    "O_CLOEXEC",
    "O_PATH",
    "PROC_FD",
    "copy_exact",
    "read_all",
    "real_path_of",
    "unlink_quietly",
    "write_all",
]

O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
O_PATH: int = getattr(os, "O_PATH", os.O_RDONLY)
"""Open for stat/link only (Linux); plain read-only elsewhere."""
PROC_FD = os.path.isdir("/proc/self/fd")

_FIRST_READ = 64 * 1024


def real_path_of(fd: int, fallback: str) -> str:
    """The canonical path of the open file ``fd`` (``fallback``'s realpath where the system
    cannot tell)."""
    if PROC_FD:
        with suppress(OSError):
            return os.readlink(f"/proc/self/fd/{fd}")
    return os.path.realpath(fallback)


def unlink_quietly(path: str) -> None:
    """Remove ``path`` if it is there."""
    with suppress(FileNotFoundError):
        os.unlink(path)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_exact(source: int, dest: int, total: int, progress: ProgressCallback | None) -> None:
    """Copy exactly ``total`` bytes; ``OSError(EIO)`` if ``source`` ends early."""
    copied = copy_fd(source, dest, total, progress)
    if copied != total:
        raise OSError(errno.EIO, f"source ended after {copied} of {total} bytes")


def read_all(fd: int) -> bytes:
    """Everything from the current offset to the end. Raises ``IsADirectoryError`` for a
    folder."""
    # Most blobs fit in the first read, which saves an fstat; a short read of a regular file
    # means its end.
    first = os.read(fd, _FIRST_READ)
    if len(first) < _FIRST_READ:
        return first
    remaining = os.fstat(fd).st_size - len(first)
    chunks = [first]
    while chunk := os.read(fd, max(remaining + 1, _FIRST_READ)):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
