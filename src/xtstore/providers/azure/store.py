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

import base64
import hashlib
import os
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import IO, Any, NoReturn, TypeVar
from urllib.parse import unquote

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.policies import ContentDecodePolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobBlock, BlobType, ContentSettings
from azure.storage.blob._generated.models import ModifiedAccessConditions
from azure.storage.blob._list_blobs_helper import IgnoreListBlobsDeserializer

from xtstore.attempts import current_attempt
from xtstore.errors import (
    BlobNotFound,
    ConfigError,
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
    Expected,
    check_bytes,
    check_header_metadata,
    to_bytes,
    verified_local_file,
)
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
from xtstore.writer import BlobWriter

__all__ = ["APPEND_BLOCK_LIMIT", "AzureBlobProvider", "AzureBlobStore"]

T = TypeVar("T")

APPEND_BLOCK_LIMIT = 4 * 1024 * 1024
"""The largest text one AppendBlock request takes, so the largest append that is atomic."""

PAGE_SIZE = 5000
"""Azure's maximum listing page."""

BATCH_LIMIT = 256
"""Azure's most subrequests in one Blob Batch request."""

DEFAULT_MAX_CONCURRENCY = 4

DEFAULT_MAX_STREAMED_GET_SIZE = 64 * 1024 * 1024
"""``max-streamed-get-size``'s default: ``get_blob_to_path`` reads a blob up to this size in
one streamed Get Blob, and a larger one's first this many bytes in that Get Blob while
``max-concurrency`` ranged Get Blobs of ``max-chunk-get-size`` fetch the rest.

On Azurite (loopback, 2 cores) one streamed GET beat the SDK's parallel ranged download at
every size measured, 1 to 256 MiB (at 64 MiB 3.1x less wall time and 3.6x less client CPU:
docs/performance.md "2.6: large downloads"), so the emulator shows no crossover. The limit
is an assumption about real networks: one TCP connection to Azure carries some 50-200 MiB/s
(its window over the round trip), so below 64 MiB a single stream costs at most a few tenths
of a second against parallel ranges while it saves their CPU and requests; above it parallel
ranges carry more of a fast link than one stream can (rclone's multi-thread cutoff, 256 MiB,
is the same bet made later)."""
REWRITE_DEADLINE = 120.0
"""Seconds a read-modify-write append, or a download restarted because the blob was
overwritten mid-read, keeps trying."""
COPY_POLL_DEADLINE = 3600.0

BLOCK_BLOB_MEMO_SIZE = 4096
"""How many blobs this process remembers as block blobs, so that appending to them again skips
the AppendBlock that would be refused (a stale entry costs nothing: the rewrite checks), and
how many append blobs' next append positions it remembers (a stale one costs a refused
AppendBlock and a HEAD)."""

_METADATA_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_METADATA_RULE = ("Azure's metadata keys are C# identifiers (ASCII letters, digits and '_',"
                  " not starting with a digit)")


def _checked_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    """``metadata`` as Azure takes it (``x-ms-meta-*`` headers), or None for none. Raises
    ``InvalidArgument`` before any request for a key Azure refuses or a value no header
    carries (:func:`~xtstore.providers._shared.check_header_metadata`)."""
    if metadata is None:
        return None
    return check_header_metadata(metadata, _METADATA_KEY, _METADATA_RULE)


_REWRITE_CODES = frozenset({"InvalidBlobType", "BlockCountExceedsLimit"})
"""Append-block refusals that mean "not an append blob (or a full one)": rewrite instead."""


def _status(error: HttpResponseError) -> int | None:
    status = getattr(error, "status_code", None)
    return int(status) if status is not None else None


_CHECKED_STATUSES = frozenset({404, 409, 412})
"""Refusals whose meaning a call acts on ("not found", "exists", "condition not met")."""


class _WholeHeadTransport(RequestsTransport):  # type: ignore[misc]
    """The SDK's transport, refusing a response cut inside its head: every Azure Storage
    response carries ``x-ms-request-id`` (a refusal at least ``x-ms-error-code``), so one
    without is the start of a response whose connection broke, not a success or a refusal
    to act on (the SDK would parse it into a missing time or snapshot id)."""

    def send(self, request: Any, **kwargs: Any) -> Any:
        response = super().send(request, **kwargs)
        status = response.status_code
        headers = response.headers
        if (status < 300 or status in _CHECKED_STATUSES) and \
                "x-ms-request-id" not in headers and "x-ms-error-code" not in headers:
            response.close()
            raise ServiceResponseError(
                f"HTTP {status} response cut inside its head (no x-ms-request-id)")
        return response


def _may_have_applied(error: BaseException) -> bool:
    """Whether a request that failed with ``error`` may have reached the store and changed it:
    everything but a request never sent and a refusal (4xx other than 408)."""
    if isinstance(error, ServiceRequestError):
        return False
    if isinstance(error, HttpResponseError):
        status = _status(error)
        return status is None or status >= 500 or status == 408
    return True


@contextmanager
def _noting_sent(memo: dict[str, Any], key: str = "sent") -> Iterator[None]:
    """Run a change request; if it fails in a way that may have applied it, say so in the
    call's memo (``xtstore.attempts``), for the repeat to check."""
    try:
        yield
    except Exception as error:
        if _may_have_applied(error):
            memo[key] = True
        raise


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _bounded_add(memory: set[tuple[str, str]], key: tuple[str, str]) -> None:
    if len(memory) >= BLOCK_BLOB_MEMO_SIZE:
        memory.clear()
    memory.add(key)


def _snapshot_time(snapshot: str) -> datetime:
    """Azure's snapshot id is an ISO timestamp with 7 decimals; keep microseconds."""
    head, _, fraction = snapshot.rstrip("Z").partition(".")
    parsed = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return parsed.replace(microsecond=int((fraction + "000000")[:6]))


def _properties(size: int, last_modified: datetime, etag: str, content_settings: Any,
                metadata: Mapping[str, str] | None = None) -> BlobProperties:
    """The properties of a HEAD or a listing entry (both carry the Content-MD5: every blob
    this provider writes keeps one; an append blob has none)."""
    # Headers quote the etag and listings do not; one form for both.
    content_type = getattr(content_settings, "content_type", None)
    md5 = getattr(content_settings, "content_md5", None)
    return BlobProperties.from_datetime(
        int(size or 0), last_modified, str(etag).strip('"'), content_type=content_type,
        metadata=dict(metadata or {}), checksums={"md5": bytes(md5).hex()} if md5 else None,
    )


