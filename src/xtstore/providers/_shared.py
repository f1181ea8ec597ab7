"""What the providers share: blob content as bytes, snapshot ids, the error for a name
that a store with real folders cannot hold, and reading an HTTP ``Retry-After``. The
whole-or-nothing local-file writer and the OS calls under it are in the core
(:mod:`xtstore.localfiles`)."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime

from xtstore.errors import BlobAlreadyExists, InvalidContent
from xtstore.values import datetime_from_ns

__all__ = ["name_clash", "new_snapshot_id", "retry_after_seconds", "snapshot_created", "to_bytes"]


def to_bytes(text: str | bytes | bytearray | memoryview) -> bytes:
    """Blob content as bytes (``str`` is stored as UTF-8). Raises :class:`InvalidContent` for
    text with no UTF-8 form (a lone surrogate, as ``os.fsdecode`` makes of undecodable bytes);
    the Store adds the service, container and blob."""
    if isinstance(text, str):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as error:
            where = text[error.start:error.end]
            raise InvalidContent(
                f"the text cannot be stored as UTF-8: {error.reason} {where!r} at character"
                f" {error.start}"
            ) from None
    return bytes(text)


def new_snapshot_id() -> str:
    """An opaque snapshot id that sorts by creation time: ``<ns since epoch>-<random>``."""
    return f"{time.time_ns():020d}-{secrets.token_hex(4)}"


def snapshot_created(snapshot_id: str) -> datetime:
    """The creation time encoded in an id made by :func:`new_snapshot_id`."""
    stamp = int(snapshot_id.split("-", 1)[0])
    return datetime_from_ns(stamp)


def name_clash(container: str, blob_path: str) -> BlobAlreadyExists:
    """The error for a name that is needed as both a blob and a folder, on a store whose
    folders are real (a local disk, fsspec's file:// and memory://)."""
    return BlobAlreadyExists(
        "a file store cannot hold a blob and a folder of the same name "
        "(this blob path or one of its folders is already the other kind)",
        container=container, blob=blob_path,
    )


def retry_after_seconds(
    header: str | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait (RFC 9110: delay-seconds or an HTTP
    date, the latter measured from ``now``, wall-clock seconds since the epoch); None when
    the header is absent or unreadable. A date in the past means 0."""
    if header is None:
        return None
    text = header.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - now()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
