"""Helpers shared by the in-process and local-folder providers: snapshot ids, and writing a
download to a local file whole-or-nothing."""

from __future__ import annotations

import errno
import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

from xtstore.values import datetime_from_ns

__all__ = [
    "PROGRESS_CHUNK",
    "atomic_local_file",
    "copy_fd",
    "new_snapshot_id",
    "snapshot_created",
    "to_bytes",
]

PROGRESS_CHUNK = 16 * 1024 * 1024
"""Bytes between two progress callbacks (and the size of a copy step)."""

_BUFFER_SIZE = 1024 * 1024
_NO_FAST_PATH = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.ENOTSUP}
)

_counter = itertools.count()
_counter_lock = threading.Lock()


def to_bytes(text: str | bytes | bytearray | memoryview) -> bytes:
    """Blob content as bytes (``str`` is stored as UTF-8)."""
    if isinstance(text, str):
        return text.encode("utf-8")
    return bytes(text)


def new_snapshot_id() -> str:
    """An opaque snapshot id that sorts by creation time: ``<ns since epoch>-<random>``."""
    return f"{time.time_ns():020d}-{secrets.token_hex(4)}"


def snapshot_created(snapshot_id: str) -> datetime:
    """The creation time encoded in an id made by :func:`new_snapshot_id`."""
    stamp = int(snapshot_id.split("-", 1)[0])
    return datetime_from_ns(stamp)


def _temp_name(path: str) -> str:
    with _counter_lock:
        number = next(_counter)
    folder, base = os.path.split(path)
    return os.path.join(folder, f".{base}.xtstore-{os.getpid()}-{number}.tmp")


@contextmanager
def atomic_local_file(dest_fn: str, *, large: bool = False) -> Iterator[int]:
    """Yield a file descriptor to write ``dest_fn``'s new content into; on success it takes
    ``dest_fn``'s name in one step, on failure nothing is left behind. Parent folders are
    created.

    On Linux the new content goes to an unnamed file (``O_TMPFILE``) in ``dest_fn``'s folder,
    so even a process killed by ``SIGKILL`` leaves nothing; it is linked to ``dest_fn`` if
    that name is free, else linked to a temporary name and renamed over it. Elsewhere, or
    where the folder's file system cannot make unnamed files, a named temporary file next to
    ``dest_fn`` is used.

    With ``large``, an existing regular file is swapped out atomically and then unlinked
    instead: renaming over it would make ext4 write the new file out and wait for it
    (``auto_da_alloc``), which doubled the time to replace a large download."""
    from xtstore.providers._fileio import open_unnamed_in  # _fileio builds on this module

    dest = os.path.abspath(dest_fn)
    unnamed = open_unnamed_in(os.path.dirname(dest))
    if unnamed is None:
        with _named_local_file(dest, large=large) as fd:
            yield fd
        return
    folder_fd, fd = unnamed
    try:
        yield fd
        _publish_unnamed(fd, folder_fd, dest, large)
    finally:
        os.close(fd)
        os.close(folder_fd)


def _publish_unnamed(fd: int, folder_fd: int, dest: str, large: bool) -> None:
    """Give the finished unnamed file ``fd`` the name ``dest`` (in ``folder_fd``)."""
    from xtstore.providers._fileio import link_open_file

    name = os.path.basename(dest)
    try:
        link_open_file(fd, name, folder_fd)
        return
    except FileExistsError:
        pass
    temp = _temp_name(dest)
    link_open_file(fd, temp, folder_fd)  # temp is absolute
    _move_into_place(temp, dest, large)


@contextmanager
def _named_local_file(dest: str, *, large: bool) -> Iterator[int]:
    """:func:`atomic_local_file` with a named temporary file next to ``dest``."""
    temp = _temp_name(dest)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temp, flags, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        fd = os.open(temp, flags, 0o666)
    try:
        try:
            yield fd
        finally:
            os.close(fd)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _move_into_place(temp, dest, large)


def _move_into_place(temp: str, dest: str, large: bool) -> None:
    """Rename the finished file ``temp`` over ``dest``; with ``large``, swap an existing
    regular file out and unlink it instead. ``temp`` is gone afterwards, also on failure."""
    try:
        if large and _swap_in(temp, dest):
            os.unlink(temp)  # now the old file
        else:
            os.replace(temp, dest)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _swap_in(temp: str, dest: str) -> bool:
    # Imported here: _fileio builds on this module.
    from xtstore.providers._fileio import O_CLOEXEC, O_PATH, exchange_regular_file

    folder, name = os.path.split(dest)
    folder_fd = os.open(folder, O_PATH | os.O_DIRECTORY | O_CLOEXEC)
    try:
        return exchange_regular_file(temp, folder_fd, name)
    finally:
        os.close(folder_fd)


def copy_fd(
    source: int,
    dest: int,
    total: int,
    progress: Callable[[int, int], object] | None = None,
) -> int:
    """Copy ``total`` bytes from the current offsets of ``source`` to ``dest`` and return how
    many were copied (fewer if ``source`` ends early).

    Uses the kernel's copy paths (``copy_file_range``, then ``sendfile``) so no data passes
    through Python, with a bounded read/write loop as the fallback. ``progress(done, total)`` is
    called at the start and after every :data:`PROGRESS_CHUNK` bytes.
    """
    if progress is not None:
        progress(0, total)
    done = 0
    methods: list[Callable[[int, int, int], int]] = []
    if hasattr(os, "copy_file_range"):
        methods.append(lambda s, d, n: os.copy_file_range(s, d, n))
    if hasattr(os, "sendfile"):
        methods.append(lambda s, d, n: os.sendfile(d, s, None, n))
    methods.append(_read_write)
    method = methods.pop(0)
    while done < total:
        step = min(PROGRESS_CHUNK, total - done)
        try:
            copied = method(source, dest, step)
        except OSError as error:
            if error.errno not in _NO_FAST_PATH or not methods or done:
                raise
            method = methods.pop(0)
            continue
        if copied == 0:
            break
        done += copied
        if progress is not None:
            progress(done, total)
    return done


def _read_write(source: int, dest: int, count: int) -> int:
    done = 0
    while done < count:
        chunk = os.read(source, min(_BUFFER_SIZE, count - done))
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            view = view[os.write(dest, view) :]
        done += len(chunk)
    return done
