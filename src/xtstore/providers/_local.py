"""Helpers shared by the in-process and local-folder providers: snapshot ids, and writing a
download to a local file whole-or-nothing."""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone

__all__ = ["PROGRESS_CHUNK", "atomic_local_file", "new_snapshot_id", "snapshot_created", "to_bytes"]

PROGRESS_CHUNK = 16 * 1024 * 1024
"""Bytes between two progress callbacks (and the size of a copy step)."""

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
    return datetime.fromtimestamp(stamp / 1e9, tz=timezone.utc)


def _temp_name(path: str) -> str:
    with _counter_lock:
        number = next(_counter)
    folder, base = os.path.split(path)
    return os.path.join(folder, f".{base}.xtstore-{os.getpid()}-{number}.tmp")


@contextmanager
def atomic_local_file(dest_fn: str) -> Iterator[int]:
    """Yield a file descriptor to write ``dest_fn``'s new content into; on success it replaces
    ``dest_fn`` in one rename, on failure nothing is left behind. Parent folders are created."""
    dest = os.path.abspath(dest_fn)
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
        os.replace(temp, dest)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
