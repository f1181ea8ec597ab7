"""The one whole-or-nothing writer of a local file, used by every provider's downloads and
by the adapter: new content takes the destination's name in one step, or nothing is left.
The OS calls under it are in :mod:`xtstore.localfiles.oscalls`."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from xtstore.localfiles.oscalls import (
    O_CLOEXEC,
    O_PATH,
    exchange_regular_file,
    link_open_file,
    open_unnamed_in,
)

__all__ = ["atomic_local_file", "atomic_local_path"]

_counter = itertools.count()
_counter_lock = threading.Lock()


def _temp_name(path: str) -> str:
    with _counter_lock:
        number = next(_counter)
    folder, base = os.path.split(path)
    return os.path.join(folder, f".{base}.xtstore-{os.getpid()}-{number}.tmp")


@contextmanager
def atomic_local_file(dest_fn: str, *, large: bool = False) -> Iterator[int]:
    """Yield a file descriptor (open for reading too) to write ``dest_fn``'s new content
    into; on success it takes ``dest_fn``'s name in one step, on failure nothing is left
    behind. Parent folders are created.

    On Linux the new content goes to an unnamed file (``O_TMPFILE``) in ``dest_fn``'s folder,
    so even a process killed by ``SIGKILL`` leaves nothing; it is linked to ``dest_fn`` if
    that name is free, else linked to a temporary name and renamed over it. Elsewhere, or
    where the folder's file system cannot make unnamed files, a named temporary file next to
    ``dest_fn`` is used.

    With ``large``, an existing regular file is swapped out atomically and then unlinked
    instead: renaming over it would make ext4 write the new file out and wait for it
    (``auto_da_alloc``), which doubled the time to replace a large download."""
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
def atomic_local_path(dest_fn: str, *, large: bool = False) -> Iterator[str]:
    """Yield a temporary path next to ``dest_fn`` for a writer that needs a path, not a file
    descriptor (a foreign provider's ``get_blob_to_path``); on success the file written there
    takes ``dest_fn``'s name in one step, on failure it is removed. Parent folders are
    created. A process killed meanwhile leaves that named file: use
    :func:`atomic_local_file` wherever a file descriptor will do."""
    dest = os.path.abspath(dest_fn)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    temp = _temp_name(dest)
    try:
        yield temp
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _move_into_place(temp, dest, large)


@contextmanager
def _named_local_file(dest: str, *, large: bool) -> Iterator[int]:
    """:func:`atomic_local_file` with a named temporary file next to ``dest``."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | O_CLOEXEC  # read back by integrity checks
    with atomic_local_path(dest, large=large) as temp:
        fd = os.open(temp, flags, 0o666)
        try:
            yield fd
        finally:
            os.close(fd)


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
    folder, name = os.path.split(dest)
    folder_fd = os.open(folder, O_PATH | os.O_DIRECTORY | O_CLOEXEC)
    try:
        return exchange_regular_file(temp, folder_fd, name)
    finally:
        os.close(folder_fd)
