"""Where ``store-s3`` keeps its own objects: a reserved key prefix that listings hide.

* ``.xtstore/container``: the container marker, created with ``If-None-Match: *`` so that
  ``create_container`` is atomic; its user metadata is the container's metadata.
* ``.xtstore/snapshots/<sha256 of blob path>/<snapshot id>``: server-side copies that are the
  blob's snapshots. Hashing keeps every snapshot key short (blob paths may be 1024 bytes, the
  S3 key limit) and makes one blob's snapshots one exact prefix.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timezone

from xtstore.errors import BlobNotFound, InvalidName

__all__ = [
    "CONTAINER_MARKER",
    "RESERVED_PREFIX",
    "check_blob_key",
    "is_hidden_key",
    "new_snapshot_id",
    "snapshot_key",
    "snapshot_prefix",
]

RESERVED_PREFIX = ".xtstore/"
CONTAINER_MARKER = RESERVED_PREFIX + "container"
_SNAPSHOTS = RESERVED_PREFIX + "snapshots/"
_SNAPSHOT_ID = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}")


def check_blob_key(blob_path: str) -> str:
    """``blob_path`` as an S3 key. Raises ``InvalidName`` for the reserved prefix."""
    if blob_path.startswith(RESERVED_PREFIX):
        raise InvalidName(f"blob paths under {RESERVED_PREFIX!r} are reserved by store-s3",
                          blob=blob_path)
    return blob_path


def is_hidden_key(key: str) -> bool:
    """True for keys listings never show: reserved objects and folder markers (``a/``)."""
    return key.startswith(RESERVED_PREFIX) or key.endswith("/")


def snapshot_prefix(blob_path: str) -> str:
    """The key prefix under which exactly this blob's snapshots live."""
    return _SNAPSHOTS + hashlib.sha256(blob_path.encode("utf-8")).hexdigest() + "/"


def new_snapshot_id(now: datetime | None = None) -> str:
    """A fresh id: UTC time (so ids sort oldest first) and a random tail (so they are unique)."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(4)}"


def snapshot_key(blob_path: str, snapshot: str) -> str:
    """The key of one snapshot. Raises ``BlobNotFound`` for an id this provider never made."""
    if not isinstance(snapshot, str) or not _SNAPSHOT_ID.fullmatch(snapshot):
        raise BlobNotFound(f"no snapshot {snapshot!r}", blob=blob_path)
    return snapshot_prefix(blob_path) + snapshot
