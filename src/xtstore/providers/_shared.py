"""What the providers share: blob content as bytes, snapshot ids, the reserved names under
which the object stores (store-s3, store-gcs) keep their own objects, the error for a name
that a store with real folders cannot hold, reading an HTTP ``Retry-After``, the check of
metadata sent as HTTP headers (:func:`check_header_metadata`), a store's base64 checksums as
``BlobProperties.checksums`` hex (:func:`base64_hex`), and the one integrity check of
downloaded content (:class:`Expected`, :func:`check_bytes`, :func:`verified_local_file`).
The whole-or-nothing local-file writer and the OS calls under it are in the core
(:mod:`xtstore.localfiles`)."""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import BinaryIO, NamedTuple, Protocol

from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    IntegrityError,
    InvalidArgument,
    InvalidContent,
    InvalidName,
    StoreError,
)
from xtstore.localfiles.atomic import atomic_local_file
from xtstore.values import datetime_from_ns

__all__ = [
    "CHECKSUMS",
    "CONTAINER_MARKER",
    "RESERVED_PREFIX",
    "SNAPSHOTS_PREFIX",
    "Expected",
    "VerifiedFile",
    "base64_hex",
    "check_bytes",
    "check_file",
    "check_header_metadata",
    "is_hidden_object",
    "name_clash",
    "new_snapshot_id",
    "retry_after_seconds",
    "snapshot_created",
    "snapshot_object",
    "snapshot_prefix",
    "to_bytes",
    "typed_errors",
    "unreserved_name",
    "verified_local_file",
]


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
    # os.urandom, as the secrets module uses: importing that loads hmac and OpenSSL.
    return f"{time.time_ns():020d}-{os.urandom(4).hex()}"


def snapshot_created(snapshot_id: str) -> datetime:
    """The creation time encoded in an id made by :func:`new_snapshot_id`."""
    stamp = int(snapshot_id.split("-", 1)[0])
    return datetime_from_ns(stamp)


Translation = Callable[..., StoreError | None]
"""A provider's ``translate(error, **options)``: the typed error for what its SDK raised,
or None for an exception that is not the SDK's."""


@contextmanager
def typed_errors(translate: Translation, **options: bool) -> Iterator[None]:
    """Raise the typed error ``translate`` gives for whatever is raised inside the block
    (for a provider that decides what to do next by the kind of error, docs/contract.md
    §2); what it does not know is raised as it is."""
    try:
        yield
    except Exception as error:
        typed = translate(error, **options)
        if typed is None or typed is error:
            raise
        raise typed from error


RESERVED_PREFIX = ".xtstore/"
"""Where an object store (store-s3, store-gcs) keeps its own objects; listings hide it:
``.xtstore/container`` (the container marker, created atomically, whose metadata is the
container's) and ``.xtstore/snapshots/<sha256 of blob path>/<snapshot id>`` (server-side
copies that are the blob's snapshots; hashing keeps every name short, whatever the blob
path's length, and makes one blob's snapshots one exact prefix)."""

CONTAINER_MARKER = RESERVED_PREFIX + "container"
SNAPSHOTS_PREFIX = RESERVED_PREFIX + "snapshots/"
"""The folder of every blob's snapshot folder (:func:`snapshot_prefix`)."""


def unreserved_name(blob_path: str, provider: str) -> str:
    """``blob_path`` as an object name. Raises ``InvalidName`` for the reserved prefix."""
    if blob_path.startswith(RESERVED_PREFIX):
        raise InvalidName(f"blob paths under {RESERVED_PREFIX!r} are reserved by {provider}",
                          blob=blob_path)
    return blob_path


_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")
"""What an HTTP header value carries unchanged: printable ASCII, spaces and tabs."""


