"""Helpers shared by every provider: blob content as bytes, snapshot ids, and the one
whole-or-nothing writer of a download to a local file (:func:`atomic_local_file`). The OS
calls under it are in :mod:`xtstore.providers._fileio`, which imports nothing from here."""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

from xtstore.providers._fileio import (
    O_CLOEXEC,
    O_PATH,
    PROGRESS_CHUNK,
    copy_fd,
    exchange_regular_file,
    link_open_file,
    open_unnamed_in,
)
from xtstore.values import datetime_from_ns

__all__ = [
    "PROGRESS_CHUNK",
    "atomic_local_file",
    "copy_fd",
    "new_snapshot_id",
    "snapshot_created",
    "to_bytes",
]

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
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
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
