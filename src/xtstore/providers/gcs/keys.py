"""Where ``store-gcs`` keeps its own objects: a reserved name prefix that listings hide.

* ``.xtstore/container``: the container marker, created with ``ifGenerationMatch=0`` so that
  ``create_container`` is atomic; its custom metadata is the container's metadata.
* ``.xtstore/snapshots/<sha256 of blob path>/<snapshot id>``: server-side copies that are the
  blob's snapshots (hashing keeps each name short and one blob's snapshots one prefix).
* ``.xtstore/pieces/<random>``: an append's new bytes, composed onto the blob, then deleted.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from xtstore.errors import BlobNotFound, InvalidName

__all__ = [
    "CONTAINER_MARKER",
    "RESERVED_PREFIX",
    "check_blob_name",
    "is_hidden_name",
    "new_piece_name",
    "snapshot_name",
    "snapshot_prefix",
]

RESERVED_PREFIX = ".xtstore/"
CONTAINER_MARKER = RESERVED_PREFIX + "container"
_SNAPSHOTS = RESERVED_PREFIX + "snapshots/"
_PIECES = RESERVED_PREFIX + "pieces/"
_SNAPSHOT_ID = re.compile(r"\d{20}-[0-9a-f]{8}")


def check_blob_name(blob_path: str) -> str:
    """``blob_path`` as a GCS object name. Raises ``InvalidName`` for the reserved prefix."""
    if blob_path.startswith(RESERVED_PREFIX):
        raise InvalidName(f"blob paths under {RESERVED_PREFIX!r} are reserved by store-gcs",
                          blob=blob_path)
    return blob_path


def is_hidden_name(name: str) -> bool:
    """True for names listings never show: reserved objects and folder markers (``a/``)."""
    return name.startswith(RESERVED_PREFIX) or name.endswith("/")


def snapshot_prefix(blob_path: str) -> str:
    """The name prefix under which exactly this blob's snapshots live."""
    return _SNAPSHOTS + hashlib.sha256(blob_path.encode("utf-8")).hexdigest() + "/"


def snapshot_name(blob_path: str, snapshot: str) -> str:
    """The object of one snapshot. Raises ``BlobNotFound`` for an id this provider never
    made (ids are :func:`xtstore.providers._shared.new_snapshot_id`)."""
    if not isinstance(snapshot, str) or not _SNAPSHOT_ID.fullmatch(snapshot):
        raise BlobNotFound(f"no snapshot {snapshot!r}", blob=blob_path)
    return snapshot_prefix(blob_path) + snapshot


def new_piece_name() -> str:
    """A fresh name for an append's piece."""
    return _PIECES + secrets.token_hex(16)
