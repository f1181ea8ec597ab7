"""Plain frozen value types returned by every provider (docs/contract.md §1, "Value types").

Listings, properties and snapshots are these objects, never an SDK's, so that code written
against one provider runs unchanged on another.

``.metadata`` is a plain ``dict`` (``json.dumps`` takes it), a fresh copy on every access, so
the values stay immutable: changing the dict you got changes nothing stored in the value.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "BlobInfo",
    "BlobProperties",
    "Capabilities",
    "ContainerInfo",
    "SnapshotInfo",
    "Support",
    "datetime_from_ns",
]


_from_timestamp = datetime.fromtimestamp
_UTC = timezone.utc


def datetime_from_ns(modified_ns: int) -> datetime:
    """The timezone-aware UTC datetime for nanoseconds since the epoch."""
    # Positional: the keyword form costs twice as much, and listings call this per blob.
    return _from_timestamp(modified_ns / 1e9, _UTC)


MetadataItems = tuple[tuple[str, str], ...]


def frozen_items(metadata: Mapping[str, str] | None) -> MetadataItems:
    """How the value types hold a mapping: sorted items, immutable, picklable, and equal
    whatever order the store gave them in."""
    return tuple(sorted(metadata.items())) if metadata else ()


_set = object.__setattr__


@dataclass(frozen=True, slots=True, init=False)
class BlobProperties:
    """What a store knows about one blob's content.

    ``last_modified`` is timezone-aware UTC; ``modified_ns`` is the same instant in ns since the
    epoch. ``metadata`` is filled by ``get_blob_properties``, and in listings only where
    ``Capabilities.listing_metadata`` (else it is empty there).
    ``checksums`` holds the content hashes the store itself keeps, by algorithm (see
    :data:`CHECKSUM_ALGORITHMS`), lower-case hex: empty where it keeps none (store-file) or
    none that hashes the content alone (an S3 multipart ETag).
    """

    content_length: int
    last_modified: datetime
    modified_ns: int
    etag: str
    content_type: str | None
    _metadata: MetadataItems = field(repr=False)
    """The metadata's items, sorted; ``.metadata`` hands out dicts of them."""
    _checksums: MetadataItems = field(repr=False)

    def __init__(
        self,
        content_length: int,
        last_modified: datetime,
        modified_ns: int,
        etag: str,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        checksums: Mapping[str, str] | None = None,
    ) -> None:
        _set(self, "content_length", content_length)
        _set(self, "last_modified", last_modified)
        _set(self, "modified_ns", modified_ns)
        _set(self, "etag", etag)
        _set(self, "content_type", content_type)
        _set(self, "_metadata", frozen_items(metadata))
        _set(self, "_checksums", frozen_items(checksums))

    @property
    def metadata(self) -> dict[str, str]:
        """The blob's metadata: a new plain dict on each access."""
        return dict(self._metadata)

    @property
    def checksums(self) -> dict[str, str]:
        """The store's own content hashes, ``{"md5": "9e10...", ...}``: a new dict each time."""
        return dict(self._checksums)

    @classmethod
    def from_ns(
        cls,
        content_length: int,
        modified_ns: int,
        etag: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        checksums: Mapping[str, str] | None = None,
    ) -> BlobProperties:
        """Build from a nanosecond timestamp (the file system's native form)."""
        return cls(
            content_length=content_length,
            last_modified=datetime_from_ns(modified_ns),
            modified_ns=modified_ns,
            etag=etag,
            content_type=content_type,
            metadata=metadata,
            checksums=checksums,
        )

    @classmethod
    def from_datetime(
        cls,
        content_length: int,
        last_modified: datetime,
        etag: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        checksums: Mapping[str, str] | None = None,
    ) -> BlobProperties:
        """Build from a datetime (the cloud SDKs' form); naive datetimes are taken as UTC."""
        if last_modified.tzinfo is None:
            last_modified = last_modified.replace(tzinfo=timezone.utc)
        last_modified = last_modified.astimezone(timezone.utc)
        delta = last_modified - datetime(1970, 1, 1, tzinfo=timezone.utc)
        modified_ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000
        modified_ns += delta.microseconds * 1_000
        return cls(
            content_length=content_length,
            last_modified=last_modified,
            modified_ns=modified_ns,
            etag=etag,
            content_type=content_type,
            metadata=metadata,
            checksums=checksums,
        )