def _progress_hook(callback: ProgressCallback | None, total: int | None
                   ) -> Callable[[int, int | None], None] | None:
    if callback is None:
        return None

    def hook(current: int, reported_total: int | None) -> None:
        callback(current, reported_total if reported_total is not None else (total or current))

    return hook


def _expected(size: Any, md5: Any) -> Expected:
    """What a download's content must be: the blob's ``size`` and, where it has one, its
    stored Content-MD5 (set by Put Blob, and by xtstore on every ``create_blob``)."""
    return Expected(int(size), "md5", bytes(md5)) if md5 else Expected(int(size))


def _expected_of(properties: Any) -> Expected:
    """:func:`_expected` of an SDK downloader's blob properties."""
    return _expected(properties.size, getattr(properties.content_settings, "content_md5", None))


class _Chunks:
    """A streamed Get Blob response as a :class:`~xtstore.providers._blob_reader.Body`: the
    chunks azure-core reads (``connection_data_block_size``), copied out as they are asked
    for. What a read raises is azure-core's, translated by the Store's layers."""

    def __init__(self, chunks: Iterator[bytes], response: Any) -> None:
        self._chunks = chunks
        self._response = response
        self._pending = memoryview(b"")

    def readinto(self, buffer: memoryview, /) -> int:
        if not self._pending:
            self._pending = memoryview(next(self._chunks, b""))
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def chunk(self) -> bytes:
        """The next chunk as azure-core read it (``b""`` at the end), for a body never read
        with :meth:`readinto`."""
        return next(self._chunks, b"")

    def close(self) -> None:
        self._response.close()


def _read_body(body: _Chunks, length: int) -> bytes:
    """The ``length`` bytes of a streamed response never read before (a shorter one is a
    transient error)."""
    parts = []
    filled = 0
    while filled < length:
        data = body.chunk()
        if not data:
            raise ServiceResponseError(f"Get Blob response ended after {filled} of its"
                                       f" {length} bytes")
        parts.append(data)
        filled += len(data)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    return data if filled == length else data[:length]


def _byte_range(start: int, end: int | None) -> str | None:
    """The Range header of ``[start, end)`` (``end`` None: to the end); None for the whole."""
    if end is not None:
        return f"bytes={start}-{end - 1}"
    return f"bytes={start}-" if start else None


def _download_parts(pipeline_response: Any, chunks: Any, headers: dict[str, Any]
                    ) -> tuple[Any, dict[str, Any], Any]:
    """A Get Blob's chunks, deserialized headers (its ``x-ms-meta-*`` ones read as the blob's
    metadata under ``x-ms-meta``, as the SDK's own properties read them) and raw response."""
    http_response = pipeline_response.http_response
    metadata = {name[10:]: value for name, value in http_response.headers.items()
                if name.lower().startswith("x-ms-meta-")}
    return chunks, {**headers, "x-ms-meta": metadata}, http_response.internal_response


def _downloaded_properties(headers: Mapping[str, Any]) -> BlobProperties:
    """The properties a whole-blob Get Blob's headers tell, as a HEAD gives them."""
    md5 = headers.get("Content-MD5") or headers.get("x-ms-blob-content-md5")
    return _properties(int(headers["Content-Length"]), headers["Last-Modified"],
                       str(headers["ETag"]),
                       ContentSettings(content_type=headers.get("Content-Type"),
                                       content_md5=md5),
                       headers["x-ms-meta"])


def _stream_from(client: Any, start: int, end: int | None, etag: str | None
                 ) -> tuple[_Chunks, Mapping[str, Any]]:
    """One Get Blob of ``[start, end)`` (``end`` None: to the end) streamed, and its
    deserialized headers: the whole blob and unconditional for the first (an empty blob takes
    no range), pinned to ``etag`` for the others (``PreconditionFailed`` when the blob changed
    since).

    The SDK's ``download_blob`` reads its first range (``max-single-get-size``) whole and
    then one request per chunk; the generated operation under it streams one response."""
    conditions = ModifiedAccessConditions(if_match=etag) if etag is not None else None
    try:
        chunks, headers, response = client._client.blob.download(
            range=_byte_range(start, end),
            modified_access_conditions=conditions,
            decompress=False,
            cls=_download_parts,
        )
    except HttpResponseError as error:
        if etag is not None and _status(error) == 412:
            raise changed_while_read() from None
        raise
    if headers.get("ETag") is None or headers.get("Content-Length") is None:
        response.close()
        raise ServiceResponseError("Get Blob response without its ETag or Content-Length")
    return _Chunks(chunks, response), headers


class _SharedProgress:
    """A download's progress, added to by every thread writing part of it; the callback is
    called under the lock, so its calls never overlap and their counts only grow."""

    def __init__(self, callback: ProgressCallback | None, total: int) -> None:
        self._callback = callback
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        if self._callback is None:
            return
        with self._lock:
            self._done += count
            self._callback(self._done, self._total)


def _write_stream(body: _Chunks, length: int, out: IO[bytes],
                  progress: _SharedProgress) -> None:
    """The first ``length`` bytes of ``body`` written to ``out`` as they arrive; the response
    is closed after them (a shorter body is a transient error)."""
    written = 0
    try:
        while written < length:
            data = body.chunk()
            if not data:
                raise ServiceResponseError(f"Get Blob response ended after {written} of its"
                                           f" {length} bytes")
            if len(data) > length - written:
                data = data[:length - written]
            out.write(data)
            written += len(data)
            progress.add(len(data))
    finally:
        body.close()


