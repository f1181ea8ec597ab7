"""``azure-blob`` (aliases ``azure-blob-21``, ``azure-blob-210``): Azure Blob Storage through
azure-storage-blob 12 (docs/contract.md §4).

Native features are used wherever Azure has them: append blobs, snapshots, create-only and
etag-conditioned writes, server-side copy, metadata, delimiter listing. Every call makes the
fewest requests the SDK allows (one for a small read, an existence check or a listing page of
5,000). The SDK's retry is off; :mod:`xtstore.layers.retry` is the only retry.

Configuration and credentials: :mod:`xtstore.providers.azure.auth`; error mapping:
:mod:`xtstore.providers.azure.errors`. The SDK is imported only when this module is.
"""

from __future__ import annotations

import hashlib
import io
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import IO, Any, NoReturn, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobPrefix, BlobType, ContentSettings

from xtstore.errors import (
    BlobNotFound,
    ConfigError,
    PreconditionFailed,
    StoreError,
    Unsupported,
)
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.providers._public import provider_store_class
from xtstore.providers._shared import Expected, check_bytes, to_bytes, verified_local_file
from xtstore.providers.azure.auth import build_service_client, client_spec
from xtstore.providers.azure.description import DESCRIPTION
from xtstore.providers.azure.errors import (
    Scrubber,
    error_code,
    mapped_errors,
    translate,
)
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
)

__all__ = ["APPEND_BLOCK_LIMIT", "AzureBlobProvider", "AzureBlobStore"]

T = TypeVar("T")

APPEND_BLOCK_LIMIT = 4 * 1024 * 1024
"""The largest text one AppendBlock request takes, so the largest append that is atomic."""

PAGE_SIZE = 5000
"""Azure's maximum listing page."""

DEFAULT_MAX_CONCURRENCY = 4
REWRITE_DEADLINE = 120.0
"""Seconds a read-modify-write append, or a download restarted because the blob was
overwritten mid-read, keeps trying."""
COPY_POLL_DEADLINE = 3600.0

BLOCK_BLOB_MEMO_SIZE = 4096
"""How many blobs this process remembers as block blobs, so that appending to them again skips
the AppendBlock that would be refused (a stale entry costs nothing: the rewrite checks)."""

_REWRITE_CODES = frozenset({"InvalidBlobType", "BlockCountExceedsLimit"})
"""Append-block refusals that mean "not an append blob (or a full one)": rewrite instead."""


def _status(error: HttpResponseError) -> int | None:
    status = getattr(error, "status_code", None)
    return int(status) if status is not None else None


def _snapshot_time(snapshot: str) -> datetime:
    """Azure's snapshot id is an ISO timestamp with 7 decimals; keep microseconds."""
    head, _, fraction = snapshot.rstrip("Z").partition(".")
    parsed = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return parsed.replace(microsecond=int((fraction + "000000")[:6]))


def _properties(size: int, last_modified: datetime, etag: str, content_settings: Any,
                metadata: Mapping[str, str] | None = None) -> BlobProperties:
    # Headers quote the etag and listings do not; one form for both.
    content_type = getattr(content_settings, "content_type", None)
    return BlobProperties.from_datetime(
        int(size or 0), last_modified, str(etag).strip('"'), content_type=content_type,
        metadata=dict(metadata or {}),
    )


def _progress_hook(callback: ProgressCallback | None, total: int | None
                   ) -> Callable[[int, int | None], None] | None:
    if callback is None:
        return None

    def hook(current: int, reported_total: int | None) -> None:
        callback(current, reported_total if reported_total is not None else (total or current))

    return hook


def _expected(properties: Any) -> Expected:
    """What a download's content must be: the blob's size and, where it has one, its stored
    Content-MD5 (set by Put Blob, and by xtstore on every ``create_blob``)."""
    md5 = getattr(properties.content_settings, "content_md5", None)
    size = int(properties.size)
    return Expected(size, "md5", bytes(md5)) if md5 else Expected(size)


