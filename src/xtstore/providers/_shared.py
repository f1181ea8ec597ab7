"""What the providers share: blob content as bytes and snapshot ids. The whole-or-nothing
local-file writer and the OS calls under it are in the core (:mod:`xtstore.localfiles`)."""

from __future__ import annotations

import secrets
import time
from datetime import datetime

from xtstore.values import datetime_from_ns

__all__ = ["new_snapshot_id", "snapshot_created", "to_bytes"]


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