def check_header_metadata(metadata: Mapping[str, str], keys: re.Pattern[str],
                          rule: str) -> dict[str, str]:
    """``metadata`` as a new dict, for a store that sends it as HTTP headers (Azure's
    ``x-ms-meta-*``, S3's ``x-amz-meta-*``): every key matching ``keys`` (``rule`` says how
    in words), no two keys equal but for case (both stores take them case-insensitively),
    every value printable ASCII. Raises :class:`InvalidArgument` naming the first that is
    not, before any request (the SDKs would send some and fail on others in ways of their
    own: an encoding error, a refused signature, a broken connection)."""
    checked = dict(metadata)
    seen: dict[str, str] = {}
    for key, value in checked.items():
        if not keys.fullmatch(key):
            raise InvalidArgument(f"metadata key {key!r} is not allowed here: {rule}")
        other = seen.setdefault(key.lower(), key)
        if other != key:
            raise InvalidArgument(f"metadata keys {other!r} and {key!r} differ only in case,"
                                  " and this store takes keys case-insensitively")
        if not _HEADER_VALUE.fullmatch(value):
            raise InvalidArgument(f"metadata value of {key!r} is not allowed here: values"
                                  " are sent as HTTP headers, so printable ASCII only"
                                  f" (not {value!r})")
    return checked


def is_hidden_object(name: str) -> bool:
    """True for object names listings never show: reserved objects and folder markers
    (``a/``)."""
    return name.startswith(RESERVED_PREFIX) or name.endswith("/")


def snapshot_prefix(blob_path: str) -> str:
    """The name prefix under which exactly this blob's snapshots live."""
    import hashlib  # here, as below: store-file's start-up loads no OpenSSL hashes

    return SNAPSHOTS_PREFIX + hashlib.sha256(blob_path.encode("utf-8")).hexdigest() + "/"


def snapshot_object(blob_path: str, snapshot: object, ids: re.Pattern[str]) -> str:
    """The object of one snapshot, whose ids match ``ids``. Raises ``BlobNotFound`` for an
    id the provider never made."""
    if not isinstance(snapshot, str) or not ids.fullmatch(snapshot):
        raise BlobNotFound(f"no snapshot {snapshot!r}", blob=blob_path)
    return snapshot_prefix(blob_path) + snapshot


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
        # Imported here: email.utils loads socket and more, some 6 ms of every start-up.
        from email.utils import parsedate_to_datetime

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


def base64_hex(encoded: object) -> str | None:
    """A digest as a store's headers and JSON carry it (base64) in the lower-case hex of
    ``BlobProperties.checksums``; None for none or one that is not base64."""
    if not isinstance(encoded, str) or not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


class _Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc32:
    """zlib's CRC-32 as a hasher; the digest is big-endian, as S3 sends it."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes | memoryview, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


class _Composite:
    """A checksum of checksums, as S3 keeps for a multipart object: each part (of the sizes
    given) hashed on its own, then the concatenation of their digests hashed. Bytes beyond
    the parts' total go into a digest of their own (the length check refuses them anyway)."""

    def __init__(self, factory: Callable[[], _Hasher], parts: tuple[int, ...]) -> None:
        self._factory = factory
        self._parts = parts
        self._index = 0  # the part being hashed; len(parts) once beyond them
        self._left = parts[0] if parts else 0
        self._current = factory()
        self._started = False
        self._digests: list[bytes] = []

    def _close_full_parts(self) -> None:
        while self._index < len(self._parts) and self._left == 0:
            self._digests.append(self._current.digest())
            self._current = self._factory()
            self._started = False
            self._index += 1
            self._left = self._parts[self._index] if self._index < len(self._parts) else 0

    def update(self, data: bytes | memoryview, /) -> None:
        view = memoryview(data).cast("B")
        while len(view):
            self._close_full_parts()
            beyond = self._index >= len(self._parts)
            take = len(view) if beyond else min(self._left, len(view))
            self._current.update(view[:take])
            self._started = True
            view = view[take:]
            if not beyond:
                self._left -= take

    def digest(self) -> bytes:
        self._close_full_parts()
        digests = [*self._digests, *([self._current.digest()] if self._started else [])]
        whole = self._factory()
        whole.update(b"".join(digests))
        return whole.digest()


def _standard_hasher(algorithm: str) -> _Hasher:
    import hashlib

    hasher: _Hasher = hashlib.new(algorithm)
    return hasher


CHECKSUMS: dict[str, Callable[[], _Hasher]] = {
    "md5": partial(_standard_hasher, "md5"),
    "sha1": partial(_standard_hasher, "sha1"),
    "sha256": partial(_standard_hasher, "sha256"),
    "crc32": _Crc32,
}
"""The digests xtstore computes itself (the standard library's); a store's other checksums
(CRC32C, CRC64) are left to its SDK or not checked."""

