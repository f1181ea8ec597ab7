"""``store-gcs``: Google Cloud Storage (or fake-gcs-server) on google-cloud-storage.

Containers are buckets and blobs are objects (as store-s3 maps them). What GCS lacks is
emulated with the same observable behaviour (see docs/providers/gcs.md):

* create-only writes: an upload with ``ifGenerationMatch=0``, atomic on the server;
* appends: a rewrite conditional on the generation read, or for large blobs a compose of
  [blob, new piece] conditional on it (only the appended bytes cross the network);
* snapshots: server-side copies under a reserved prefix that listings hide
  (:mod:`xtstore.providers.gcs.keys`);
* container metadata: custom metadata of a reserved marker object.

Every SDK call is made with ``retry=None`` and the service's timeouts: the Store's retry
layer is the only one. Reads are plain media GETs on the client's authorized session, so
that ``open_blob`` streams and resumes (:mod:`xtstore.providers._blob_reader`) pinned to
the generation first read, ``get_blob_range`` is one ranged GET, and downloads are checked
against the MD5 that GCS sends (``x-goog-hash``; composed objects have only a CRC32C, of
which only the length is checked here).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import io
import os
import random
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from functools import partial
from typing import IO, Any, NoReturn, TypeVar
from urllib.parse import quote

import google_crc32c
from google.api_core import exceptions as api_errors
from google.cloud import storage

from xtstore.attempts import current_attempt
from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    PreconditionFailed,
    StoreError,
    TransientError,
    Unsupported,
)
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.paging import PagedListing, list_pages
from xtstore.providers._blob_reader import changed_while_read, open_ranged
from xtstore.providers._public import provider_store_class
from xtstore.providers._shared import (
    CONTAINER_MARKER,
    RESERVED_PREFIX,
    Expected,
    base64_hex,
    is_hidden_object,
    new_snapshot_id,
    snapshot_created,
    snapshot_prefix,
    to_bytes,
    verified_local_file,
)
from xtstore.providers.gcs.config import GCSSettings
from xtstore.providers.gcs.description import DESCRIPTION
from xtstore.providers.gcs.errors import gcs_errors, http_error, translate
from xtstore.providers.gcs.keys import check_blob_name, new_piece_name, snapshot_name
from xtstore.providers.gcs.session import (
    ResumableSession,
    crc32c_base64,
    stored_other_bytes,
)
from xtstore.values import BlobInfo, BlobProperties, Capabilities, ContainerInfo, SnapshotInfo
from xtstore.writer import BlobWriter

__all__ = ["PAGE_SIZE", "GCSProvider", "GCSStore"]

T = TypeVar("T")

PAGE_SIZE = 1000
"""Objects per listing page (GCS's maximum), read at each listing (tests lower it)."""

_APPEND_BUDGET = 120.0
_MAX_PAUSE = 0.5
_READ_CHUNK = 1024 * 1024


def _utc(moment: datetime | None) -> datetime:
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _md5_of(headers: Mapping[str, str]) -> str | None:
    for part in headers.get("x-goog-hash", "").split(","):
        algorithm, _, value = part.strip().partition("=")
        if algorithm == "md5" and value:
            return value
    return None


def _expected(headers: Mapping[str, str], size: int) -> Expected:
    return Expected.from_base64(size, "md5", _md5_of(headers))


def _size_of(response: Any) -> int:
    """The whole object's size, from a 200's length or a 206's ``Content-Range``."""
    content_range = response.headers.get("Content-Range", "")
    if response.status_code == 206 and "/" in content_range:
        return int(content_range.rsplit("/", 1)[1])
    stored = response.headers.get("x-goog-stored-content-length")
    return int(stored if stored is not None else response.headers["Content-Length"])


class _Body:
    """A media GET's body as :class:`~xtstore.providers._blob_reader.Body`."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._raw = response.raw

    def readinto(self, buffer: memoryview, /) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._response.close()


class _Source:
    """The caller's stream as the SDK's uploads read it: they ask ``tell()`` (which a pipe
    cannot answer) and have no progress callback. Positions are counted here; a seek is
    passed to a seekable stream, and on any other only to where it already is."""

    def __init__(self, stream: IO[bytes], callback: ProgressCallback | None,
                 total: int | None) -> None:
        self._stream = stream
        self._callback = callback
        self._total = total
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._position += len(data)
        if self._callback is not None and data:
            total = self._total if self._total is not None else self._position
            self._callback(self._position, max(total, self._position))
        return data

    def read_exactly(self, size: int) -> bytes:
        """``size`` bytes, however many reads that takes. Raises ``ValueError`` (as the
        SDK's one-request upload does) for a stream that ends before."""
        parts = []
        count = 0
        while count < size and (data := self.read(size - count)):
            parts.append(data)
            count += len(data)
        if count < size:
            raise ValueError(f"Size {size} was specified but the file-like object only had"
                             f" {count} bytes remaining.")
        return b"".join(parts)

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET and offset == self._position:
            return offset
        self._position = self._stream.seek(offset, whence)
        return self._position


class GCSProvider(StoreInterface):
    """Google Cloud Storage or fake-gcs-server.

    Service keys: ``project``, ``endpoint-url`` (omit for GCS), ``credentials``
    (``default``, ``anonymous`` or a service-account key file), ``location``, and tuning keys
    ``chunk-size``, ``single-upload-limit``, ``append-compose-min-size``, ``timeout``.
    Raises ``ConfigError`` for a bad key.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._settings = GCSSettings.from_config(config)
        self._client = self._settings.make_client()
        timeouts = self._settings.timeouts
        self._timeout = (timeouts.connect, timeouts.read)
        self._call: dict[str, Any] = {"retry": None, "timeout": self._timeout}

    def __repr__(self) -> str:
        endpoint = self._settings.endpoint_url or "gcs"
        return f"<GCSProvider service={self._settings.service_name!r} endpoint={endpoint!r}>"

    def __reduce__(self) -> NoReturn:
        # Its credentials may hold a private key; xtstore.Store rebuilds it from config.
        raise Unsupported("a GCSProvider is moved to another process by pickling its "
                          "xtstore.Store, which rebuilds it from config",
                          service=self._settings.service_name)

    @property
    def client(self) -> storage.Client:
        """The google-cloud-storage client (to count its requests in tests and benchmarks)."""
        return self._client

    @property
    def http(self) -> Any:
        """The client's authorized ``requests`` session: every request goes through it."""
        return self._client._http

    # ---- misc ----

    def get_service_name(self) -> str:
        return self._settings.service_name

    def translate_error(self, error: BaseException, *, about_blob: bool) -> StoreError | None:
        """google-cloud-storage's exceptions as typed errors (:func:`translate`; a 404 is
        taken as a missing blob wherever it is not branched on here)."""
        return translate(error)

    def capabilities(self) -> Capabilities:
        return DESCRIPTION.capabilities

    # ---- containers ----

    def _bucket(self, container: str) -> storage.Bucket:
        return self._client.bucket(container)

    def does_container_exist(self, container: str) -> bool:
        with gcs_errors():
            return bool(self._bucket(container).exists(**self._call))

    def _require_container(self, container: str) -> None:
        if not self.does_container_exist(container):
            raise ContainerNotFound("container not found", container=container)

    def _missing(self, container: str, message: str = "blob not found") -> BlobNotFound:
        """The error for a 404 on a blob: GCS answers a missing bucket the same way."""
        self._require_container(container)
        return BlobNotFound(message)

    def create_container(self, container: str) -> bool:
        """Create the bucket and its marker. Raises ``ContainerAlreadyExists``.

        Safe to repeat: a repeat creates the bucket again if it is still missing (the lost
        request may never have arrived), and the marker's body is a token of this call, so a
        repeat that finds a marker tells this call's own (its response lost) from another
        creator's."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        token: bytes = attempt.memo.setdefault("marker", secrets.token_hex(16).encode())
        sent_before = attempt.memo.get("sent", False)
        if self.does_container_exist(container):
            if not sent_before:
                raise ContainerAlreadyExists("container already exists", container=container)
        else:
            attempt.memo["sent"] = True
            try:
                with gcs_errors():
                    self._client.create_bucket(container, location=self._settings.location,
                                               **self._call)
            except ContainerAlreadyExists:
                if not sent_before:
                    raise  # another creator's; a repeat's 409 may be this call's own
        repeat = attempt.memo.get("marker_sent", False)
        attempt.memo["marker_sent"] = True
        try:
            with gcs_errors(create_only=True):
                self._bucket(container).blob(CONTAINER_MARKER).upload_from_string(
                    token, if_generation_match=0, **self._call)
        except BlobAlreadyExists:
            if not (repeat and self._holds(container, CONTAINER_MARKER, token)):
                raise ContainerAlreadyExists("container already exists",
                                             container=container) from None
        return True

    def list_containers(self) -> list[str]:
        return sorted(bucket.name for bucket in self._client.list_buckets(**self._call))

    def delete_container(self, container: str) -> bool:
        """Delete every object and the bucket. Raises ``ContainerNotFound``.

        Safe to repeat: emptying is idempotent, and a repeat that finds no bucket after this
        call sent its delete succeeds (the bucket is gone, as asked)."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        bucket = self._bucket(container)
        try:
            with gcs_errors():
                for _ in range(3):  # another client may write meanwhile: sweep again
                    for item in self._client.list_blobs(bucket, **self._call):
                        self._delete_quietly(bucket.blob(item.name))
                    try:
                        attempt.memo["sent"] = True
                        bucket.delete(**self._call)
                        break
                    except api_errors.Conflict:
                        continue
                else:
                    bucket.delete(**self._call)
        except BlobNotFound:
            if not attempt.memo.get("sent"):
                raise ContainerNotFound("container not found", container=container) from None
        return True

    def _delete_quietly(self, blob: storage.Blob) -> None:
        """Delete an object that may be gone already (deletes are idempotent here)."""
        with contextlib.suppress(api_errors.NotFound):
            blob.delete(**self._call)

    def get_container_properties(self, container: str) -> ContainerInfo:
        marker = self._bucket(container).blob(CONTAINER_MARKER)
        try:
            with gcs_errors():
                marker.reload(**self._call)
        except BlobNotFound:
            # A bucket this library did not create: no marker, no metadata.
            bucket = self._bucket(container)
            try:
                with gcs_errors():
                    bucket.reload(**self._call)
            except BlobNotFound:
                raise ContainerNotFound("container not found", container=container) from None
            return ContainerInfo(name=container, last_modified=_utc(bucket.time_created))
        return ContainerInfo(name=container, last_modified=_utc(marker.updated),
                             metadata=dict(marker.metadata or {}))

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        marker = self._bucket(container).blob(CONTAINER_MARKER)
        marker.metadata = dict(metadata)
        try:
            with gcs_errors():
                marker.upload_from_string(b"", **self._call)
        except BlobNotFound:
            raise ContainerNotFound("container not found", container=container) from None

    # ---- blobs: writing ----

    def _blob(self, container: str, name: str, generation: int | None = None) -> storage.Blob:
        return self._bucket(container).blob(name, generation=generation)

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        name = check_blob_name(blob_path)
        with gcs_errors():
            return bool(self._blob(container, name).exists(**self._call))

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False, *,
        content_type: str | None = None, metadata: Mapping[str, str] | None = None,
    ) -> None:
        """One upload, the metadata in the object resource it sends; with ``fail_if_exists``
        conditional on ``ifGenerationMatch=0``. Raises ``BlobAlreadyExists``,
        ``ContainerNotFound``.

        A create-only write is safe to repeat: a repeat that finds the blob compares it with
        this call's bytes, and one holding them is this call's own write (its response lost)."""
        name = check_blob_name(blob_path)
        data = to_bytes(text)
        condition = {"if_generation_match": 0} if fail_if_exists else {}
        repeat = False
        if fail_if_exists:
            attempt = current_attempt()
            attempt.repeat_safe = True
            repeat = attempt.memo.get("sent", False)
            attempt.memo["sent"] = True
        try:
            with gcs_errors(create_only=fail_if_exists):
                self._upload_checked(self._new_blob(container, name, metadata), data,
                                     content_type, **condition)
        except BlobAlreadyExists:
            if not (repeat and self._holds(container, name, data)):
                raise
        except BlobNotFound:
            raise ContainerNotFound("container not found", container=container) from None

    def _new_blob(self, container: str, name: str, metadata: Mapping[str, str] | None,
                  chunk_size: int | None = None) -> storage.Blob:
        """The object an upload writes, its custom metadata (None: none) in the object
        resource the upload (or its resumable session) sends, so that the object appears
        with it."""
        blob = self._bucket(container).blob(name, chunk_size=chunk_size)
        if metadata is not None:
            blob.metadata = dict(metadata)
        return blob

    def _upload_checked(self, blob: storage.Blob, data: bytes, content_type: str | None,
                        **conditions: Any) -> None:
        """One upload request of ``data``. The SDK sends its CRC32C in the object resource,
        which GCS checks (damaged bytes are refused, never stored); a server that does not
        check it (fake-gcs-server) is caught by the crc32c of the object it answers with:
        that object is deleted (if still that generation) and ``IntegrityError`` raised."""
        blob.upload_from_string(data, content_type=content_type, **conditions, **self._call)
        sent = crc32c_base64(int(google_crc32c.extend(0, data)))
        stored_other_bytes({"crc32c": blob.crc32c, "generation": blob.generation}, sent,
                           partial(self._discard, blob))

    def _discard(self, blob: storage.Blob, generation: int) -> None:
        """Delete the object ``blob`` names if it is still ``generation`` (one holding
        damaged bytes); any other outcome leaves it to the caller's error."""
        with contextlib.suppress(Exception):
            self._blob(blob.bucket.name, blob.name).delete(if_generation_match=generation,
                                                           **self._call)

    def _holds(self, container: str, name: str, data: bytes) -> bool:
        """Whether the object holds exactly ``data`` (by its length and MD5)."""
        blob = self._blob(container, name)
        try:
            with gcs_errors():
                blob.reload(**self._call)
        except BlobNotFound:
            return False  # deleted meanwhile: whatever it held, it is not this call's now
        if blob.size != len(data):
            return False
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        if blob.md5_hash:
            return bool(blob.md5_hash == digest)
        return self._read(container, name, blob.generation, 0, None)[0] == data

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """One upload up to ``single-upload-limit`` bytes of known length, else a resumable
        upload in ``chunk-size`` chunks (the most held in memory), the object appearing only
        when the last one lands, with ``metadata``. Raises ``ContainerNotFound``."""
        name = check_blob_name(blob_path)
        resumable = length is None or length > self._settings.single_upload_limit
        blob = self._new_blob(container, name, metadata,
                              self._settings.chunk_size if resumable else None)
        source = _Source(stream, progress_callback, length)
        try:
            with gcs_errors():
                if resumable:  # the SDK checks the object made against its own CRC32C
                    blob.upload_from_file(source, size=length, content_type=content_type,
                                          rewind=False, **self._call)
                else:  # one request, as the SDK would make it, checked as create_blob's
                    self._upload_checked(blob, source.read_exactly(length or 0),
                                         content_type)
        except BlobNotFound:
            raise ContainerNotFound("container not found", container=container) from None
        if progress_callback is not None and length == 0:
            progress_callback(0, 0)

    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """:meth:`create_blob_from_stream` of the file, its size known. Raises
        ``ContainerNotFound``, ``FileNotFoundError``."""
        with open(source_fn, "rb") as source:
            self.create_blob_from_stream(container, blob_path, source,
                                         length=os.fstat(source.fileno()).st_size,
                                         progress_callback=progress_callback,
                                         content_type=content_type, metadata=metadata)

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        """A resumable upload session whose chunks are the writer's parts (``chunk-size``
        bytes, the most held in memory); the object appears when the commit sends the last
        chunk with the total size, and never if the session is cancelled or abandoned. The
        content type and ``metadata`` are in the object resource that opens the session; the
        last chunk carries the CRC32C of the whole content (``x-goog-hash``), which GCS
        checks. Raises ``ContainerNotFound`` at the call."""
        name = check_blob_name(blob_path)
        blob = self._new_blob(container, name, metadata)
        blob.content_type = content_type  # in the session's metadata, not only its header
        try:
            with gcs_errors():
                url = blob.create_resumable_upload_session(content_type=content_type,
                                                           **self._call)
        except BlobNotFound:
            raise ContainerNotFound("container not found", container=container) from None
        return BlobWriter(ResumableSession(self.http, url, self._settings.chunk_size,
                                           self._timeout, partial(self._discard, blob)))

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """A rewrite conditional on the generation read (``ifGenerationMatch``), or for blobs
        from ``append-compose-min-size`` on a compose of [blob, piece] conditional on it; a
        round that loses a race (412) starts again, within a time budget. Metadata and
        content type are kept. Raises ``ContainerNotFound``; ``PreconditionFailed`` only
        under contention that outlasts the budget.

        Safe to repeat: the memo records each write whose outcome is unknown (the size it
        was conditional on); a repeat that finds the blob grown past it holding this call's
        bytes there takes the append as applied."""
        name = check_blob_name(blob_path)
        data = to_bytes(text)
        attempt = current_attempt()
        attempt.repeat_safe = True
        deadline = time.monotonic() + _APPEND_BUDGET
        rounds = 0
        while True:
            try:
                self._append_once(container, name, data, append_with_rewrite, attempt.memo)
                return
            except PreconditionFailed:
                rounds += 1
                if time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0, min(_MAX_PAUSE, 0.005 * 2 ** min(rounds, 10))))

    def _append_once(self, container: str, name: str, data: bytes, rewrite: bool,
                     memo: dict[str, Any]) -> None:
        blob = self._blob(container, name)
        try:
            with gcs_errors():
                blob.reload(**self._call)
        except BlobNotFound:
            self._require_container(container)
            self._append_write(memo, 0, lambda: self._create_with(container, name, data))
            return
        size = int(blob.size or 0)
        generation = int(blob.generation or 0)
        if self._applied_before(container, name, data, memo, generation, size):
            return
        if not rewrite and size >= self._settings.append_compose_min_size:
            self._append_write(memo, size,
                               lambda: self._compose_append(container, blob, data))
            return
        try:
            old = self._read(container, name, generation, 0, None)[0]
        except BlobNotFound:
            raise PreconditionFailed("the blob changed meanwhile") from None
        fresh = self._blob(container, name)
        fresh.metadata = blob.metadata
        self._append_write(memo, size, lambda: self._upload_conditional(
            fresh, old + data, generation, blob.content_type))

    def _create_with(self, container: str, name: str, data: bytes) -> None:
        try:
            with gcs_errors(create_only=True):
                self._blob(container, name).upload_from_string(data, if_generation_match=0,
                                                               **self._call)
        except BlobAlreadyExists:
            raise PreconditionFailed("the blob was created meanwhile") from None

    def _upload_conditional(self, blob: storage.Blob, data: bytes, generation: int,
                            content_type: str | None) -> None:
        with gcs_errors():
            blob.upload_from_string(data, content_type=content_type,
                                    if_generation_match=generation, **self._call)

    def _compose_append(self, container: str, blob: storage.Blob, data: bytes) -> None:
        """Upload ``data`` as a piece, compose [blob, piece] onto the blob conditional on the
        generation read, delete the piece (also when the compose failed)."""
        piece = self._blob(container, new_piece_name())
        with gcs_errors():
            piece.upload_from_string(data, **self._call)
        try:
            with gcs_errors():
                blob.compose([blob, piece], if_generation_match=blob.generation, **self._call)
        finally:
            self._delete_quietly(piece)

    @staticmethod
    def _append_write(memo: dict[str, Any], size_before: int, write: Callable[[], None]
                      ) -> None:
        """Run ``write``, recorded in the memo while its outcome is unknown: a 412 (or any
        answer but a lost one) means it did not apply."""
        pending: list[int] = memo.setdefault("pending", [])
        pending.append(size_before)
        try:
            write()
        except TransientError:
            raise
        except BaseException:
            pending.remove(size_before)
            raise
        pending.remove(size_before)

    def _applied_before(self, container: str, name: str, data: bytes, memo: dict[str, Any],
                        generation: int, size: int) -> bool:
        """Whether one of this call's earlier writes whose response was lost applied: the
        blob grew past the size it was conditional on and holds this call's bytes there."""
        for before in memo.get("pending", ()):
            end = before + len(data)
            if size < end:
                continue
            try:
                if self._read(container, name, generation, before, end)[0] == data:
                    return True
            except BlobNotFound:
                raise PreconditionFailed("the blob changed meanwhile") from None
        return False

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """Delete one snapshot, or the blob with all its snapshots. Raises ``BlobNotFound``
        (also for an unknown snapshot id), ``ContainerNotFound``.

        The blob goes first, its snapshots (listed before) after it. Safe to repeat: once
        the first attempt found the blob, a repeat only repeats the deletes, so it never
        reports the blob this call deleted as not found."""
        name = check_blob_name(blob_path)
        attempt = current_attempt()
        attempt.repeat_safe = True
        memo = attempt.memo
        if snapshot is not None:
            target = self._blob(container, snapshot_name(name, snapshot))
            if not memo.get("found"):
                self._properties_of(container, target, f"no snapshot {snapshot!r}")
                memo["found"] = True
            self._delete_quietly(target)
            return
        if "snapshots" not in memo:
            try:
                self._properties_of(container, self._blob(container, name))
            except BlobNotFound:
                for leftover in self._snapshot_names(container, name):
                    self._delete_quietly(self._blob(container, leftover))
                raise
            memo["snapshots"] = self._snapshot_names(container, name)
        self._delete_quietly(self._blob(container, name))
        for snapshot_object in memo["snapshots"]:
            self._delete_quietly(self._blob(container, snapshot_object))

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Server-side rewrite, overwriting the destination; metadata and content type are
        copied. Raises ``BlobNotFound``, ``ContainerNotFound``."""
        source = check_blob_name(source_blob_path)
        dest = check_blob_name(dest_blob_path)
        if (source_container, source) == (dest_container, dest):
            self._properties_of(source_container, self._blob(source_container, source))
            return
        self._rewrite(source_container, source, dest_container, dest)

    def _rewrite(self, source_container: str, source: str, dest_container: str, dest: str
                 ) -> None:
        source_blob = self._blob(source_container, source)
        dest_blob = self._blob(dest_container, dest)
        token: str | None = None
        try:
            with gcs_errors():
                while True:  # a large copy across locations takes several calls
                    token, _, _ = dest_blob.rewrite(source_blob, token=token, **self._call)
                    if token is None:
                        return
        except BlobNotFound:
            self._require_container(dest_container)
            raise self._missing(source_container) from None

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Replace the custom metadata (one PATCH: old keys set to null, new ones given); the
        content and generation are unchanged. Raises ``BlobNotFound``."""
        name = check_blob_name(blob_path)
        blob = self._blob(container, name)
        self._properties_of(container, blob)
        replaced: dict[str, str | None] = dict.fromkeys(blob.metadata or {})
        replaced.update(metadata)
        blob.metadata = replaced
        with gcs_errors():
            blob.patch(**self._call)

    # ---- blobs: reading ----

    def _properties_of(self, container: str, blob: storage.Blob,
                       missing: str = "blob not found") -> storage.Blob:
        """The blob reloaded; a 404 told apart as ``ContainerNotFound`` or ``BlobNotFound``."""
        try:
            with gcs_errors():
                blob.reload(**self._call)
        except BlobNotFound:
            raise self._missing(container, missing) from None
        return blob

    def _media_url(self, container: str, name: str, generation: int | None) -> str:
        base = self._client._connection.API_BASE_URL
        url = f"{base}/download/storage/v1/b/{quote(container, safe='')}/o/" \
              f"{quote(name, safe='')}?alt=media"
        return url if generation is None else f"{url}&generation={generation}"

    def _get(self, container: str, name: str, generation: int | None, start: int,
             end: int | None, *, stream: bool) -> Any:
        """One media GET of ``[start, end)`` (None: to the end); raises the SDK's errors
        (416 included), like its own downloads."""
        headers = {"Accept-Encoding": "identity"}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        response = self.http.get(self._media_url(container, name, generation),
                                 headers=headers, stream=stream, timeout=self._timeout)
        if response.status_code not in (200, 206):
            response.close()
            raise http_error(response)
        return response

    def _read(self, container: str, name: str, generation: int | None, start: int,
              end: int | None) -> tuple[bytes, Any]:
        """The bytes ``[start, end)`` of the object and the response's headers."""
        try:
            with gcs_errors():
                response = self._get(container, name, generation, start, end, stream=False)
        except BlobNotFound:
            raise self._missing(container) from None
        return response.content, response.headers

    def _read_name(self, blob_path: str, snapshot: str | None) -> str:
        name = check_blob_name(blob_path)
        return name if snapshot is None else snapshot_name(name, snapshot)

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """Pages of :data:`PAGE_SIZE`, the first fetched by this call, each later one from
        its page token while iterating (under the Store's retry). Raises
        ``ContainerNotFound`` at the call. Each entry carries the object's metadata (the
        listing's resources have it: ``capabilities().listing_metadata``)."""

        def entries_of(page: Any) -> list[BlobInfo]:
            blobs = [_listed(item, metadata=True) for item in page
                     if not is_hidden_object(item.name)]
            folders = [BlobInfo(name=folder, is_dir=True) for folder in page.prefixes
                       if folder != RESERVED_PREFIX]
            # GCS sends each page's objects and its prefixes each in name order.
            return list(heapq.merge(blobs, folders, key=lambda entry: entry.name))

        return self._pages(container, path, recursive, entries_of, None)

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """The pages of ``iter_blobs`` as a partial response of names alone
        (``fields=items(name),prefixes,nextPageToken``)."""

        def names_of(page: Any) -> list[str]:
            names = [item.name for item in page if not is_hidden_object(item.name)]
            folders = [folder for folder in page.prefixes if folder != RESERVED_PREFIX]
            return list(heapq.merge(names, folders))

        return self._pages(container, path, recursive, names_of,
                           "items(name),prefixes,nextPageToken")

    def _pages(self, container: str, path: str | None, recursive: bool,
               entries_of: Callable[[Any], list[T]], fields: str | None) -> PagedListing[T]:
        path = path or ""
        prefix = path[:-1] if path.endswith("*") else path
        bucket = self._bucket(container)
        delimiter = None if recursive else "/"

        def fetch_page(token: str | None) -> tuple[list[T], str | None]:
            iterator = self._client.list_blobs(bucket, prefix=prefix or None,
                                               delimiter=delimiter, page_size=PAGE_SIZE,
                                               page_token=token, fields=fields, **self._call)
            try:
                with gcs_errors():
                    page = next(iterator.pages)
            except BlobNotFound:
                raise ContainerNotFound("container not found", container=container) from None
            return entries_of(page), iterator.next_page_token

        return PagedListing(fetch_page)

    list_blobs = list_pages

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """One media GET, checked against its length and MD5. Raises ``BlobNotFound``."""
        content, headers = self._read(container, self._read_name(blob_path, snapshot),
                                      None, 0, None)
        _expected(headers, len(content)).verify(len(content), hashlib.md5(
            content, usedforsecurity=False).digest() if _md5_of(headers) else None)
        return bytes(content)

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """One media GET, its body streamed as it is read; after a failure or a seek the next
        read is a bounded ranged GET (src/xtstore/providers/_blob_reader.py) of the generation
        first read (``PreconditionFailed`` if it was
        overwritten meanwhile), under the Store's retry. Seekable; its length and MD5 are
        checked once it is read through in order (``IntegrityError``). Raises
        ``BlobNotFound``."""
        name = self._read_name(blob_path, snapshot)
        try:
            with gcs_errors():
                first = self._get(container, name, None, 0, None, stream=True)
        except BlobNotFound:
            raise self._missing(container) from None
        generation = int(first.headers["x-goog-generation"])
        expected = _expected(first.headers, _size_of(first))

        def open_range(start: int, end: int | None) -> _Body:
            try:
                with gcs_errors():
                    return _Body(self._get(container, name, generation, start, end,
                                           stream=True))
            except BlobNotFound:
                raise changed_while_read() from None

        return open_ranged(open_range, expected, _Body(first))

    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        """One ranged media GET; ``b""`` for a range at or past the end. Raises
        ``BlobNotFound``."""
        name = self._read_name(blob_path, snapshot)
        if end is not None and end <= start:
            self._properties_of(container, self._blob(container, name))
            return b""
        try:
            return bytes(self._get(container, name, None, start, end, stream=False).content)
        except api_errors.RequestRangeNotSatisfiable:
            return b""  # GCS's answer for a range that starts at or past the end
        except api_errors.NotFound:
            raise self._missing(container) from None

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """One streamed media GET into a file next to ``dest_fn``, renamed into place only
        when complete and its length and MD5 checked. Raises ``BlobNotFound``."""
        name = self._read_name(blob_path, snapshot)
        try:
            with gcs_errors():
                response = self._get(container, name, None, 0, None, stream=True)
        except BlobNotFound:
            raise self._missing(container) from None
        with response, verified_local_file(dest_fn, large=True) as download:
            size = _size_of(response)
            download.expect(_expected(response.headers, size))
            done = 0
            with gcs_errors():
                while chunk := response.raw.read(_READ_CHUNK):
                    download.file.write(chunk)
                    done += len(chunk)
                    if progress_callback is not None:
                        progress_callback(done, size)
            if progress_callback is not None and size == 0:
                progress_callback(0, 0)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """One object GET. Raises ``BlobNotFound``, ``ContainerNotFound``."""
        name = check_blob_name(blob_path)
        blob = self._properties_of(container, self._blob(container, name))
        return _listed(blob, metadata=True)

    # ---- snapshots ----

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """A server-side rewrite under the reserved snapshot prefix. Raises ``BlobNotFound``.

        Safe to repeat: every attempt copies to the snapshot id the first one chose."""
        name = check_blob_name(blob_path)
        attempt = current_attempt()
        attempt.repeat_safe = True
        snapshot: str = attempt.memo.setdefault("snapshot", new_snapshot_id())
        self._rewrite(container, name, container, snapshot_name(name, snapshot))
        return SnapshotInfo(container=container, blob=name, snapshot=snapshot,
                            created=snapshot_created(snapshot))

    def _snapshot_names(self, container: str, name: str) -> list[str]:
        with gcs_errors():
            return [item.name for item in self._client.list_blobs(
                self._bucket(container), prefix=snapshot_prefix(name), **self._call)]

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """The blob's snapshots, oldest first. Raises ``ContainerNotFound``."""
        name = check_blob_name(blob_path)
        try:
            found = self._snapshot_names(container, name)
        except BlobNotFound:
            raise ContainerNotFound("container not found", container=container) from None
        snapshots = [object_name.rsplit("/", 1)[1] for object_name in found]
        return [SnapshotInfo(container=container, blob=name, snapshot=snapshot,
                             created=snapshot_created(snapshot)) for snapshot in sorted(snapshots)]


def _listed(blob: storage.Blob, *, metadata: bool = False) -> BlobInfo:
    """A listing entry, or with ``metadata`` the properties, of a loaded object; its etag is
    the generation, which GCS changes on every write of content. Both carry the object's
    md5Hash (none for a composed object) and crc32c."""
    checksums = {algorithm: digest for algorithm, digest in (
        ("md5", base64_hex(blob.md5_hash)), ("crc32c", base64_hex(blob.crc32c)))
        if digest is not None}
    properties = BlobProperties.from_datetime(
        int(blob.size or 0), _utc(blob.updated), str(blob.generation),
        content_type=blob.content_type,
        metadata=dict(blob.metadata or {}) if metadata else {}, checksums=checksums,
    )
    return BlobInfo(name=blob.name, properties=properties)


GCSStore = provider_store_class("GCSStore", GCSProvider, __name__)
