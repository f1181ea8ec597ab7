"""What tells two copies of a file apart without reading them: size, modification time and,
with ``--checksum``, a content hash (docs/cli.md "sync").

A blob keeps its source file's modification time in the metadata key ``mtime`` as decimal
seconds since the epoch (``"1764633600.123456789"``, rclone's form on S3); rclone's RFC 3339
form (its choice on Azure) is read too. A blob without it is taken to be as old as its
``last_modified``. Where the store keeps no content hash of its own, uploads that hash the
file keep its SHA-256 in the metadata key ``sha256`` (lower-case hex).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import IO, Any, Protocol

from xtstore.values import BlobProperties

__all__ = [
    "HASH_PREFERENCE",
    "MTIME_KEY",
    "SHA256_KEY",
    "Crc32",
    "Crc32c",
    "blob_checksums",
    "comparable",
    "file_digest",
    "format_mtime",
    "mtime_ns",
    "new_hasher",
    "parse_mtime",
    "stream_digest",
]

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


# ---- content hashes (``--checksum``, ``xtstore check``) ----

HASH_PREFERENCE = ("md5", "sha256", "crc32", "crc32c")
"""The algorithms in the order a comparison picks them: MD5 and SHA-256 (hashlib) and CRC-32
(zlib; S3's full-object checksum of a multipart object) run in C; CRC32C has no C
implementation in the standard library and costs some 100x more in Python, so it is taken
last."""

_CHUNK = 1024 * 1024


class Hasher(Protocol):
    """What :func:`new_hasher` returns (hashlib's shape)."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


class Crc32c:
    """CRC-32C (Castagnoli), GCS's ``crc32c``, table-driven: correct but slow (some 4 MB/s):
    :func:`new_hasher` takes ``google_crc32c`` where it is installed."""

    def __init__(self) -> None:
        self._crc = 0xFFFFFFFF

    def update(self, data: bytes, /) -> None:
        crc = self._crc
        table = _CRC32C_TABLE
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    def hexdigest(self) -> str:
        return f"{self._crc ^ 0xFFFFFFFF:08x}"


class _GoogleCrc32c:
    def __init__(self, checksum: Any) -> None:
        self._checksum = checksum

    def update(self, data: bytes, /) -> None:
        self._checksum.update(data)

    def hexdigest(self) -> str:
        return str(self._checksum.digest().hex())


class Crc32:
    """CRC-32 (zlib's), as 8 hex digits."""

    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: bytes, /) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def hexdigest(self) -> str:
        return f"{self._crc:08x}"


def new_hasher(algorithm: str) -> Hasher:
    """A fresh hasher for one of :data:`HASH_PREFERENCE`. CRC32C uses ``google_crc32c`` (C;
    installed with the GCS SDK, the one store that keeps CRC32C) where it is importable,
    else :class:`Crc32c`."""
    if algorithm == "crc32c":
        try:
            import google_crc32c
        except ImportError:
            return Crc32c()
        return _GoogleCrc32c(google_crc32c.Checksum())  # type: ignore[no-untyped-call]
    if algorithm == "crc32":
        return Crc32()
    if algorithm in ("md5", "sha256"):
        import hashlib  # here: loading OpenSSL's hashes costs a no-change sync ~3 ms

        return hashlib.new(algorithm)
    raise ValueError(f"{algorithm!r} is not one of {', '.join(HASH_PREFERENCE)}")


def stream_digest(stream: IO[bytes], algorithm: str) -> str:
    """The lower-case hex ``algorithm`` digest of everything ``stream`` still holds."""
    hasher = new_hasher(algorithm)
    while chunk := stream.read(_CHUNK):
        hasher.update(chunk)
    return hasher.hexdigest()


def file_digest(path: str, algorithm: str) -> str:
    """The lower-case hex ``algorithm`` digest of the local file ``path``."""
    with open(path, "rb") as stream:
        return stream_digest(stream, algorithm)


def blob_checksums(properties: BlobProperties,
                   metadata: Mapping[str, str] | None = None) -> dict[str, str]:
    """The content hashes a blob's properties give: the store's own, and the ``sha256`` an
    upload kept in its metadata (``metadata``, else ``properties.metadata``) where the store
    has none of that algorithm."""
    found = properties.checksums
    source = properties.metadata if metadata is None else metadata
    stated = source.get(SHA256_KEY, "").strip().lower()
    if "sha256" not in found and len(stated) == 64 and all(c in "0123456789abcdef"
                                                           for c in stated):
        found["sha256"] = stated
    return found


def comparable(source: Iterable[str], dest: Iterable[str], *, source_reads: bool = True,
               dest_reads: bool = True) -> tuple[str, bool, bool]:
    """Which algorithm compares two copies most cheaply, given the algorithms each side
    already knows (``source``, ``dest``) and whether each side may compute one by reading its
    bytes (``*_reads``: a local file may; a blob only when the command was told to
    download). Returns ``(algorithm, read_source, read_dest)``: one both know (no reading);
    else one side's, read from the other; else SHA-256 read from both. Raises ``ValueError``
    when no choice works without a read that is not allowed."""
    known_source, known_dest = set(source), set(dest)
    for algorithm in HASH_PREFERENCE:
        if algorithm in known_source and algorithm in known_dest:
            return algorithm, False, False
    # One side's hash, computed from the other's bytes: CRC32C last (slow in Python).
    for algorithm in HASH_PREFERENCE:
        if algorithm in known_source and dest_reads:
            return algorithm, False, True
        if algorithm in known_dest and source_reads:
            return algorithm, True, False
    if source_reads and dest_reads:
        return "sha256", True, True
    raise ValueError("no content hash both sides can give")