_CHECK_CHUNK = 4 * 1024 * 1024


class Expected(NamedTuple):
    """What downloaded content must be: ``size`` bytes long and, when the store keeps a
    checksum of the whole blob, hashing to ``digest`` under ``algorithm`` (a key of
    :data:`CHECKSUMS`). None means "not known": that part is not checked."""

    size: int | None = None
    algorithm: str | None = None
    digest: bytes | None = None
    parts: tuple[int, ...] = ()
    """Where ``digest`` is a composite checksum (S3's of a multipart object): the sizes of
    the parts, in order; ``digest`` is then the checksum of their checksums concatenated."""

    @classmethod
    def from_base64(cls, size: int | None, algorithm: str | None,
                    encoded: str | None, parts: tuple[int, ...] = ()) -> Expected:
        """With a base64 digest as HTTP headers carry it; an unreadable one is not checked."""
        if algorithm is None or not encoded:
            return cls(size)
        try:
            digest = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return cls(size)
        return cls(size, algorithm, digest, parts)

    @property
    def checks_content(self) -> bool:
        return self.algorithm in CHECKSUMS and self.digest is not None

    def hasher(self) -> _Hasher | None:
        if not (self.checks_content and self.algorithm):
            return None
        factory = CHECKSUMS[self.algorithm]
        return _Composite(factory, self.parts) if self.parts else factory()

    def verify(self, size: int, digest: bytes | None) -> None:
        """Raise :class:`IntegrityError` unless ``size`` (and ``digest``, if computed) match."""
        if self.size is not None and size != self.size:
            raise IntegrityError(f"got {size} bytes where the store has {self.size}",
                                 algorithm="length")
        if digest is not None and self.digest is not None and digest != self.digest:
            kind = f"composite {self.algorithm}" if self.parts else self.algorithm
            raise IntegrityError(
                f"content does not match the store's {kind} checksum "
                f"(expected {self.digest.hex()}, got {digest.hex()})",
                algorithm=self.algorithm)


def check_bytes(data: bytes, expected: Expected) -> bytes:
    """``data`` if it matches ``expected``; else :class:`IntegrityError`."""
    hasher = expected.hasher()
    if hasher is not None:
        hasher.update(data)
    expected.verify(len(data), hasher.digest() if hasher is not None else None)
    return data


def check_file(fd: int, expected: Expected) -> None:
    """Raise :class:`IntegrityError` unless the open file ``fd`` matches ``expected``."""
    size = os.fstat(fd).st_size
    hasher = expected.hasher()
    if hasher is not None:
        buffer = bytearray(min(_CHECK_CHUNK, size) or 1)  # a small file, a small buffer
        view = memoryview(buffer)
        offset = 0
        while (count := os.preadv(fd, [view], offset)) > 0:
            hasher.update(view[:count])
            offset += count
    expected.verify(size, hasher.digest() if hasher is not None else None)


class VerifiedFile:
    """The download in progress of :func:`verified_local_file`: write to :attr:`file`, and
    say what the content must be with :meth:`expect` once the store has told."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.expected = Expected()

    def expect(self, expected: Expected) -> None:
        self.expected = expected

    def restart(self) -> None:
        """Start the content again (a download restarted from its first byte)."""
        if self.file.tell():  # never truncate a fresh file: on ext4 that makes close()
            self.file.seek(0)  # flush the whole download synchronously
            self.file.truncate()


@contextmanager
def verified_local_file(dest_fn: str, *, large: bool = False) -> Iterator[VerifiedFile]:
    """The one way a provider downloads into a local file: verify, then install, else
    remove. Like :func:`~xtstore.localfiles.atomic.atomic_local_file`, but before the new
    file takes ``dest_fn``'s name its length and, where the store gave one, its checksum are
    checked against what the block set with :meth:`VerifiedFile.expect`; on a mismatch
    :class:`IntegrityError` is raised and nothing is left at ``dest_fn``."""
    with atomic_local_file(dest_fn, large=large) as fd, \
            os.fdopen(fd, "wb", closefd=False) as out:
        download = VerifiedFile(out)
        yield download
        out.flush()
        if download.expected != Expected():
            check_file(fd, download.expected)