CHECKSUM_ALGORITHMS = ("md5", "crc32c", "sha256", "crc32")
"""The keys of ``BlobProperties.checksums``: MD5 (Azure's Content-MD5, a single-part S3 ETag,
GCS's md5Hash), CRC32C (GCS's crc32c, as 8 hex digits), SHA-256 and CRC-32 (zlib's, 8 hex
digits big-endian: S3's full-object ChecksumCRC32, the one checksum of the whole content an
S3 multipart object that xtstore wrote has)."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """One entry of ``list_blobs(return_names=False)``, or the result of ``get_blob_properties``.

    Folder entries (``recursive=False`` only) have ``is_dir=True``, a name ending in ``/`` and
    ``properties=None``.
    """

    name: str
    is_dir: bool = False
    properties: BlobProperties | None = None

    @property
    def metadata(self) -> dict[str, str]:
        """The blob's metadata as a new plain dict (empty for listing entries and folders)."""
        return self.properties.metadata if self.properties is not None else {}


@dataclass(frozen=True, slots=True, init=False)
class ContainerInfo:
    """``get_container_properties`` result."""

    name: str
    last_modified: datetime
    _metadata: MetadataItems = field(repr=False)
    """The metadata's items, sorted; ``.metadata`` hands out dicts of them."""

    def __init__(
        self, name: str, last_modified: datetime, metadata: Mapping[str, str] | None = None
    ) -> None:
        _set(self, "name", name)
        _set(self, "last_modified", last_modified)
        _set(self, "_metadata", frozen_items(metadata))

    @property
    def metadata(self) -> dict[str, str]:
        """The container's metadata: a new plain dict on each access."""
        return dict(self._metadata)


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """``snapshot_blob`` result: ``snapshot`` is an opaque id for ``get_blob_to_path`` and
    ``delete_blob``."""

    container: str
    blob: str
    snapshot: str
    created: datetime


class Support(enum.Enum):
    """How a store provides a feature."""

    NATIVE = "native"
    """The store does it itself (e.g. Azure append blobs)."""
    EMULATED = "emulated"
    """The provider builds it from other operations, with the same observable behaviour."""
    UNSUPPORTED = "unsupported"
    """Calls raise :class:`xtstore.errors.Unsupported`; the conformance suite skips them."""

    @property
    def available(self) -> bool:
        return self is not Support.UNSUPPORTED


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a store does natively, emulates, or cannot do (``StoreInterface.capabilities()``).

    ``shared_between_processes`` says whether two processes that open the same service see the
    same blobs (False for ``store-memory``); the conformance suite runs its concurrency
    clauses with threads instead of processes where it is False. ``local`` says whether the
    blobs live on this machine, in local files or this process's memory (``store-file``,
    ``store-memory``, ``store-fsspec`` on ``file://`` or ``memory://``): a call costs no
    network round trip, so the CLI moves many small files with one worker instead of a pool.
    """

    append: Support = Support.EMULATED
    snapshots: Support = Support.EMULATED
    conditional_writes: Support = Support.EMULATED
    server_side_copy: Support = Support.EMULATED
    metadata: Support = Support.EMULATED
    shared_between_processes: bool = True
    local: bool = False
    content_types: bool = False
    """Whether the provider's ``create_blob``, ``create_blob_from_path``,
    ``create_blob_from_stream`` and ``open_blob_writer`` take a keyword ``content_type`` and
    store it (read back in ``BlobProperties.content_type``); the Store passes it only then."""
    create_metadata: bool = False
    """Whether the same four methods take a keyword ``metadata`` and store it with the content
    in the one write (no reader sees the content without it); the Store passes it only then
    and otherwise sets it with ``set_blob_metadata`` after the write."""
    listing_metadata: bool = False
    """Whether the ``BlobInfo.properties`` of the provider's ``iter_blobs`` and
    ``list_blobs(return_names=False)`` carry each blob's metadata: the same dict
    ``get_blob_properties`` gives (read in the same listing, no request per blob). Where it
    is False, listing entries have empty metadata and a caller that needs it (``sync``'s
    modification times) reads ``get_blob_properties`` per blob."""
    download_properties: bool = False
    """Whether the provider's ``get_blob_to_path`` of a blob returns the ``BlobProperties`` of
    the version it wrote, read from the response(s) that carried the content
    (docs/contract.md, "get_blob_to_path returns"). Where it is False the download returns
    None and a caller that needs them (``download`` and ``sync`` keeping modification times)
    reads ``get_blob_properties`` first: one more request per file."""
