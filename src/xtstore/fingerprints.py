"""What tells two copies of a file apart without reading them: size, modification time and,
with ``--checksum``, a content hash (docs/cli.md "sync").

A blob keeps its source file's modification time in the metadata key ``mtime`` as decimal
seconds since the epoch (``"1764633600.123456789"``, rclone's form on S3); rclone's RFC 3339
form (its choice on Azure) is read too. A blob without it is taken to be as old as its
``last_modified``. Where the store keeps no content hash of its own, uploads that hash the
file keep its SHA-256 in the metadata key ``sha256`` (lower-case hex).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from xtstore.values import BlobProperties

__all__ = ["MTIME_KEY", "SHA256_KEY", "format_mtime", "mtime_ns", "parse_mtime"]

MTIME_KEY = "mtime"
SHA256_KEY = "sha256"

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def format_mtime(modified_ns: int) -> str:
    """``modified_ns`` (ns since the epoch) as the ``mtime`` metadata value."""
    seconds, fraction = divmod(modified_ns, _NS)
    return f"{seconds}.{fraction:09d}"


def parse_mtime(text: str) -> int | None:
    """The ns since the epoch an ``mtime`` value states, or None for one that states none."""
    text = text.strip()
    whole, dot, fraction = text.partition(".")
    if whole.isdigit() and (not dot or fraction.isdigit()):
        return int(whole) * _NS + int(fraction[:9].ljust(9, "0"))
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1000


def mtime_ns(properties: BlobProperties, metadata: Mapping[str, str] | None = None) -> int:
    """The modification time of the file a blob holds: its ``mtime`` metadata (from
    ``metadata``, else ``properties.metadata``) where it has one, else its ``last_modified``."""
    source = properties.metadata if metadata is None else metadata
    stated = source.get(MTIME_KEY)
    if stated is not None:
        parsed = parse_mtime(stated)
        if parsed is not None:
            return parsed
    return properties.modified_ns