def _write_at(body: _Chunks, start: int, end: int, fd: int, progress: _SharedProgress) -> None:
    """``body`` (the range ``[start, end)``) written in place in the file ``fd``."""
    offset = start
    while offset < end:
        data = body.chunk()
        if not data:
            raise ServiceResponseError(f"Get Blob response ended after {offset - start} of"
                                       f" its {end - start} bytes")
        data = data[:end - offset]
        view = memoryview(data)
        while view:
            count = os.pwrite(fd, view, offset)
            view = view[count:]
            offset += count
        progress.add(len(data))


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def _read_block(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` bytes of ``stream``; fewer only at its end."""
    data = stream.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    count = len(data)
    while count < size and (more := stream.read(size - count)):
        parts.append(more)
        count += len(more)
    return b"".join(parts)


class _Upload:
    """One block blob written whole, by one Put Blob or by Put Blocks and a Put Block List.
    Every request carries the MD5 of its body (``Content-MD5``), which Azure checks (a
    mismatch is refused, ``IntegrityError``, and nothing is committed), and the blob keeps
    the MD5 of the whole (``x-ms-blob-content-md5``) for downloads to check.

    Each digest is computed once: a Put Blob's body is the whole, so its MD5 is both; a
    block's MD5 is computed by the worker that sends it, while the reading thread adds the
    block to the whole's MD5 (hashlib leaves the GIL for both). The SDK's
    ``validate_content`` would hash every body again, and would send blocks through its
    copying upload path.

    The blob's metadata (``metadata``: None clears it) goes with the Put Blob or the Put
    Block List, the request that makes the content visible, so no reader sees the content
    without it."""

    def __init__(self, client: Any, concurrency: int, *, fail_if_exists: bool = False,
                 progress: Callable[[int, int | None], None] | None = None,
                 content_type: str | None = None,
                 metadata: Mapping[str, str] | None = None) -> None:
        self._client = client
        self._concurrency = concurrency
        self._fail_if_exists = fail_if_exists
        self._progress = progress
        self._content_type = content_type
        self._metadata = dict(metadata) if metadata is not None else None
        self.single_put_size = int(client._config.max_single_put_size)
        self.block_size = int(client._config.max_block_size)

    def put(self, data: bytes) -> None:
        """One Put Blob of ``data``."""
        md5 = _md5(data)
        self._client.upload_blob(
            data, length=len(data), overwrite=not self._fail_if_exists,
            transactional_content_md5=md5, content_settings=self.settings(md5),
            metadata=self._metadata,
        )
        if self._progress is not None:
            self._progress(len(data), len(data))

    def from_bytes(self, data: bytes) -> None:
        if len(data) <= self.single_put_size:
            self.put(data)
        else:
            self.blocks((data[start:start + self.block_size]
                         for start in range(0, len(data), self.block_size)), len(data))

    def from_stream(self, stream: IO[bytes], length: int | None) -> None:
        """Everything ``stream`` yields (at most ``length`` bytes, where given), holding at
        most one block per worker, and one more being read, in memory."""
        if length is not None and length <= self.single_put_size:
            self.put(_read_block(stream, length))
            return
        first = _read_block(stream, self._next_size(0, length))
        if length is None and len(first) < self.block_size:
            self.put(first)  # the whole stream, and it ended within one block
            return

        def blocks() -> Iterator[bytes]:
            block, count = first, 0
            while block:
                yield block
                count += len(block)
                size = self._next_size(count, length)
                block = _read_block(stream, size) if size else b""

        self.blocks(blocks(), length)

    def _next_size(self, count: int, length: int | None) -> int:
        return self.block_size if length is None else min(self.block_size, length - count)

    def blocks(self, blocks: Iterable[bytes], total: int | None) -> None:
        """Stage ``blocks`` (``concurrency`` at a time), then commit them with the MD5 of
        their whole. The block ids are new for every upload, so concurrent uploads of one
        blob never commit each other's blocks."""
        whole = hashlib.md5(usedforsecurity=False)
        upload_id = secrets.token_hex(8)
        ids: list[str] = []
        sent = 0
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="xtstore-block") as pool:
            pending: deque[Future[int]] = deque()
            try:
                for block in blocks:
                    block_id = base64.b64encode(f"{upload_id}-{len(ids):05d}".encode()).decode()
                    ids.append(block_id)
                    pending.append(pool.submit(self.stage, block_id, block))
                    whole.update(block)
                    while len(pending) >= self._concurrency or (pending and pending[0].done()):
                        sent = self._staged(pending.popleft(), sent, total)
                while pending:
                    sent = self._staged(pending.popleft(), sent, total)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        self.commit(ids, whole.digest())

    def commit(self, ids: list[str], md5: bytes) -> None:
        """One Put Block List of the staged blocks ``ids``, the blob keeping ``md5`` as the
        MD5 of its whole content."""
        conditions: dict[str, Any] = (
            {"match_condition": MatchConditions.IfMissing} if self._fail_if_exists else {})
        try:
            self._client.commit_block_list(
                [BlobBlock(block_id) for block_id in ids],
                content_settings=self.settings(md5), metadata=self._metadata,
                validate_content=True, **conditions)  # the block list's own MD5 (a few KiB)
        except ResourceModifiedError as error:
            if not self._fail_if_exists:
                raise
            # A commit under If-None-Match: * that met a blob, answered 412 ConditionNotMet
            # instead of 409 BlobAlreadyExists (Azurite says 409): the SDK's own upload
            # reports that as BlobAlreadyExists too.
            exists: Any = ResourceExistsError(message="The specified blob already exists.",
                                              response=error.response)
            exists.error_code = "BlobAlreadyExists"
            raise exists from None

    def settings(self, md5: bytes) -> Any:
        """The blob's content settings: the MD5 of its whole content and its content type
        (None: Azure's default, application/octet-stream)."""
        return ContentSettings(content_md5=bytearray(md5), content_type=self._content_type)

    def stage(self, block_id: str, block: bytes) -> int:
        """One Put Block, with the block's MD5 for Azure to check."""
        self._client.stage_block(block_id, block, length=len(block),
                                 transactional_content_md5=_md5(block))
        return len(block)

    def _staged(self, future: Future[int], sent: int, total: int | None) -> int:
        sent += future.result()
        if self._progress is not None:
            self._progress(sent, total)
        return sent


class _BlockSink:
    """What an Azure writer (``open_blob(mode="wb")``) puts its parts in: each part a staged
    block, the tail and the block list committed on close (one Put Blob if there is no part),
    every request with the MD5 of its body and the blob with the MD5 of its whole. Block ids
    are this writer's token and the part's index, so a repeated step stages the same block
    again; the whole's MD5 takes each part once, however often it is staged."""

    def __init__(self, upload: _Upload) -> None:
        self._upload = upload
        self.part_size = upload.block_size
        self._token = secrets.token_hex(8)
        self._whole = hashlib.md5(usedforsecurity=False)
        self._hashed = 0
        """How many parts (and the tail, as one more) went into ``_whole``."""

    def _block_id(self, index: int) -> str:
        return base64.b64encode(f"{self._token}-w{index:06d}".encode()).decode()

    def _hash(self, index: int, data: bytes) -> None:
        if index == self._hashed:
            self._whole.update(data)
            self._hashed += 1

    def write_part(self, index: int, data: bytes) -> None:
        self._hash(index, data)
        self._upload.stage(self._block_id(index), data)

    def commit(self, parts: int, tail: bytes) -> None:
        if not parts:
            self._upload.put(tail)
            return
        ids = [self._block_id(index) for index in range(parts)]
        if tail:
            self.write_part(parts, tail)
            ids.append(self._block_id(parts))
        try:
            self._upload.commit(ids, self._whole.digest())
        except HttpResponseError as error:
            if error_code(error) != "InvalidBlockList":
                raise
            raise PreconditionFailed(
                "another upload of this blob committed while this writer wrote, which dropped"
                " the blocks it had staged: nothing of this writer's was stored") from None

    def abort(self) -> None:
        """Nothing to send: the staged blocks are never committed."""


def _positive_int(config: Mapping[str, Any], key: str, default: int, service: str) -> int:
    value = config.get(key, default)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        raise ConfigError(f"must be a positive integer, not {value!r}", key_path=key,
                          service=service) from None


class AzureBlobProvider(StoreInterface):
    """Azure Blob Storage provider. Constructed with the service's config dict; see
    :mod:`xtstore.providers.azure.auth` for the accepted keys. Raises ``ConfigError`` when
    the config names no usable credential."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._service_name = str(config.get("name") or "azure-blob")
        spec = client_spec(config)
        self._block_blobs: set[tuple[str, str]] = set()
        self._append_positions: dict[tuple[str, str], int] = {}
        self._listers: dict[str, Any] = {}
        self._scrub = Scrubber(spec.secrets)
        self._description = spec.description
        self._concurrency = _positive_int(config, "max-concurrency", DEFAULT_MAX_CONCURRENCY,
                                          self._service_name)
        self._max_streamed_get_size = _positive_int(
            config, "max-streamed-get-size", DEFAULT_MAX_STREAMED_GET_SIZE, self._service_name)
        try:
            self._service = build_service_client(spec, _WholeHeadTransport)
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
        """Raises ``ContainerAlreadyExists``. Safe to repeat: a repeat that finds the
        container after a lost attempt of this call takes it as that attempt's."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        after_sent = attempt.memo.get("sent", False)
        try:
            with _noting_sent(attempt.memo):
                self._service.create_container(container)
        except HttpResponseError as error:
            if not (after_sent and error_code(error) == "ContainerAlreadyExists"):
                raise
        return True

    def list_containers(self) -> list[str]:
        return sorted(item.name for item in
                      self._service.list_containers(results_per_page=PAGE_SIZE))

    def delete_container(self, container: str) -> bool:
        """Raises ``ContainerNotFound``. Safe to repeat: a repeat that finds the container
        gone (or being deleted) after a lost attempt of this call takes it as that attempt's."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        after_sent = attempt.memo.get("sent", False)
        try:
            with _noting_sent(attempt.memo):
                self._container_client(container).delete_container()
        except HttpResponseError as error:
            if not (after_sent and error_code(error) in ("ContainerNotFound",
                                                         "ContainerBeingDeleted")):
                raise
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
        """Raises ``ContainerNotFound``, ``InvalidArgument`` (before any request)."""
        checked = _checked_metadata(metadata) or {}
        self._container_client(container).set_container_metadata(checked)

    # ---- blob writes ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return bool(self._blob_client(container, blob_path).exists())

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False, *,
        content_type: str | None = None, metadata: Mapping[str, str] | None = None,
    ) -> None:
        """One Put Blob (or staged blocks and one commit above ``max-single-put-size``);
        ``fail_if_exists`` sends ``If-None-Match: *``, and a repeat that meets the blob after
        a lost attempt of this call compares it with ``text``. Every request carries the MD5
        of its body and the blob keeps the MD5 of the whole (Azure refuses damaged bytes:
        ``IntegrityError``). ``metadata`` is stored by the request that commits the content.
        Raises ``BlobAlreadyExists``, ``ContainerNotFound``, ``InvalidArgument`` (metadata
        Azure cannot take)."""
        data = to_bytes(text)
        checked = _checked_metadata(metadata)
        client = self._blob_client(container, blob_path)
        attempt = current_attempt()
        attempt.repeat_safe = True
        after_sent = fail_if_exists and attempt.memo.get("sent", False)
        try:
            with _noting_sent(attempt.memo):
                _Upload(client, self._concurrency, fail_if_exists=fail_if_exists,
                        content_type=content_type, metadata=checked).from_bytes(data)
        except HttpResponseError as error:
            if not (after_sent and error_code(error) == "BlobAlreadyExists"
                    and self._holds(client, data)):
                raise

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
        """As :meth:`create_blob_from_stream`, of the file's content. Raises
        ``ContainerNotFound``, ``FileNotFoundError``, ``InvalidArgument``."""
        checked = _checked_metadata(metadata)
        with open(source_fn, "rb") as source:
            length = os.fstat(source.fileno()).st_size
            self._upload_stream(container, blob_path, source, length, progress_callback,
                                content_type, checked)

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
        """Block upload from ``stream`` (read one block per worker at a time); the blob appears
        only when the block list is committed, with ``metadata``. Every request carries the
        MD5 of its body, which Azure checks (``IntegrityError``), and the blob keeps the MD5
        of the whole. Raises ``ContainerNotFound``, ``InvalidArgument``."""
        self._upload_stream(container, blob_path, stream, length, progress_callback,
                            content_type, _checked_metadata(metadata))

    def _upload_stream(self, container: str, blob_path: str, stream: IO[bytes],
                       length: int | None, progress_callback: ProgressCallback | None,
                       content_type: str | None, metadata: dict[str, str] | None) -> None:
        _Upload(self._blob_client(container, blob_path), self._concurrency,
                progress=_progress_hook(progress_callback, length),
                content_type=content_type, metadata=metadata).from_stream(stream, length)

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        """A writer staging a block (``max-block-size``) per part as it fills and committing
        the block list on close (one Put Blob when the content fits in one block); blocks of
        a writer that never commits are dropped by Azure (a week later, or at the blob's next
        commit); the commit stores ``metadata``. Raises ``ContainerNotFound`` (one request),
        ``InvalidArgument`` (before it)."""
        checked = _checked_metadata(metadata)
        if not self.does_container_exist(container):
            raise ContainerNotFound("container not found", container=container)
        upload = _Upload(self._blob_client(container, blob_path), 1, content_type=content_type,
                         metadata=checked)
        return BlobWriter(_BlockSink(upload))

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Texts up to 4 MiB go in one AppendBlock (atomic, so concurrent appends never
        interleave) at the position this process learned from its last append to the blob
        (else from a HEAD). Larger texts, ``append_with_rewrite`` and blobs that are not
        append blobs (e.g. made by ``create_blob``) use read-modify-write under ``If-Match``,
        retried when another writer got in first. Safe to repeat: every write is conditional
        (append position, ``If-Match``, ``If-None-Match: *``) and a repeat after a lost
        attempt checks whether that attempt's bytes are there. Raises ``ContainerNotFound``,
        ``PreconditionFailed`` (still losing races after two minutes)."""
        data = to_bytes(text)
        client = self._blob_client(container, blob_path)
        key = (container, blob_path)
        attempt = current_attempt()
        attempt.repeat_safe = True
        memo = attempt.memo
        if append_with_rewrite or len(data) > APPEND_BLOCK_LIMIT:
            self._rewrite_append(client, data, memo, native_ok=False)
            return
        if key in self._block_blobs:
            size = self._rewrite_append(client, data, memo, native_ok=True)
            if size is None:
                return
            self._block_blobs.discard(key)  # an append blob now
            memo.setdefault("position", size)
        if self._native_append(client, key, data, memo):
            _bounded_add(self._block_blobs, key)

    def _native_append(self, client: Any, key: tuple[str, str], data: bytes,
                       memo: dict[str, Any]) -> bool:
        """AppendBlock at the known position, creating the append blob if missing. True if
        the blob turned out not to be an append blob and was rewritten instead.

        ``memo`` (this call's, across its attempts): ``position``, where this call appends;
        ``pending``, set when an AppendBlock failed after it may have reached the store (a
        refusal of that position then checks whether those bytes are ours); ``created``,
        the etag of the empty append blob this call created."""
        if not data:
            self._create_append_blob(client, memo)
            return False
        deadline = time.monotonic() + REWRITE_DEADLINE
        while True:
            position = memo.get("position", self._append_positions.get(key))
            if position is None:
                position = self._append_position_of(client, memo)
                if position is None:  # not an append blob
                    self._rewrite_append(client, data, memo, native_ok=False)
                    return True
            memo["position"] = position
            try:
                with _noting_sent(memo, "pending"):
                    client.append_block(data, appendpos_condition=position)
            except HttpResponseError as error:
                code = error_code(error)
                if code in _REWRITE_CODES:
                    self._append_positions.pop(key, None)
                    self._rewrite_append(client, data, memo, native_ok=False)
                    return True
                if code not in ("BlobNotFound", "AppendPositionConditionNotMet"):
                    self._undo_own_create(client, memo)
                    raise
                self._append_positions.pop(key, None)
                if time.monotonic() > deadline:
                    raise PreconditionFailed("append kept losing to concurrent writers; "
                                             "gave up") from None
                if code == "BlobNotFound":  # deleted since the position was learned
                    memo.pop("pending", None)  # nothing of ours can be in a missing blob
                    self._create_append_blob(client, memo)
                    memo["position"] = 0
                    continue
                size = int(client.get_blob_properties().size)
                if memo.pop("pending", False) and \
                        self._holds_at(client, position, data, size):
                    break  # a lost attempt of this call appended them
                memo["position"] = size  # another writer appended first
            except Exception:
                self._undo_own_create(client, memo)
                raise
            else:
                break
        if len(self._append_positions) >= BLOCK_BLOB_MEMO_SIZE:
            self._append_positions.clear()
        self._append_positions[key] = position + len(data)
        return False

    def _append_position_of(self, client: Any, memo: dict[str, Any]) -> int | None:
        """The append blob's length (one HEAD), 0 after creating it if it is missing, None
        if the blob is not an append blob."""
        try:
            props = client.get_blob_properties()
        except HttpResponseError as error:
            if _status(error) != 404 or error_code(error) not in (None, "BlobNotFound"):
                raise
            self._create_append_blob(client, memo)
            return 0
        if props.blob_type != BlobType.APPENDBLOB:
            return None
        return int(props.size)

    @staticmethod
    def _create_append_blob(client: Any, memo: dict[str, Any]) -> None:
        try:
            result = client.create_append_blob(match_condition=MatchConditions.IfMissing)
        except HttpResponseError as error:
            # Another appender, or a lost attempt of this call, created it first: fine.
            if _status(error) not in (409, 412):
                raise
        else:
            memo["created"] = result.get("etag")

    @staticmethod
    def _undo_own_create(client: Any, memo: dict[str, Any]) -> None:
        """The AppendBlock after this call's own create failed: delete the blob while it is
        still the empty one created (``If-Match`` its etag), so that giving up leaves the old
        state (no blob), not an empty blob. A repeat starts again from the create."""
        created = memo.pop("created", None)
        if created is None:
            return
        try:
            client.delete_blob(etag=created, match_condition=MatchConditions.IfNotModified)
        except Exception:  # changed since (our append landed, or another's) or unreachable
            return
        memo.pop("position", None)
        memo.pop("pending", None)

    def _holds_at(self, client: Any, position: int, data: bytes, size: int) -> bool:
        """Whether the blob holds ``data`` at ``position`` (one ranged read)."""
        if size < position + len(data):
            return False
        found = client.download_blob(offset=position, length=len(data)).readall()
        return bool(found == data)

    def _rewrite_append(self, client: Any, data: bytes, memo: dict[str, Any], *,
                        native_ok: bool) -> int | None:
        """Read-modify-write until it wins. With ``native_ok``, an append blob found on the
        way is left alone and its length returned (for an AppendBlock); else None."""
        deadline = time.monotonic() + REWRITE_DEADLINE
        delay = 0.01
        while True:
            try:
                return self._rewrite_once(client, data, memo, native_ok)
            except HttpResponseError as error:
                if _status(error) not in (409, 412):
                    raise
                memo.pop("expect", None)  # refused: that write is not in the blob
            if time.monotonic() > deadline:
                raise PreconditionFailed("append kept losing to concurrent writers; gave up")
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.5)

    def _rewrite_once(self, client: Any, data: bytes, memo: dict[str, Any],
                      native_ok: bool) -> int | None:
        """One read-modify-write; raises a 409/412 error when another writer got in first.
        ``memo["expect"]`` is the length and hash of the content a write of this call sent:
        a repeat that finds the blob starting with it takes that write as applied."""
        try:
            downloader = client.download_blob(max_concurrency=self._concurrency)
        except HttpResponseError as error:
            if error_code(error) != "BlobNotFound":
                raise
            memo["expect"] = (len(data), _digest(data))
            client.upload_blob(data, length=len(data), overwrite=False)  # If-None-Match: *
            return None
        if native_ok and downloader.properties.blob_type == BlobType.APPENDBLOB:
            return int(downloader.properties.size)
        old = downloader.readall()
        expected = memo.get("expect")
        if expected is not None and len(old) >= expected[0] and \
                _digest(old[: expected[0]]) == expected[1]:
            return None  # a lost attempt of this call wrote it
        content = old + data
        memo["expect"] = (len(content), _digest(content))
        kept = downloader.properties  # an append keeps the blob's metadata and content type
        client.upload_blob(
            content, length=len(content), overwrite=True, max_concurrency=self._concurrency,
            etag=kept.etag, match_condition=MatchConditions.IfNotModified,
            metadata=dict(kept.metadata or {}), content_settings=ContentSettings(
                content_type=getattr(kept.content_settings, "content_type", None)),
        )
        return None

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

    def _holds(self, client: Any, data: bytes) -> bool:
        """Whether the blob's content is ``data``: by size and the Content-MD5 the service
        keeps, else (a blob committed from blocks has none) by reading it back."""
        props = client.get_blob_properties()
        if int(props.size) != len(data):
            return False
        md5 = getattr(props.content_settings, "content_md5", None)
        if md5:
            return bytes(md5) == _md5(data)
        return bool(client.download_blob(max_concurrency=self._concurrency).readall() == data)

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """Lists the blob's snapshots, then takes one. Safe to repeat: a repeat after a lost
        attempt returns the snapshot that attempt made (one not in the first listing) rather
        than take another. Raises ``BlobNotFound``."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        memo = attempt.memo
        if "before" not in memo:
            memo["before"] = frozenset(self._snapshot_ids(container, blob_path))
        elif memo.get("sent"):
            made = sorted(set(self._snapshot_ids(container, blob_path)) - memo["before"])
            if made:
                return self._snapshot_info(container, blob_path, made[0])
        with _noting_sent(memo):
            result = self._blob_client(container, blob_path).create_snapshot()
        return self._snapshot_info(container, blob_path, str(result["snapshot"]))

    @staticmethod
    def _snapshot_info(container: str, blob_path: str, snapshot: str) -> SnapshotInfo:
        return SnapshotInfo(container=container, blob=blob_path, snapshot=snapshot,
                            created=_snapshot_time(snapshot))

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """With no ``snapshot``, the blob and all its snapshots, in one request. Safe to
        repeat: a repeat that finds no blob after a lost attempt of this call takes it as that
        attempt's. Raises ``BlobNotFound``."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        after_sent = attempt.memo.get("sent", False)
        try:
            with _SnapshotIdErrors(snapshot), _noting_sent(attempt.memo):
                if snapshot is None:
                    self._blob_client(container, blob_path).delete_blob(
                        delete_snapshots="include")
                else:
                    self._blob_client(container, blob_path, snapshot).delete_blob()
        except HttpResponseError as error:
            if not (after_sent and _status(error) == 404
                    and error_code(error) in (None, "BlobNotFound")):
                raise

    def delete_blobs(
        self, container: str, blob_paths: Sequence[str]
    ) -> dict[str, StoreError | None]:
        """Blob Batch requests of up to 256 Delete Blobs each (``x-ms-delete-snapshots:
        include``, as :meth:`delete_blob`). Raises ``ContainerNotFound``; a name Azure
        refuses to delete gets its typed error (a transient one fails the call, for the Store
        to repeat).

        Safe to repeat: the names a lost attempt's batches answered keep their outcomes, and
        a repeat that finds no blob among the names of a batch that may have applied takes
        it as deleted by that batch."""
        names = list(dict.fromkeys(blob_paths))
        attempt = current_attempt()
        attempt.repeat_safe = True
        outcomes: dict[str, StoreError | None] = attempt.memo.setdefault("outcomes", {})
        maybe_deleted: set[str] = attempt.memo.setdefault("maybe_deleted", set())
        client = self._container_client(container)
        pending = [name for name in names if name not in outcomes]
        for start in range(0, len(pending), BATCH_LIMIT):
            batch = pending[start:start + BATCH_LIMIT]
            try:
                parts = list(client.delete_blobs(*batch, delete_snapshots="include",
                                                 raise_on_any_failure=False))
            except Exception as error:
                if _may_have_applied(error):
                    maybe_deleted.update(batch)
                raise
            if len(parts) != len(batch):
                maybe_deleted.update(batch)
                raise ServiceResponseError(f"Blob Batch answered {len(parts)} of its"
                                           f" {len(batch)} deletes")
            for name, part in zip(batch, parts, strict=True):
                outcomes[name] = self._batch_outcome(part, name in maybe_deleted)
        return {name: outcomes[name] for name in names}

    def _batch_outcome(self, part: Any, maybe_deleted: bool) -> StoreError | None:
        """One Delete Blob's answer in a batch: None when deleted (or, ``maybe_deleted``,
        already gone), else its typed error. Raises ``ContainerNotFound`` and transient
        errors, which are the whole call's."""
        status = int(part.status_code)
        if status < 300:
            return None
        error = HttpResponseError(response=part)
        code = error_code(error)
        if status == 404 and maybe_deleted and code in (None, "BlobNotFound"):
            return None
        typed = self.translate_error(error, about_blob=True) or StoreError(
            f"HTTP {status} {code or ''}".strip())
        if isinstance(typed, (ContainerNotFound, TransientError)):
            raise typed
        return typed

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Raises ``BlobNotFound``, ``InvalidArgument`` (before any request)."""
        checked = _checked_metadata(metadata) or {}
        self._blob_client(container, blob_path).set_blob_metadata(checked)

    # ---- blob reads ----

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """One Get Blob up to ``max-streamed-get-size`` (an empty blob too), a larger blob
        the SDK's parallel ranged download pinned to its etag (a change restarts it).
        Checked against the blob's size and stored MD5 (``IntegrityError``). Raises
        ``BlobNotFound``."""
        client = self._blob_client(container, blob_path, snapshot)

        def download() -> bytes:
            body, headers = _stream_from(client, 0, None, None)
            size = int(headers["Content-Length"])
            if size > self._max_streamed_get_size:
                body.close()
                downloader = client.download_blob(
                    max_concurrency=self._concurrency, etag=str(headers["ETag"]),
                    match_condition=MatchConditions.IfNotModified)
                return check_bytes(bytes(downloader.readall()),
                                   _expected_of(downloader.properties))
            try:
                data = _read_body(body, size)
            finally:
                body.close()
            md5 = headers.get("Content-MD5") or headers.get("x-ms-blob-content-md5")
            return check_bytes(data, _expected(size, md5))

        with _SnapshotIdErrors(snapshot):
            return _restarting_on_change(download)

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """One Get Blob, streamed as it is read; after a seek, ranged Get Blobs of what a
        read needs (at least the read-ahead, growing as reading goes on in order), and after
        a failure a ranged Get Blob from where it broke off, each pinned to the first one's
        etag (``PreconditionFailed`` if the blob was overwritten meanwhile), under the
        Store's retry. Checked against the blob's size and stored MD5 once read through in
        order (:mod:`xtstore.providers._blob_reader`). Raises ``BlobNotFound``."""
        client = self._blob_client(container, blob_path, snapshot)
        with _SnapshotIdErrors(snapshot):
            first, headers = _stream_from(client, 0, None, None)
        etag = str(headers["ETag"])

        def open_range(start: int, end: int | None) -> _Chunks:
            return _stream_from(client, start, end, etag)[0]

        # A whole-blob Get Blob answers with the stored MD5 as its Content-MD5.
        md5 = headers.get("Content-MD5") or headers.get("x-ms-blob-content-md5")
        return open_ranged(open_range, _expected(headers["Content-Length"], md5), first)

    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        """One Get Blob of the range (``b""`` from at or past the end: Azure's 416). Raises
        ``BlobNotFound``."""
        client = self._blob_client(container, blob_path, snapshot)
        # An empty range still asks for one byte: a missing blob must fail all the same.
        asked = None if end is None else max(end, start + 1)
        try:
            with _SnapshotIdErrors(snapshot):
                body, headers = _stream_from(client, start, asked, None)
        except HttpResponseError as error:
            if _status(error) == 416:
                return b""
            raise
        try:
            data = _read_body(body, int(headers["Content-Length"]))
        finally:
            body.close()
        return data if end is None else data[:end - start]

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> BlobProperties:
        """One streamed Get Blob up to ``max-streamed-get-size`` (the fewest requests, one
        chunk in memory); a larger blob's first part in that Get Blob and the rest in
        ``max-concurrency`` ranged Get Blobs at once, each pinned to the first one's etag (a
        blob overwritten meanwhile starts the download again, so it never mixes two
        versions). Checked against the blob's size and stored MD5 before it takes
        ``dest_fn``'s name, else nothing is left (see
        :func:`~xtstore.providers._shared.verified_local_file`). Raises ``BlobNotFound``,
        ``IntegrityError``. Returns the properties the first Get Blob's headers tell (those
        of the version written)."""
        client = self._blob_client(container, blob_path, snapshot)
        with verified_local_file(dest_fn) as local, _SnapshotIdErrors(snapshot):
            fd = local.file.fileno()

            def download() -> BlobProperties:
                local.restart()
                if os.fstat(fd).st_size:  # ranges an earlier attempt wrote in place
                    os.ftruncate(fd, 0)
                body, headers = _stream_from(client, 0, None, None)
                size = int(headers["Content-Length"])
                md5 = headers.get("Content-MD5") or headers.get("x-ms-blob-content-md5")
                local.expect(_expected(size, md5))
                progress = _SharedProgress(progress_callback, size)
                if size <= self._max_streamed_get_size:
                    _write_stream(body, size, local.file, progress)
                else:
                    self._ranged_download(client, body, str(headers["ETag"]), size, fd,
                                          local.file, progress)
                return _downloaded_properties(headers)

            properties = _restarting_on_change(download)
        return properties

    def _ranged_download(self, client: Any, first: _Chunks, etag: str, size: int, fd: int,
                         out: IO[bytes], progress: _SharedProgress) -> None:
        """The first ``max-streamed-get-size`` bytes from ``first`` (the whole blob's
        response, closed after them), and the rest in ranged Get Blobs pinned to ``etag``,
        ``max-concurrency`` at once, each written in place as its chunks arrive."""
        head = self._max_streamed_get_size
        chunk = int(client._config.max_chunk_get_size)

        def fetch(start: int) -> None:
            end = min(start + chunk, size)
            body = _stream_from(client, start, end, etag)[0]
            try:
                _write_at(body, start, end, fd, progress)
            finally:
                body.close()

        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="xtstore-range") as pool:
            futures = [pool.submit(fetch, start) for start in range(head, size, chunk)]
            try:
                _write_stream(first, head, out, progress)
                for future in futures:
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

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
        return [self._snapshot_info(container, blob_path, snapshot)
                for snapshot in sorted(self._snapshot_ids(container, blob_path))]

    def _snapshot_ids(self, container: str, blob_path: str) -> list[str]:
        items = self._container_client(container).list_blobs(
            name_starts_with=blob_path, include=["snapshots"], results_per_page=PAGE_SIZE)
        return [item.snapshot for item in items if item.name == blob_path and item.snapshot]

    # ---- listing ----

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """Pages of 5,000: the first fetched by this call (so that the Store's retry covers
        it, and a missing container fails here), each later one from its continuation
        token while iterating (a step the Store retries: :mod:`xtstore.paging`);
        ``recursive=False`` uses the ``/`` delimiter, so child folders come from the
        service, each once. Each entry carries the blob's metadata (``include=metadata``:
        ``capabilities().listing_metadata``). The entries are read from each page's parsed
        XML: the SDK's models of it cost some 15 times as much CPU."""
        return self._listing(container, path, recursive, _xml_entries)

    list_blobs = list_pages

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """The names of :meth:`iter_blobs`, in its order and with its folder entries, paged
        as it is: the same List Blobs requests without metadata, and only the names read
        from each page's XML (as the SDK's ``list_blob_names``, which has no delimiter
        form)."""
        return self._listing(container, path, recursive, _xml_names)

    def _listing(self, container: str, path: str | None, recursive: bool,
                 entries_of: Callable[[Any, bool], list[T]]) -> PagedListing[T]:
        """A paged List Blobs (flat, or delimited at ``/`` unless ``recursive``), each page's
        entries read by ``entries_of(root, recursive)`` from its XML."""
        prefix = (path or "").removesuffix("*") or None
        operations = self._listing_operations(container)
        include = ["metadata"] if entries_of is _xml_entries else None

        def fetch_page(token: str | None) -> tuple[list[T], str | None]:
            if recursive:
                root = operations.list_blob_flat_segment(
                    prefix=prefix, marker=token, maxresults=PAGE_SIZE, include=include,
                    cls=_listing_xml)
            else:
                root = operations.list_blob_hierarchy_segment(
                    delimiter="/", prefix=prefix, marker=token, maxresults=PAGE_SIZE,
                    include=include, cls=_listing_xml)
            return entries_of(root, recursive), root.findtext("NextMarker") or None

        return PagedListing(fetch_page)

    def _listing_operations(self, container: str) -> Any:
        """The generated client's container operations for ``container``, with a
        deserializer that leaves List Blobs pages as the parsed XML (the SDK's own trick for
        ``list_blob_names``); one per container, a few remembered."""
        operations = self._listers.get(container)
        if operations is None:
            generated = self._container_client(container)._build_generated_client()
            generated.container._deserialize = _ListingXml()
            operations = generated.container
            if len(self._listers) >= _LISTERS:
                self._listers.clear()
            self._listers[container] = operations
        return operations


_LISTERS = 64
"""How many containers' listing clients a provider keeps."""


class _ListingXml(IgnoreListBlobsDeserializer):
    """Leaves both kinds of List Blobs response undeserialized (the SDK's own class does the
    flat one only)."""

    def __call__(self, target_obj: Any, response_data: Any, content_type: Any = None) -> Any:
        if target_obj in ("ListBlobsFlatSegmentResponse", "ListBlobsHierarchySegmentResponse"):
            return None
        # The generated Deserializer's own call, past the SDK class's (whose result some
        # versions drop); reached through the SDK class, whose module path is the same in
        # every supported version, unlike the Deserializer's.
        return super(IgnoreListBlobsDeserializer, self).__call__(  # type: ignore[no-untyped-call]
            target_obj, response_data, content_type)


def _listing_xml(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """A List Blobs page as the pipeline parsed it: an XML element tree."""
    return pipeline_response.context[ContentDecodePolicy.CONTEXT_NAME]


def _xml_name(node: Any) -> str:
    """A listing's ``<Name>``: Azure percent-encodes a name holding characters XML cannot
    carry (``Encoded="true"``), and the SDK decodes it."""
    text = node.text or ""
    return unquote(text) if node.get("Encoded") == "true" else text


def _xml_names(root: Any, recursive: bool) -> list[str]:
    """The names of a List Blobs page (its XML): blobs, and with the delimiter folders too,
    sorted (the service lists a page's folders and blobs apart, each in name order)."""
    # A <Name> has attributes only when encoded: most take no call.
    names = [_xml_name(node) if node.attrib else node.text or ""
             for node in root.iterfind("Blobs/Blob/Name" if recursive else "Blobs/*/Name")]
    if not recursive:
        names.sort()
    return names


def _xml_entries(root: Any, recursive: bool) -> list[BlobInfo]:
    """The entries of a List Blobs page (its XML), as :func:`_xml_names` orders them."""
    entries = []
    for node in root.iterfind("Blobs/*"):
        name = _xml_name(node.find("Name"))
        if node.tag == "BlobPrefix":
            entries.append(BlobInfo(name=name, is_dir=True))
            continue
        properties = node.find("Properties")
        field = properties.findtext
        md5 = field("Content-MD5")
        metadata = node.find("Metadata")
        entries.append(BlobInfo(name=name, properties=BlobProperties.from_datetime(
            int(field("Content-Length") or 0), _http_time(field("Last-Modified") or ""),
            (field("Etag") or "").strip('"'), content_type=field("Content-Type") or None,
            metadata={item.tag: item.text or "" for item in metadata}
            if metadata is not None else {},
            checksums={"md5": base64.b64decode(md5).hex()} if md5 else None)))
    if not recursive:
        entries.sort(key=lambda entry: entry.name)
    return entries


_MONTHS = {month: number for number, month in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def _http_time(text: str) -> datetime:
    """An RFC 1123 time as Azure writes it (``Wed, 02 Dec 2026 02:00:00 GMT``), in UTC."""
    try:
        _, day, month, year, clock, _ = text.split()
        hour, minute, second = clock.split(":")
        return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute),
                        int(second), tzinfo=timezone.utc)
    except (ValueError, KeyError):
        raise ServiceResponseError(f"List Blobs entry with an unreadable time {text!r}"
                                   ) from None


def _restarting_on_change(download: Callable[[], T]) -> T:
    """Run a download again from the start when the blob was overwritten between its ranged
    requests (the later ranges are pinned to the first response's etag: a 412 from the SDK,
    ``PreconditionFailed`` from :func:`_stream_from`)."""
    deadline = time.monotonic() + REWRITE_DEADLINE
    delay = 0.01
    while True:
        try:
            return download()
        except (HttpResponseError, PreconditionFailed) as error:
            changed = isinstance(error, PreconditionFailed) or _status(error) == 412
            if not changed or time.monotonic() > deadline:
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
