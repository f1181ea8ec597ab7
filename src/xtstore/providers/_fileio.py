"""File-descriptor helpers for ``store-file``: whole reads and writes, exact copies, and the
real path of an open file."""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import sys
from collections.abc import Callable
from contextlib import suppress

from xtstore.interface import ProgressCallback
from xtstore.providers._local import copy_fd

__all__ = [
    "O_CLOEXEC",
    "O_PATH",
    "PROC_FD",
    "copy_exact",
    "exchange_regular_file",
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
_FADVISE_FROM = 1024 * 1024
"""Smaller copies finish within the kernel's default read-ahead: the hint is a wasted call."""
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _load_renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def exchange_regular_file(source: str, dir_fd: int, name: str) -> bool:
    """Atomically swap ``source`` with the regular file ``name`` in the folder ``dir_fd``
    (``renameat2(RENAME_EXCHANGE)``); afterwards ``source`` holds the old file. False, with
    nothing changed, if ``name`` is not a regular file or the system cannot swap.

    Why: renaming a big new file over an existing one makes ext4 start writing the new file
    out at once (``auto_da_alloc``) and wait for it; a swap followed by an unlink of the old
    file does not, which halves the time to replace a large blob.
    """
    if _renameat2 is None:
        return False
    try:
        if not stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            return False
    except OSError:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(source), dir_fd, os.fsencode(name),
                        _RENAME_EXCHANGE)
    return result == 0


def real_path_of(fd: int, fallback: str) -> str:
    """The canonical path of the open file ``fd`` (``fallback``'s realpath where the system
    cannot tell)."""
    if PROC_FD:
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return os.path.realpath(fallback)


def unlink_quietly(path: str) -> None:
    """Remove ``path`` if it is there."""
    # try/except, not contextlib.suppress: this runs on every write, mostly on a missing file.
    try:  # noqa: SIM105
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_exact(source: int, dest: int, total: int, progress: ProgressCallback | None) -> None:
    """Copy exactly ``total`` bytes; ``OSError(EIO)`` if ``source`` ends early."""
    if total >= _FADVISE_FROM and hasattr(os, "posix_fadvise"):
        with suppress(OSError):  # a read-ahead hint, as cp gives; pipes refuse it
            os.posix_fadvise(source, 0, 0, os.POSIX_FADV_SEQUENTIAL)
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
