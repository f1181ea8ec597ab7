"""Where ``store-s3`` keeps its own objects: the reserved names of
:data:`xtstore.providers._shared.RESERVED_PREFIX` (the container marker, created with
``If-None-Match: *`` so that ``create_container`` is atomic, and snapshots as server-side
copies; blob paths may be 1024 bytes, the S3 key limit, and snapshot keys stay short), with
store-s3's own snapshot ids.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from xtstore.providers._shared import snapshot_object, unreserved_name

__all__ = ["check_blob_key", "new_snapshot_id", "snapshot_key"]

_SNAPSHOT_ID = re.compile(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}")


def check_blob_key(blob_path: str) -> str:
    """``blob_path`` as an S3 key. Raises ``InvalidName`` for the reserved prefix."""
    return unreserved_name(blob_path, "store-s3")


def new_snapshot_id(now: datetime | None = None) -> str:
    """A fresh id: UTC time (so ids sort oldest first) and a random tail (so they are unique)."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(4)}"


def snapshot_key(blob_path: str, snapshot: str) -> str:
    """The key of one snapshot. Raises ``BlobNotFound`` for an id this provider never made."""
    return snapshot_object(blob_path, snapshot, _SNAPSHOT_ID)