class _DownloadReader(io.RawIOBase):
    """A raw binary stream over an SDK downloader, fetching chunks as they are read and
    checking the content against :func:`_expected` once its end is read
    (``IntegrityError``). What a read raises is translated by the Store's stream (with
    ``translate_error``)."""

    def __init__(self, downloader: Any) -> None:
        self._downloader = downloader
        self._expected = _expected(downloader.properties)
        self._hasher = self._expected.hasher()
        self._count = 0
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._downloader.read(len(buffer))
        buffer[: len(data)] = data
        self._count += len(data)
        if self._hasher is not None:
            self._hasher.update(data)
        ended = not data or self._count == self._expected.size
        if ended and len(buffer) and not self._checked:
            self._checked = True
            self._expected.verify(
                self._count, self._hasher.digest() if self._hasher is not None else None)
        return len(data)


class _HashingStream:
    """The stream of an upload, read once in order by the SDK (``validate_content`` makes it
    read sequentially), computing the MD5 of the whole on the way. :attr:`md5` is the
    ``content_md5`` handed to the upload: the SDK keeps that very bytearray in the headers it
    sends with the final request (Put Blob, or the block list after every block is read), and
    it is filled in once the last byte has been read. Put Blob's is checked by Azure."""

    def __init__(self, stream: IO[bytes], length: int | None) -> None:
        self._stream = stream
        self._length = length
        self._hasher = hashlib.md5()
        self._count = 0
        self.md5 = bytearray(16)
        if length == 0:
            self.md5[:] = self._hasher.digest()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hasher.update(data)
        self._count += len(data)
        if (self._length is not None and self._count >= self._length) or (not data and size):
            self.md5[:] = self._hasher.digest()
        return data


