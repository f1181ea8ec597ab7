"""Where ``store-gcs`` keeps its own objects: the reserved names of
:data:`xtstore.providers._shared.RESERVED_PREFIX` (the container marker, created with
``ifGenerationMatch=0`` so that ``create_container`` is atomic, and snapshots as server-side
copies, ids by :func:`xtstore.providers._shared.new_snapshot_id`), and
``.xtstore/pieces/<random>``: an append's new bytes, composed onto the blob, then deleted.
"""

from __future__ import annotations

import re
import secrets

from xtstore.providers._shared import RESERVED_PREFIX, snapshot_object, unreserved_name

__all__ = ["check_blob_name", "new_piece_name", "snapshot_name"]

_PIECES = RESERVED_PREFIX + "pieces/"
_SNAPSHOT_ID = re.compile(r"\d{20}-[0-9a-f]{8}")


def check_blob_name(blob_path: str) -> str:
    """``blob_path`` as a GCS object name. Raises ``InvalidName`` for the reserved prefix."""
    return unreserved_name(blob_path, "store-gcs")


def snapshot_name(blob_path: str, snapshot: str) -> str:
    """The object of one snapshot. Raises ``BlobNotFound`` for an id this provider never
    made."""
    return snapshot_object(blob_path, snapshot, _SNAPSHOT_ID)


def new_piece_name() -> str:
    """A fresh name for an append's piece."""
    return _PIECES + secrets.token_hex(16)
