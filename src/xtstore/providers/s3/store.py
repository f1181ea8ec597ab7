"""``store-s3``: Amazon S3 and S3-compatible stores (MinIO, Ceph, moto, ...) on boto3.

Containers are buckets and blobs are objects. What S3 lacks is emulated with the same
observable behaviour (see docs/providers/s3.md):

* create-only writes: ``PutObject`` with ``If-None-Match: *``, atomic on the server;
* appends: conditional rewrites (:mod:`xtstore.providers.s3.append`);
* snapshots: server-side copies under a reserved prefix that listings hide
  (:mod:`xtstore.providers.s3.keys`);
* container metadata: user metadata of a reserved marker object.

botocore's and s3transfer's own retries are off: the Store's retry layer is the only one.
Every botocore error becomes a typed error in :mod:`xtstore.providers.s3.errors`. Each
non-idempotent call makes its repeats harmless (:mod:`xtstore.attempts`; docs/reliability.md,
"S3: safe repeats"): its writes are conditional or idempotent, and a repeat that meets "not
found" / "already exists" after this call's own sent attempt checks whether that attempt
applied.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import IO, Any, cast

from botocore.exceptions import ClientError

from xtstore.attempts import Attempt, current_attempt
from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    PreconditionFailed,
    StoreError,
    TransientError,
)
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.paging import list_pages
from xtstore.providers._blob_reader import changed_while_read, open_ranged
from xtstore.providers._public import provider_store_class
from xtstore.providers._shared import (
    CONTAINER_MARKER,
    SNAPSHOTS_PREFIX,
    check_header_metadata,
    snapshot_prefix,
    to_bytes,
)
from xtstore.providers.s3.append import Appender
from xtstore.providers.s3.config import S3Settings
from xtstore.providers.s3.description import DESCRIPTION
from xtstore.providers.s3.errors import error_code, s3_errors, translate
from xtstore.providers.s3.keys import check_blob_key, new_snapshot_id, snapshot_key
from xtstore.providers.s3.listing import iter_listing, iter_listing_names
from xtstore.providers.s3.transfer import (
    CheckedBody,
    PartUpload,
    Transfers,
    etag_md5,
    expected_content,
    object_properties,
)
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
)
from xtstore.writer import BlobWriter

__all__ = ["SINGLE_COPY_LIMIT", "S3Provider", "S3Store"]

SINGLE_COPY_LIMIT = 5 * 2**30
"""CopyObject copies at most 5 GiB; larger objects are copied part by part (UploadPartCopy)."""

_DELETE_BATCH = 1000
"""Keys per DeleteObjects request (S3's limit)."""
_EXISTENCE_PAGE = 1000
"""Keys per ListObjectsV2 page when ``delete_blobs`` learns which names exist."""

_METADATA_KEY = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_METADATA_RULE = ("S3's metadata keys end HTTP header names (x-amz-meta-KEY), so ASCII"
                  " letters, digits and !#$%&'*+-.^_`|~ only (S3 lower-cases them)")


def _checked_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    """``metadata`` as S3 takes it (``x-amz-meta-*`` headers), or None for none. Raises
    ``InvalidArgument`` before any request for a key or value no header carries
    (:func:`~xtstore.providers._shared.check_header_metadata`; botocore would raise its own
    ``ParamValidationError`` for non-ASCII, and S3 refuse the signature of a key with a
    space)."""
    if metadata is None:
        return None
    return check_header_metadata(metadata, _METADATA_KEY, _METADATA_RULE)


def _byte_range(start: int, end: int | None) -> str:
    """The Range header of ``[start, end)`` (``end`` None: to the end)."""
    return f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


class S3Provider(StoreInterface):
    """Amazon S3 or any S3-compatible store.

    Service keys: ``endpoint-url`` (omit for AWS), ``region``, ``access-key-id`` +
    ``secret-access-key`` (+ ``session-token``) or none for the standard credential chain,
    ``addressing-style`` (``path``/``virtual``), and tuning keys ``multipart-threshold``,
    ``multipart-chunksize``, ``max-concurrency``, ``max-streamed-get-size``,
    ``append-compose-min-size``,
    ``connect-timeout``, ``read-timeout``. Raises ``ConfigError`` for a bad key.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._settings = S3Settings.from_config(config)
        self._client = self._settings.make_client(config)
        self._transfer_config = self._settings.transfer_config()
        self._transfers = Transfers(self._client, self._transfer_config,
                                    self._settings.max_streamed_get_size)
        self._appender = Appender(self._client, self._settings.append_compose_min_size)

    def __repr__(self) -> str:
        endpoint = self._settings.endpoint_url or "aws"
        return f"<S3Provider service={self._settings.service_name!r} endpoint={endpoint!r}>"

    @property
    def client(self) -> Any:
        """The boto3 S3 client (for event hooks in benchmarks and tests)."""
        return self._client

    @property
    def transfer_config(self) -> Any:
        """The boto3 ``TransferConfig`` of managed transfers (to compare against raw boto3)."""
        return self._transfer_config

    # ---- misc ----

    def get_service_name(self) -> str:
        return self._settings.service_name

    def translate_error(self, error: BaseException, *, about_blob: bool) -> StoreError | None:
        """boto3's exceptions as typed errors (:func:`~xtstore.providers.s3.errors.translate`;
        a bodiless 404 is taken as a missing blob wherever it is not branched on here)."""
        return translate(error)

    def capabilities(self) -> Capabilities:
        return DESCRIPTION.capabilities

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        try:
            with s3_errors():
                self._client.head_bucket(Bucket=container)
        except (ContainerNotFound, BlobNotFound):
            return False
        return True

    def _require_container(self, container: str) -> None:
        if not self.does_container_exist(container):
            raise ContainerNotFound("container not found", container=container)

    def create_container(self, container: str) -> bool:
        """Create the bucket and its marker. Raises ``ContainerAlreadyExists``: the marker is
        written with ``If-None-Match: *``, so of N concurrent creators exactly one wins even
        where CreateBucket succeeds for a bucket its owner already has (us-east-1).

        Safe to repeat: the marker's body is a token of this call, so a repeat that finds a
        marker tells this call's own (its response lost) from another creator's."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        token: bytes = attempt.memo.setdefault("marker", secrets.token_hex(16).encode())
        if self.does_container_exist(container):
            if not attempt.memo.get("sent"):
                raise ContainerAlreadyExists("container already exists", container=container)
        else:
            attempt.memo["sent"] = True
            self._create_bucket(container)
        repeat = attempt.memo.get("marker_sent", False)
        attempt.memo["marker_sent"] = True
        try:
            with s3_errors(create_only=True):
                self._client.put_object(Bucket=container, Key=CONTAINER_MARKER, Body=token,
                                        IfNoneMatch="*")
        except BlobAlreadyExists:
            if not (repeat and self._holds(container, CONTAINER_MARKER, token)):
                raise ContainerAlreadyExists("container already exists",
                                             container=container) from None
        return True

    def _create_bucket(self, container: str) -> None:
        arguments: dict[str, Any] = {"Bucket": container}
        region = self._client.meta.region_name
        if region and region not in ("us-east-1", "aws-global"):
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            with s3_errors():
                self._client.create_bucket(**arguments)
        except ContainerAlreadyExists:
            pass  # owned already (outside us-east-1): the marker decides who created it

    def list_containers(self) -> list[str]:
        names: list[str] = []
        for page in self._client.get_paginator("list_buckets").paginate():
            names.extend(bucket["Name"] for bucket in page.get("Buckets", ()))
        return sorted(names)

    def delete_container(self, container: str) -> bool:
        """Delete every object version, unfinished upload and the bucket. Raises
        ``ContainerNotFound``.

        Safe to repeat: emptying is idempotent, and a repeat that finds no bucket after this
        call sent its DeleteBucket succeeds (the bucket is gone, as asked)."""
        attempt = current_attempt()
        attempt.repeat_safe = True
        try:
            with s3_errors():
                self._delete_bucket(container, attempt)
        except (ContainerNotFound, BlobNotFound):
            if not attempt.memo.get("sent"):
                raise
        return True

    def _delete_bucket(self, container: str, attempt: Attempt) -> None:
        sweeps = 1
        while True:
            self._empty_bucket(container)
            try:
                attempt.memo["sent"] = True
                self._client.delete_bucket(Bucket=container)
                return
            except ClientError as error:
                # Another client wrote meanwhile: sweep again, a bounded number of times.
                if error_code(error) == "BucketNotEmpty" and sweeps < 3:
                    sweeps += 1
                    continue
                raise

    def _empty_bucket(self, container: str) -> None:
        uploads = self._client.get_paginator("list_multipart_uploads")
        for page in uploads.paginate(Bucket=container):
            for upload in page.get("Uploads", ()):
                self._client.abort_multipart_upload(
                    Bucket=container, Key=upload["Key"], UploadId=upload["UploadId"]
                )
        versions = self._client.get_paginator("list_object_versions")
        for page in versions.paginate(Bucket=container):
            batch = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in (*page.get("Versions", ()), *page.get("DeleteMarkers", ()))
            ]
            self._delete_keys(container, batch)

    def _delete_keys(self, container: str, objects: list[dict[str, str]]) -> None:
        for start in range(0, len(objects), _DELETE_BATCH):
            batch = objects[start : start + _DELETE_BATCH]
            result = self._client.delete_objects(
                Bucket=container, Delete={"Objects": batch, "Quiet": True}
            )
            failed = result.get("Errors") or []
            if failed:
                first = failed[0]
                raise StoreError(
                    f"S3 could not delete {len(failed)} object(s), e.g. {first.get('Key')!r}: "
                    f"{first.get('Code')} {first.get('Message')}",
                    container=container,
                )

    def get_container_properties(self, container: str) -> ContainerInfo:
        try:
            with s3_errors():
                head = self._client.head_object(Bucket=container, Key=CONTAINER_MARKER)
        except BlobNotFound:
            # A bucket this library did not create: no marker, no metadata.
            return ContainerInfo(name=container, last_modified=self._bucket_created(container))
        return ContainerInfo(name=container, last_modified=_utc(head["LastModified"]),
                             metadata=head.get("Metadata", {}))

    def _bucket_created(self, container: str) -> datetime:
        self._require_container(container)
        for page in self._client.get_paginator("list_buckets").paginate(Prefix=container):
            for bucket in page.get("Buckets", ()):
                if bucket["Name"] == container:
                    return _utc(bucket["CreationDate"])
        return datetime.now(timezone.utc)

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Raises ``InvalidArgument`` (before any request)."""
        checked = _checked_metadata(metadata) or {}
        self._client.put_object(Bucket=container, Key=CONTAINER_MARKER, Body=b"",
                                Metadata=checked)

    # ---- blobs: writing ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        key = check_blob_key(blob_path)
        try:
            with s3_errors():
                self._client.head_object(Bucket=container, Key=key)
        except (BlobNotFound, ContainerNotFound):
            return False
        return True

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False, *,
        content_type: str | None = None, metadata: Mapping[str, str] | None = None,
    ) -> None:
        """One PutObject (with the content type and metadata); with ``fail_if_exists``
        conditional on ``If-None-Match: *``. Raises ``BlobAlreadyExists``,
        ``ContainerNotFound``, ``InvalidArgument`` (metadata S3 cannot take).

        A create-only write is safe to repeat: a repeat that finds the blob compares it with
        this call's bytes, and one holding them is this call's own write (its response lost),
        not a ``BlobAlreadyExists``."""
        key = check_blob_key(blob_path)
        data = to_bytes(text)
        checked = _checked_metadata(metadata)
        condition: dict[str, Any] = {"IfNoneMatch": "*"} if fail_if_exists else {}
        if content_type is not None:
            condition["ContentType"] = content_type
        if checked is not None:
            condition["Metadata"] = checked
        repeat = False
        if fail_if_exists:
            attempt = current_attempt()
            attempt.repeat_safe = True
            repeat = attempt.memo.get("sent", False)
            attempt.memo["sent"] = True
        try:
            # The one translation that depends on the request: a failed If-None-Match means
            # the blob exists.
            with s3_errors(create_only=fail_if_exists):
                self._client.put_object(Bucket=container, Key=key, Body=data, **condition)
        except BlobAlreadyExists:
            if not (repeat and self._holds(container, key, data)):
                raise

    def _holds(self, container: str, key: str, data: bytes) -> bool:
        """Whether the object holds exactly ``data``: by its length, then by its ETag where
        that is the MD5 of its content (:func:`~xtstore.providers.s3.transfer.etag_md5`: a
        single-part object without KMS or customer-key encryption), else by reading it."""
        try:
            head = self._head(container, key)
        except BlobNotFound:
            return False  # deleted meanwhile: whatever it held, it is not this call's now
        if int(head["ContentLength"]) != len(data):
            return False
        md5 = etag_md5(head)
        if md5 is not None:
            return md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
        with s3_errors():
            body = self._client.get_object(Bucket=container, Key=key)["Body"]
            with body:
                return bool(body.read() == data)

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
        """Managed upload (multipart above ``multipart-threshold``, completed atomically),
        the metadata sent with it. Raises ``ContainerNotFound``, ``FileNotFoundError``,
        ``InvalidArgument``."""
        key = check_blob_key(blob_path)
        checked = _checked_metadata(metadata)
        size = os.stat(source_fn).st_size
        self._transfers.upload(source_fn, container, key, progress_callback, size,
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
        """Streams ``stream`` in ``multipart-chunksize`` parts (memory bounded by
        ``max-concurrency`` parts), the metadata sent with it. Raises ``ContainerNotFound``,
        ``InvalidArgument``. The Store rewinds a seekable stream for a repeat; s3transfer is
        lent it, never given it to close."""
        key = check_blob_key(blob_path)
        checked = _checked_metadata(metadata)
        source: IO[bytes] = (cast(IO[bytes], _Lent(stream)) if _seekable(stream)
                             else stream)
        self._transfers.upload(source, container, key, progress_callback, length,
                               content_type, checked)

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        """A writer uploading a multipart upload's part (``multipart-chunksize``) as each
        fills, completed on close (one PutObject when the content fits in one part), aborted
        on abort (:class:`~xtstore.providers.s3.transfer.PartUpload`), the metadata sent with
        the request that creates the object. Raises ``ContainerNotFound`` (one request),
        ``InvalidArgument`` (before it)."""
        key = check_blob_key(blob_path)
        checked = _checked_metadata(metadata)
        self._require_container(container)
        return BlobWriter(PartUpload(self._client, container, key,
                                     self._settings.multipart_chunksize, content_type,
                                     checked))

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Conditional rewrite, compose for large blobs (see :mod:`s3_append`). Raises
        ``ContainerNotFound``; ``PreconditionFailed`` only under contention that outlasts
        the append time budget."""
        self._appender.append(container, check_blob_key(blob_path), to_bytes(text),
                              rewrite=append_with_rewrite)

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """Delete one snapshot, or the blob with all its snapshots. Raises ``BlobNotFound``
        (also for an unknown snapshot id), ``ContainerNotFound``.

        The blob goes first, its snapshots (listed before) after it, so an interrupted delete
        never leaves the blob without its snapshots; snapshots left by a delete that gave up
        are removed by the next ``delete_blob`` of that name. Safe to repeat: once the first
        attempt found the blob, a repeat only repeats the deletes (S3 deletes are idempotent),
        so a repeat never reports the blob this call deleted as not found."""
        key = check_blob_key(blob_path)
        attempt = current_attempt()
        attempt.repeat_safe = True
        memo = attempt.memo
        if snapshot is not None:
            target = snapshot_key(key, snapshot)
            if not memo.get("found"):
                self._head(container, target, missing=f"no snapshot {snapshot!r}")
                memo["found"] = True
            self._client.delete_object(Bucket=container, Key=target)
            return
        if "snapshots" not in memo:
            try:
                self._head(container, key)
            except BlobNotFound:
                self._delete_keys(container, self._snapshot_objects(container, key))
                raise
            memo["snapshots"] = self._snapshot_objects(container, key)
        self._client.delete_object(Bucket=container, Key=key)
        self._delete_keys(container, memo["snapshots"])

    def delete_blobs(
        self, container: str, blob_paths: Sequence[str]
    ) -> dict[str, StoreError | None]:
        """DeleteObjects, 1,000 keys a request, the blobs first and their snapshots after (as
        ``delete_blob``). S3 reports a missing key as deleted, so which names exist is read
        first: from a listing of the names' own range (:meth:`_existing`), and each blob's
        snapshots from one delimited listing of the snapshot folders plus one listing per
        blob that has any. Raises ``ContainerNotFound``; a key S3 refuses to delete is that
        name's error (a transient one fails the call, for the Store to repeat).

        Safe to repeat: a repeat reuses what the first attempt found and only repeats the
        deletes (idempotent), so it never reports a blob this call deleted as not found."""
        keys = list(dict.fromkeys(check_blob_key(name) for name in blob_paths))
        if not keys:
            return {}
        attempt = current_attempt()
        attempt.repeat_safe = True
        memo = attempt.memo
        if "found" not in memo:
            existing = self._existing(container, keys)
            memo["snapshots"] = self._snapshots_of(container, keys)
            memo["found"] = existing  # last: a repeat reads again unless both were read
        found: set[str] = memo["found"]
        outcomes: dict[str, StoreError | None] = {
            key: None if key in found else BlobNotFound("blob not found") for key in keys}
        outcomes.update(self._delete_objects(container, [key for key in keys if key in found]))
        snapshots: dict[str, list[dict[str, str]]] = memo["snapshots"]
        # A blob S3 refused to delete keeps its snapshots; a missing one loses any left over
        # by an interrupted delete_blob, as delete_blob does.
        self._delete_keys(container, [
            item for key, items in snapshots.items()
            if isinstance(outcomes[key], (type(None), BlobNotFound)) for item in items])
        return outcomes

    def _existing(self, container: str, keys: list[str]) -> set[str]:
        """Which of ``keys`` exist: ListObjectsV2 pages from the first key (in order) to the
        last, under their common prefix; past a scan of twice as many keys as asked (plus a
        page), the rest are asked one HeadObject each, so names spread thin over a large
        bucket cost at most one request each. Raises ``ContainerNotFound``."""
        wanted = set(keys)
        ordered = sorted(wanted)
        first, last = ordered[0], ordered[-1]
        prefix = os.path.commonprefix([first, last])  # noqa: RUF071 - of keys, not paths
        arguments: dict[str, Any] = {"Bucket": container, "Prefix": prefix,
                                     "MaxKeys": _EXISTENCE_PAGE}
        if len(first) > len(prefix):
            arguments["StartAfter"] = first[:-1]  # before ``first``, past most below it
        found: set[str] = set()
        budget = 2 * len(wanted) + _EXISTENCE_PAGE
        reached = ""
        with s3_errors():
            while True:
                page = self._client.list_objects_v2(**arguments)
                contents = page.get("Contents", ())
                found.update(item["Key"] for item in contents if item["Key"] in wanted)
                budget -= len(contents)
                if contents:
                    reached = contents[-1]["Key"]
                if not page.get("IsTruncated") or reached >= last:
                    return found
                if budget <= 0:
                    break
                arguments["ContinuationToken"] = page["NextContinuationToken"]
        found.update(key for key in ordered if key > reached and self._exists(container, key))
        return found

    def _exists(self, container: str, key: str) -> bool:
        try:
            self._head(container, key)
        except BlobNotFound:
            return False
        return True

    def _snapshots_of(self, container: str, keys: list[str]) -> dict[str, list[dict[str, str]]]:
        """Each key's snapshot objects (none for most): the snapshot folders that exist come
        from one listing delimited at them (one entry per blob that has snapshots)."""
        folders = {snapshot_prefix(key): key for key in keys}
        held: dict[str, list[dict[str, str]]] = {}
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=container, Prefix=SNAPSHOTS_PREFIX, Delimiter="/")
        for page in pages:
            for common in page.get("CommonPrefixes", ()):
                key = folders.get(common["Prefix"])
                if key is not None:
                    held[key] = self._snapshot_objects(container, key)
        return held

    def _delete_objects(self, container: str, keys: list[str]) -> dict[str, StoreError]:
        """DeleteObjects of ``keys``, 1,000 a request; the keys S3 refused, each with its
        typed error. Raises ``TransientError`` where S3 refused one for a transient reason
        (the whole call is repeated: deletes are idempotent)."""
        refused: dict[str, StoreError] = {}
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            result = self._client.delete_objects(
                Bucket=container, Delete={"Objects": batch, "Quiet": True})
            for failed in result.get("Errors") or ():
                error = ClientError({"Error": {"Code": failed.get("Code", ""),
                                               "Message": failed.get("Message", "")}},
                                    "DeleteObjects")
                typed = translate(error) or StoreError(str(failed.get("Code")))
                if isinstance(typed, TransientError):
                    raise typed
                refused[str(failed.get("Key"))] = typed
        return refused

    def _snapshot_objects(self, container: str, key: str) -> list[dict[str, str]]:
        return [{"Key": item} for item in self._snapshot_keys(container, key)]

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Server-side copy, overwriting the destination; metadata is copied. Raises
        ``BlobNotFound``, ``ContainerNotFound``."""
        source = check_blob_key(source_blob_path)
        dest = check_blob_key(dest_blob_path)
        if (source_container, source) == (dest_container, dest):
            self._head(source_container, source)
            return
        self._server_copy(source_container, source, dest_container, dest)

    def _server_copy(
        self,
        source_container: str,
        source: str,
        dest_container: str,
        dest: str,
        extra: Mapping[str, Any] | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        copy_source = {"Bucket": source_container, "Key": source}
        arguments = dict(extra or {})
        if size is None or size <= SINGLE_COPY_LIMIT:
            try:
                result: dict[str, Any] = self._client.copy_object(
                    Bucket=dest_container, Key=dest, CopySource=copy_source, **arguments
                )
                return result
            except ClientError as error:
                message = str(error.response.get("Error", {}).get("Message", ""))
                if "larger than the maximum" not in message:
                    raise
        self._transfers.copy(source_container, source, dest_container, dest, arguments)
        return {}

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Replace the metadata with a server-side copy onto itself (S3 objects are
        immutable). Raises ``BlobNotFound``, ``InvalidArgument`` (before any request)."""
        key = check_blob_key(blob_path)
        checked = _checked_metadata(metadata) or {}
        head = self._head(container, key)
        extra: dict[str, Any] = {"Metadata": checked, "MetadataDirective": "REPLACE"}
        if head.get("ContentType"):
            extra["ContentType"] = head["ContentType"]
        self._server_copy(container, key, container, key, extra, size=head["ContentLength"])

    # ---- blobs: reading ----

    def _head(self, container: str, key: str, missing: str = "blob not found",
              **arguments: Any) -> dict[str, Any]:
        """HeadObject; a bodiless 404 is told apart as ``ContainerNotFound`` or
        ``BlobNotFound``."""
        try:
            with s3_errors():
                return cast(dict[str, Any], self._client.head_object(Bucket=container, Key=key,
                                                                     **arguments))
        except BlobNotFound:
            self._require_container(container)
            raise BlobNotFound(missing) from None

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """Pages of 1000, the first fetched by this call, each later one from its
        continuation token while iterating (under the Store's retry). Raises
        ``ContainerNotFound`` at the call."""
        return iter_listing(self._client, container, path or "", recursive)

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """The same pages as ``iter_blobs``, keys and common prefixes only."""
        return iter_listing_names(self._client, container, path or "", recursive)

    list_blobs = list_pages

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        body = self._client.get_object(Bucket=container,
                                       Key=self._read_key(blob_path, snapshot))["Body"]
        with body:
            return cast(bytes, body.read())

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """One GetObject, its body streamed as it is read; after a seek, ranged GetObjects of
        what a read needs (at least the read-ahead, growing as reading goes on in order), and
        after a failure a ranged GetObject from where it broke off, each with ``If-Match`` the
        first one's ETag (``PreconditionFailed`` if the object was overwritten meanwhile),
        under the Store's retry. Its length and whole-object checksum are checked once it is
        read through in order (``IntegrityError``; :mod:`xtstore.providers._blob_reader`).
        Raises ``BlobNotFound``."""
        key = self._read_key(blob_path, snapshot)
        response = self._client.get_object(Bucket=container, Key=key)
        etag = response["ETag"]
        expected = expected_content(response)

        def open_range(start: int, end: int | None) -> CheckedBody:
            try:
                with s3_errors():
                    resumed = self._client.get_object(Bucket=container, Key=key, IfMatch=etag,
                                                      Range=_byte_range(start, end))
            except PreconditionFailed:
                raise changed_while_read() from None
            return CheckedBody(resumed["Body"])

        return open_ranged(open_range, expected, CheckedBody(response["Body"]))

    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        """One GetObject with a Range (none for the whole); ``b""`` from at or past the end
        (S3's 416). Raises ``BlobNotFound``, ``ContainerNotFound``."""
        key = self._read_key(blob_path, snapshot)
        # An empty range still asks for one byte: a missing blob must fail all the same.
        asked = None if end is None else max(end, start + 1)
        arguments: dict[str, Any] = {}
        if start or asked is not None:
            arguments["Range"] = _byte_range(start, asked)
        try:
            response = self._client.get_object(Bucket=container, Key=key, **arguments)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 416:
                return b""
            raise
        body = response["Body"]
        with body:
            data = bytes(body.read())
        return data if end is None else data[:end - start]

    def _read_key(self, blob_path: str, snapshot: str | None) -> str:
        key = check_blob_key(blob_path)
        return key if snapshot is None else snapshot_key(key, snapshot)

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> BlobProperties:
        """Managed (ranged, concurrent) download into a temporary file next to ``dest_fn``,
        renamed into place only when complete; returns the properties its first GetObject
        tells. Raises ``BlobNotFound``."""
        key = self._read_key(blob_path, snapshot)
        try:
            with s3_errors():
                return self._transfers.download_to_path(container, key, dest_fn,
                                                        progress_callback)
        except BlobNotFound:
            self._require_container(container)
            raise

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """One HeadObject (with ``ChecksumMode=ENABLED``, so that it carries the object's
        checksums: :func:`~xtstore.providers.s3.transfer.stored_checksums`). Raises
        ``BlobNotFound``, ``ContainerNotFound``."""
        key = check_blob_key(blob_path)
        head = self._head(container, key, ChecksumMode="ENABLED")
        return BlobInfo(name=key, properties=object_properties(head))

    # ---- snapshots ----

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """A server-side copy under the reserved snapshot prefix. Raises ``BlobNotFound``.

        Safe to repeat: every attempt copies to the snapshot id the first one chose, so a
        repeat rewrites that one snapshot instead of adding another."""
        key = check_blob_key(blob_path)
        attempt = current_attempt()
        attempt.repeat_safe = True
        if "snapshot" not in attempt.memo:
            created = datetime.now(timezone.utc)
            attempt.memo["snapshot"] = (new_snapshot_id(created), created)
        snapshot, created = attempt.memo["snapshot"]
        self._server_copy(container, key, container, snapshot_key(key, snapshot))
        return SnapshotInfo(container=container, blob=key, snapshot=snapshot, created=created)

    def _snapshot_keys(self, container: str, key: str) -> list[str]:
        keys: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=container, Prefix=snapshot_prefix(key)
        )
        for page in pages:
            keys.extend(item["Key"] for item in page.get("Contents", ()))
        return keys

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """The blob's snapshots, oldest first. Raises ``ContainerNotFound``."""
        key = check_blob_key(blob_path)
        snapshots = []
        for snapshot_object in self._snapshot_keys(container, key):
            snapshot = snapshot_object.rsplit("/", 1)[1]
            created = datetime.strptime(snapshot[:22], "%Y%m%dT%H%M%S.%f").replace(
                tzinfo=timezone.utc
            )
            snapshots.append(SnapshotInfo(container=container, blob=key, snapshot=snapshot,
                                          created=created))
        return snapshots


class _Lent(io.RawIOBase):
    """A seekable stream of the caller's as s3transfer is given it: s3transfer closes what it
    uploads in one request, and the caller's stream must stay open (for the caller, and for a
    repeat that rewinds it)."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


S3Store = provider_store_class("S3Store", S3Provider, __name__)