class AzureBlobProvider(StoreInterface):
    """Azure Blob Storage provider. Constructed with the service's config dict; see
    :mod:`xtstore.providers.azure.auth` for the accepted keys. Raises ``ConfigError`` when
    the config names no usable credential."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._service_name = str(config.get("name") or "azure-blob")
        spec = client_spec(config)
        self._block_blobs: set[tuple[str, str]] = set()
        self._scrub = Scrubber(spec.secrets)
        self._description = spec.description
        concurrency = config.get("max-concurrency", DEFAULT_MAX_CONCURRENCY)
        try:
            self._concurrency = max(1, int(concurrency))
        except (TypeError, ValueError):
            raise ConfigError(f"must be a positive integer, not {concurrency!r}",
                              key_path="max-concurrency",
                              service=self._service_name) from None
        try:
            self._service = build_service_client(spec)
        except ValueError as error:
            raise ConfigError(f"invalid Azure settings: {self._scrub(str(error))}",
                              service=self._service_name) from None

    def __repr__(self) -> str:
        return f"<AzureBlobProvider service={self._service_name!r} {self._description}>"

    def __reduce__(self) -> NoReturn:
        # Pickling would write the credential in clear text; xtstore.Store rebuilds from config.
        raise Unsupported("an AzureBlobProvider is moved to another process by pickling its "
                          "xtstore.Store, which rebuilds it from config",
                          service=self._service_name)

    @property
    def service_client(self) -> Any:
        """The underlying ``azure.storage.blob.BlobServiceClient``."""
        return self._service

    # ---- helpers ----

    def _container_client(self, container: str) -> Any:
        return self._service.get_container_client(container)

    def _blob_client(self, container: str, blob: str, snapshot: str | None = None) -> Any:
        return self._service.get_blob_client(container, blob, snapshot=snapshot)

    def translate_error(self, error: BaseException, *, about_blob: bool) -> StoreError | None:
        """azure-core's exceptions as typed errors, scrubbed of this service's secrets (see
        :func:`~xtstore.providers.azure.errors.translate`)."""
        return translate(error, self._scrub, about_blob=about_blob)

    # ---- misc ----

    def get_service_name(self) -> str:
        return self._service_name

    def capabilities(self) -> Capabilities:
        return DESCRIPTION.capabilities

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        return bool(self._container_client(container).exists())

    def create_container(self, container: str) -> bool:
        """Raises ``ContainerAlreadyExists``."""
        self._service.create_container(container)
        return True

    def list_containers(self) -> list[str]:
        return sorted(item.name for item in
                      self._service.list_containers(results_per_page=PAGE_SIZE))

    def delete_container(self, container: str) -> bool:
        """Raises ``ContainerNotFound``."""
        self._container_client(container).delete_container()
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        """Raises ``ContainerNotFound``."""
        props = self._container_client(container).get_container_properties()
        last_modified = props.last_modified
        if last_modified.tzinfo is None:
            last_modified = last_modified.replace(tzinfo=timezone.utc)
        return ContainerInfo(name=container, last_modified=last_modified,
                             metadata=dict(props.metadata or {}))

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Raises ``ContainerNotFound``."""
        self._container_client(container).set_container_metadata(dict(metadata))

    # ---- blob writes ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return bool(self._blob_client(container, blob_path).exists())

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False
    ) -> None:
        """One Put Blob (or staged blocks and one commit above ``max-single-put-size``);
        ``fail_if_exists`` sends ``If-None-Match: *``. Every request carries the MD5 of its
        body and the blob keeps the MD5 of the whole (Azure refuses damaged bytes:
        ``IntegrityError``). Raises ``BlobAlreadyExists``, ``ContainerNotFound``."""
        data = to_bytes(text)
        self._blob_client(container, blob_path).upload_blob(
            data, length=len(data), overwrite=not fail_if_exists,
            max_concurrency=self._concurrency, validate_content=True,
            content_settings=ContentSettings(content_md5=bytearray(hashlib.md5(data).digest())),
        )

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Block upload from ``stream`` (read one block per worker at a time); the blob appears
        only when the block list is committed. Every request carries the MD5 of its body,
        which Azure checks (``IntegrityError``), and the blob keeps the MD5 of the whole.
        Raises ``ContainerNotFound``."""
        self._upload_stream(container, blob_path, stream, length, progress_callback)

    def _upload_stream(self, container: str, blob_path: str, stream: IO[bytes],
                       length: int | None, progress_callback: ProgressCallback | None) -> None:
        hashing = _HashingStream(stream, length)
        self._blob_client(container, blob_path).upload_blob(
            hashing, length=length, overwrite=True, max_concurrency=self._concurrency,
            progress_hook=_progress_hook(progress_callback, length), validate_content=True,
            content_settings=ContentSettings(content_md5=hashing.md5),
        )

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Texts up to 4 MiB go in one AppendBlock (atomic, so concurrent appends never
        interleave). Larger texts, ``append_with_rewrite`` and blobs that are not append blobs
        (e.g. made by ``create_blob``) use read-modify-write under ``If-Match``, retried when
        another writer got in first. Raises ``ContainerNotFound``, ``PreconditionFailed``
        (still losing etag races after two minutes)."""
        data = to_bytes(text)
        client = self._blob_client(container, blob_path)
        key = (container, blob_path)
        if append_with_rewrite or len(data) > APPEND_BLOCK_LIMIT:
            self._rewrite_append(client, data, native_ok=False)
        elif key in self._block_blobs:
            if not self._rewrite_append(client, data, native_ok=True):
                self._block_blobs.discard(key)
        elif self._native_append(client, data):
            if len(self._block_blobs) >= BLOCK_BLOB_MEMO_SIZE:
                self._block_blobs.clear()
            self._block_blobs.add(key)

    def _native_append(self, client: Any, data: bytes) -> bool:
        """Append with AppendBlock, creating the append blob if missing. True if the blob
        turned out not to be an append blob and was rewritten instead."""
        for attempt in range(3):
            try:
                if data:
                    client.append_block(data)
                else:
                    self._create_append_blob(client)
                return False
            except HttpResponseError as error:
                code = error_code(error)
                if code in _REWRITE_CODES:
                    return self._rewrite_append(client, data, native_ok=False)
                if code != "BlobNotFound" or attempt == 2:
                    raise
            self._create_append_blob(client)
        return False

    @staticmethod
    def _create_append_blob(client: Any) -> None:
        try:
            client.create_append_blob(match_condition=MatchConditions.IfMissing)
        except HttpResponseError as error:
            if _status(error) not in (409, 412):  # another appender created it first: fine
                raise

    def _rewrite_append(self, client: Any, data: bytes, *, native_ok: bool) -> bool:
        """Read-modify-write until it wins; with ``native_ok``, an append blob found on the
        way gets an AppendBlock instead. True if the blob was rewritten."""
        deadline = time.monotonic() + REWRITE_DEADLINE
        delay = 0.01
        while True:
            try:
                return self._rewrite_once(client, data, native_ok)
            except HttpResponseError as error:
                if _status(error) not in (409, 412):
                    raise
            if time.monotonic() > deadline:
                raise PreconditionFailed("append kept losing to concurrent writers; gave up")
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.5)

    def _rewrite_once(self, client: Any, data: bytes, native_ok: bool) -> bool:
        """One read-modify-write; raises a 409/412 error when another writer got in first."""
        try:
            downloader = client.download_blob(max_concurrency=self._concurrency)
        except HttpResponseError as error:
            if error_code(error) != "BlobNotFound":
                raise
            client.upload_blob(data, length=len(data), overwrite=False)  # If-None-Match: *
            return True
        if native_ok and downloader.properties.blob_type == BlobType.APPENDBLOB:
            if data:
                client.append_block(data)
            return False
        content = downloader.readall() + data
        client.upload_blob(
            content, length=len(content), overwrite=True, max_concurrency=self._concurrency,
            etag=downloader.properties.etag, match_condition=MatchConditions.IfNotModified,
        )
        return True

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Server-side Copy Blob, waiting for it to finish. Raises ``BlobNotFound`` (source),
        ``ContainerNotFound``, ``StoreError`` if Azure reports the copy failed or aborted."""
        source = self._blob_client(source_container, source_blob_path)
        dest = self._blob_client(dest_container, dest_blob_path)
        try:
            with mapped_errors(self._scrub):
                result = dest.start_copy_from_url(source.url)
                status = detail = result.get("copy_status")
                deadline = time.monotonic() + COPY_POLL_DEADLINE
                delay = 0.05
                while status == "pending" and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    copy = dest.get_blob_properties().copy
                    status, detail = copy.status, copy.status_description
        except StoreError as error:
            # Copy Blob reports a missing source as CannotVerifyCopySource and a missing
            # container as the destination's, so name the one that is really missing.
            if isinstance(error, BlobNotFound):
                error.add_context(container=source_container, blob=source_blob_path)
            else:
                error.add_context(container=dest_container, blob=dest_blob_path)
            raise
        if status != "success":
            raise StoreError(f"server-side copy did not succeed: {detail}",
                             container=dest_container, blob=dest_blob_path)

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """Raises ``BlobNotFound``."""
        result = self._blob_client(container, blob_path).create_snapshot()
        snapshot = str(result["snapshot"])
        return SnapshotInfo(container=container, blob=blob_path, snapshot=snapshot,
                            created=_snapshot_time(snapshot))

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """With no ``snapshot``, the blob and all its snapshots. Raises ``BlobNotFound``."""
        with _SnapshotIdErrors(snapshot):
            if snapshot is None:
                self._blob_client(container, blob_path).delete_blob(delete_snapshots="include")
            else:
                self._blob_client(container, blob_path, snapshot).delete_blob()

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Raises ``BlobNotFound``."""
        self._blob_client(container, blob_path).set_blob_metadata(dict(metadata))

    # ---- blob reads ----

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """Checked against the blob's size and stored MD5 (``IntegrityError``). Raises
        ``BlobNotFound``."""
        client = self._blob_client(container, blob_path, snapshot)

        def download() -> bytes:
            downloader = client.download_blob(max_concurrency=self._concurrency)
            return check_bytes(bytes(downloader.readall()), _expected(downloader.properties))

        with _SnapshotIdErrors(snapshot):
            return _restarting_on_change(download)

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """A stream fetching one chunk (``max-chunk-get-size``) at a time, checked against the
        blob's size and stored MD5 when its end is read. Raises ``BlobNotFound``."""
        with _SnapshotIdErrors(snapshot):
            downloader = self._blob_client(container, blob_path, snapshot).download_blob()
        return io.BufferedReader(_DownloadReader(downloader))

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Parallel ranged download, checked against the blob's size and stored MD5 before it
        takes ``dest_fn``'s name, else nothing is left (see
        :func:`~xtstore.providers._shared.verified_local_file`). Raises ``BlobNotFound``,
        ``IntegrityError``."""
        client = self._blob_client(container, blob_path, snapshot)
        with verified_local_file(dest_fn) as local, _SnapshotIdErrors(snapshot):

            def download() -> None:
                local.restart()
                downloader = client.download_blob(
                    max_concurrency=self._concurrency,
                    progress_hook=_progress_hook(progress_callback, None),
                )
                local.expect(_expected(downloader.properties))
                downloader.readinto(local.file)

            _restarting_on_change(download)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """One HEAD. Raises ``BlobNotFound``."""
        props = self._blob_client(container, blob_path).get_blob_properties()
        return BlobInfo(
            name=blob_path,
            properties=_properties(props.size, props.last_modified, props.etag,
                                   props.content_settings, props.metadata),
        )

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """Oldest first. Raises ``ContainerNotFound``."""
        items = self._container_client(container).list_blobs(
            name_starts_with=blob_path, include=["snapshots"], results_per_page=PAGE_SIZE)
        ids = [item.snapshot for item in items if item.name == blob_path and item.snapshot]
        return [SnapshotInfo(container=container, blob=blob_path, snapshot=s,
                             created=_snapshot_time(s)) for s in sorted(ids)]

    # ---- listing ----

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """Pages of 5,000 fetched while iterating; ``recursive=False`` uses the ``/``
        delimiter, so child folders come from the service, each once."""
        prefix = (path or "").removesuffix("*") or None
        client = self._container_client(container)
        if recursive:
            items = client.list_blobs(name_starts_with=prefix, results_per_page=PAGE_SIZE)
        else:
            items = client.walk_blobs(name_starts_with=prefix, delimiter="/",
                                      results_per_page=PAGE_SIZE)
        for page in items.by_page():
            entries = [_entry(item) for item in page]
            if not recursive:
                # The SDK yields a page's folders before its blobs; the service orders
                # pages by name, so sorting each page sorts the whole listing.
                entries.sort(key=lambda entry: entry.name)
            yield from entries


def _entry(item: Any) -> BlobInfo:
    if isinstance(item, BlobPrefix):
        return BlobInfo(name=item.name, is_dir=True)
    return BlobInfo(name=item.name, properties=_properties(
        item.size, item.last_modified, item.etag, item.content_settings))


def _restarting_on_change(download: Callable[[], T]) -> T:
    """Run a download again from the start when the blob was overwritten between its ranged
    requests (the SDK pins the later ranges to the first response's etag: 412)."""
    deadline = time.monotonic() + REWRITE_DEADLINE
    delay = 0.01
    while True:
        try:
            return download()
        except HttpResponseError as error:
            if _status(error) != 412 or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0, delay))
        delay = min(delay * 2, 0.5)


class _SnapshotIdErrors:
    """Azure answers 400 to a snapshot id that is not a timestamp; for the caller it is simply
    a snapshot that does not exist."""

    def __init__(self, snapshot: str | None) -> None:
        self._snapshot = snapshot

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if self._snapshot is not None and isinstance(error, HttpResponseError) and \
                _status(error) == 400:
            raise BlobNotFound(f"snapshot {self._snapshot!r} not found") from None


AzureBlobStore = provider_store_class("AzureBlobStore", AzureBlobProvider, __name__)
