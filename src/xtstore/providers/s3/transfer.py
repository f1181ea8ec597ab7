"""Managed S3 transfers (s3transfer, the engine of boto3's ``upload_file``/``download_file``):
multipart uploads, ranged concurrent downloads and multipart copies with bounded memory; and
the integrity checks of every upload and download (docs/reliability.md, "Integrity").

s3transfer's own download retries are off (``num_download_attempts=1`` in the config), so the
Store's retry layer is the only one.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import urlsplit

from botocore.response import StreamingBody
from s3transfer.manager import TransferManager  # type: ignore[import-untyped]
from s3transfer.subscribers import BaseSubscriber  # type: ignore[import-untyped]

from xtstore.errors import BlobNotFound, IntegrityError
from xtstore.interface import ProgressCallback
from xtstore.providers._shared import (
    CHECKSUMS,
    Expected,
    base64_hex,
    check_file,
    verified_local_file,
)
from xtstore.providers.s3.description import SINGLE_GET_LIMIT
from xtstore.providers.s3.errors import s3_errors
from xtstore.values import BlobProperties

__all__ = [
    "UPLOAD_CHECKSUM",
    "CheckedBody",
    "PartUpload",
    "Transfers",
    "composite_checksum",
    "etag_md5",
    "expected_content",
    "stored_checksums",
    "verifies_checksums",
    "watch_upload_digests",
]

_FULL_OBJECT_CHECKSUMS = (("ChecksumSHA256", "sha256"), ("ChecksumSHA1", "sha1"),
                          ("ChecksumCRC32", "crc32"))
"""The S3 checksums xtstore can compute itself, best first (CRC32C and CRC64NVME need awscrt;
botocore checks those on whole-object reads when it can)."""
_STORED_CHECKSUMS = (("ChecksumCRC32", "crc32"), ("ChecksumCRC32C", "crc32c"),
                     ("ChecksumSHA256", "sha256"))
"""The full-object checksums S3 keeps that ``BlobProperties.checksums`` names."""
_MD5_ETAG = re.compile(r"[0-9a-f]{32}")
_ETAG_NOT_MD5 = frozenset({"aws:kms", "aws:kms:dsse"})
"""Server-side encryptions whose ETags are not the MD5 of the content (S3's documented rule;
SSE-C is told by ``SSECustomerAlgorithm``)."""
_HASH_CHUNK = 1024 * 1024
_MD5_KEY = "xtstore-body-md5"
UPLOAD_CHECKSUM = {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}
"""What every managed upload asks for: a CRC32 with each request, which S3 verifies, and for a
multipart upload a CRC32 of the whole object (S3 combines the parts' CRC32s into it) instead
of the default composite one (a CRC32 of the parts' CRC32s), so that a download of any
object xtstore wrote can be checked in one pass over its bytes. s3transfer sends
``ChecksumType`` only with CreateMultipartUpload and CompleteMultipartUpload."""


_STREAM_CHUNK = 2**20

def expected_content(head: Mapping[str, Any]) -> Expected:
    """What an object's content must be, from its HeadObject (asked with
    ``ChecksumMode=ENABLED``): its length, and its checksum where S3 keeps one of the whole
    object that xtstore can compute (a multipart upload's composite checksum is one of its
    parts' checksums, so only the length is checked)."""
    size = int(head["ContentLength"])
    for field, algorithm in _FULL_OBJECT_CHECKSUMS:
        value = _full_object_checksum(head, field)
        if value is not None:
            return Expected.from_base64(size, algorithm, value)
    return Expected(size)


def _full_object_checksum(head: Mapping[str, Any], field: str) -> str | None:
    """The base64 checksum ``field`` of a HeadObject (asked with ``ChecksumMode=ENABLED``)
    where it is one of the whole content: typed ``FULL_OBJECT``, or untyped on a single-part
    object; None for a multipart object's composite checksum (of its parts' checksums)."""
    kind = head.get("ChecksumType")
    if not (kind == "FULL_OBJECT" or (kind is None and "-" not in str(head.get("ETag", "")))):
        return None
    value = head.get(field)
    return str(value) if value and "-" not in str(value) else None


def object_properties(head: Mapping[str, Any]) -> BlobProperties:
    """The properties a HeadObject or a GetObject (of the whole object, both asked with
    ``ChecksumMode=ENABLED``) tells: the same fields from either."""
    return BlobProperties.from_datetime(
        int(head["ContentLength"]), head["LastModified"], str(head.get("ETag", "")),
        content_type=head.get("ContentType"), metadata=head.get("Metadata", {}),
        checksums=stored_checksums(head),
    )


def stored_checksums(head: Mapping[str, Any]) -> dict[str, str]:
    """``BlobProperties.checksums`` of an object: the MD5 that its ETag is
    (:func:`etag_md5`) and its full-object checksums (CRC32, which every upload of xtstore's
    keeps, multipart ones too; CRC32C, SHA256), from a HeadObject asked with
    ``ChecksumMode=ENABLED``, or a listing entry (ETag only)."""
    found: dict[str, str] = {}
    md5 = etag_md5(head)
    if md5 is not None:
        found["md5"] = md5
    for field, algorithm in _STORED_CHECKSUMS:
        digest = base64_hex(_full_object_checksum(head, field))
        if digest is not None:
            found[algorithm] = digest
    return found


def composite_checksum(head: Mapping[str, Any]) -> tuple[str, str] | None:
    """The algorithm and base64 digest of a multipart object's composite checksum (the
    checksum of its parts' checksums) that xtstore can compute, from its HeadObject; None for
    any other object. S3 says ``<digest>-<parts>`` (moto leaves the suffix out)."""
    kind = head.get("ChecksumType")
    if not (kind == "COMPOSITE" or (kind is None and "-" in str(head.get("ETag", "")))):
        return None
    for field, algorithm in _FULL_OBJECT_CHECKSUMS:
        value = head.get(field)
        if value:
            return algorithm, str(value).split("-", 1)[0]
    return None


def etag_md5(response: Mapping[str, Any]) -> str | None:
    """The MD5 (hex) of an object's content that its ETag is, from a response's parsed
    headers (PutObject, UploadPart, HeadObject, GetObject); None where the ETag is not one:
    a multipart object's (``<hex>-<parts>``), an SSE-KMS (or DSSE-KMS) or SSE-C object's
    (S3's documented rule), or anything but 32 hex digits."""
    etag = str(response.get("ETag", "")).strip('"')
    if not _MD5_ETAG.fullmatch(etag):
        return None
    if response.get("ServerSideEncryption") in _ETAG_NOT_MD5 or \
            response.get("SSECustomerAlgorithm"):
        return None
    return etag


def _body_md5(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Before PutObject / UploadPart: the MD5 of the body about to be sent (read, then
    rewound, without reporting progress)."""
    body: Any = params.get("body")
    digest = hashlib.md5()
    if isinstance(body, (bytes, bytearray)):
        digest.update(body)
    elif hasattr(body, "read") and hasattr(body, "seek") and hasattr(body, "tell"):
        start = body.tell()
        callbacks = getattr(body, "_callbacks_enabled", None)  # s3transfer's ReadFileChunk
        if callbacks:
            body.disable_callback()
        try:
            while chunk := body.read(_HASH_CHUNK):
                digest.update(chunk)
        finally:
            body.seek(start)
            if callbacks:
                body.enable_callback()
    else:
        return
    context[_MD5_KEY] = digest.hexdigest()


def _check_etag(parsed: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    """After PutObject / UploadPart: where S3's ETag is the MD5 of what it stored (plain or
    SSE-S3 objects), it must be the MD5 of what was sent; a store that does not verify the
    request's checksum itself (moto, some S3-compatible servers) is caught here."""
    sent = context.get(_MD5_KEY)
    etag = etag_md5(parsed)
    if sent is None or parsed.get("Error") or etag is None:
        return
    if etag != sent:
        raise IntegrityError(
            f"S3 stored other bytes than were sent (ETag {etag}, MD5 sent {sent})",
            algorithm="md5")


def watch_upload_digests(client: Any) -> None:
    """Check every PutObject and UploadPart of ``client`` against the MD5 that the store
    reports (its ETag), on top of the CRC32 botocore sends with them for the store to verify
    (costs one MD5 pass over every byte uploaded, about 1.5 ms per MiB)."""
    for operation in ("PutObject", "UploadPart"):
        client.meta.events.register(f"before-call.s3.{operation}", _body_md5,
                                    unique_id=f"xtstore-md5-{operation}")
        client.meta.events.register(f"after-call.s3.{operation}", _check_etag,
                                    unique_id=f"xtstore-etag-{operation}")


class CheckedBody:
    """A GetObject body as a :class:`~xtstore.providers._blob_reader.Body`, checked by the
    reader above it (the length, and the whole-object checksum of :func:`expected_content`
    over the bytes of every resumed body): botocore's ``StreamingBody`` reads, which turn
    urllib3's errors into botocore's, without the checksum botocore would compute again on
    a whole-object read (a second pass over every byte)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readinto(self, buffer: memoryview, /) -> int:
        return int(StreamingBody.readinto(self._body, buffer))

    def close(self) -> None:
        self._body.close()


def verifies_checksums(client: Any) -> bool:
    """Whether the endpoint is AWS S3's, which checks the CRC32 of every upload itself (and
    refuses a mismatch): the MD5 of :func:`watch_upload_digests` is only for the others."""
    host = urlsplit(str(client.meta.endpoint_url)).hostname or ""
    return host == "amazonaws.com" or host.endswith(".amazonaws.com")


class _KnownObject(BaseSubscriber):  # type: ignore[misc]
    """Gives s3transfer the size and ETag already read, so it sends no HeadObject of its own
    (and pins its ranged reads to that ETag)."""

    def __init__(self, size: int, etag: str | None) -> None:
        self._size = size
        self._etag = etag

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self._size)
        if self._etag is not None:
            future.meta.provide_object_etag(self._etag)


class _Progress(BaseSubscriber):  # type: ignore[misc]
    """Turns s3transfer's per-chunk increments (from worker threads) into
    ``callback(current, total)`` calls with non-decreasing values."""

    def __init__(self, callback: ProgressCallback, total: int | None = None) -> None:
        self._callback = callback
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        with self._lock:
            self._done += bytes_transferred
            total = self._total if self._total is not None else future.meta.size
            self._callback(self._done, max(int(total or 0), self._done))


def _subscribers(callback: ProgressCallback | None, total: int | None = None) -> list[Any]:
    return [_Progress(callback, total)] if callback is not None else []


def _stream_into(body: CheckedBody, file: IO[bytes], expected: Expected,
                 progress: ProgressCallback | None) -> None:
    """Copy a GetObject body into ``file`` in chunks of at most :data:`_STREAM_CHUNK`,
    hashing as it goes (no second pass over the file), then check its length and checksum.
    Raises ``IntegrityError``."""
    size = expected.size or 0
    hasher = expected.hasher()
    view = memoryview(bytearray(max(1, min(size, _STREAM_CHUNK))))
    done = 0
    try:
        while count := body.readinto(view):
            chunk = view[:count]
            file.write(chunk)
            if hasher is not None:
                hasher.update(chunk)
            done += count
            if progress is not None:
                progress(done, max(size, done))
    finally:
        body.close()
    expected.verify(done, hasher.digest() if hasher is not None else None)


class Transfers:
    """Upload, download and copy through one client with one TransferConfig."""

    def __init__(self, client: Any, config: Any, single_get_limit: int = SINGLE_GET_LIMIT
                 ) -> None:
        self.client = client
        self.config = config
        self.single_get_limit = single_get_limit
        if not verifies_checksums(client):
            watch_upload_digests(client)  # every upload of the client, managed or not

    def _manager(self) -> TransferManager:
        return TransferManager(self.client, self.config)

    def upload(
        self,
        source: str | IO[bytes],
        bucket: str,
        key: str,
        progress: ProgressCallback | None = None,
        total: int | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Upload a file name or a readable stream; the object appears only when complete
        (a failed multipart upload is aborted), with a full-object CRC32
        (:data:`UPLOAD_CHECKSUM`), ``content_type`` (None: S3's default) and ``metadata``
        (sent with the PutObject or CreateMultipartUpload). A file below
        ``multipart_threshold`` (its size ``total``) is one PutObject from this thread, with
        no transfer manager or thread hand-off (most of a small file's client CPU before). Raises
        ``ContainerNotFound``."""
        extra: dict[str, Any] = dict(UPLOAD_CHECKSUM)
        if content_type is not None:
            extra["ContentType"] = content_type
        if metadata is not None:
            extra["Metadata"] = dict(metadata)
        if isinstance(source, str) and total is not None \
                and total < self.config.multipart_threshold:
            self._put_file(source, bucket, key, progress, total, extra)
            return
        with self._manager() as manager:
            manager.upload(source, bucket, key, extra_args=extra,
                           subscribers=_subscribers(progress, total)).result()

    def _put_file(self, source: str, bucket: str, key: str, progress: ProgressCallback | None,
                  total: int, extra: dict[str, Any]) -> None:
        """One PutObject of a file below the multipart threshold, streamed from it; its
        progress reported once it is stored."""
        del extra["ChecksumType"]  # S3 takes it with multipart uploads only
        with open(source, "rb") as body:
            self.client.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        if progress is not None:
            progress(total, total)

    def download_to_path(
        self, bucket: str, key: str, dest_fn: str, progress: ProgressCallback | None = None
    ) -> BlobProperties:
        """Download whole-or-nothing into ``dest_fn``, verified (see
        :func:`~xtstore.providers._shared.verified_local_file`). One GetObject (asked with
        ``ChecksumMode=ENABLED``) tells the size, ETag and checksum: up to
        :data:`SINGLE_GET_LIMIT` its body is streamed into the file, hashed on the way (one
        request in all); a larger object's body is dropped and the transfer manager fetches
        ranges in parallel, pinned to that ETag with ``If-Match``. The length and checksum
        are checked before the file takes ``dest_fn``'s name. Raises ``BlobNotFound``,
        ``IntegrityError``, ``PreconditionFailed`` (overwritten while the ranges were read).
        Returns the properties that first GetObject tells (:func:`object_properties`): those
        of the version written, which every range is pinned to."""
        response = self.client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        size = int(response["ContentLength"])
        expected = expected_content(response)
        composite = composite_checksum(response)
        with verified_local_file(dest_fn) as download:
            if size <= self.single_get_limit:
                _stream_into(CheckedBody(response["Body"]), download.file, expected, progress)
            else:
                response["Body"].close()
                download.expect(expected)
                known = _KnownObject(size, response.get("ETag"))
                with self._manager() as manager:
                    manager.download(bucket, key, download.file,
                                     subscribers=[known, *_subscribers(progress)]).result()
            if composite is not None:
                download.file.flush()
                self._check_parts(download.file.fileno(), bucket, key, response, composite)
        return object_properties(response)

    def _check_parts(self, fd: int, bucket: str, key: str, head: Mapping[str, Any],
                     composite: tuple[str, str]) -> None:
        """Check a downloaded multipart object against its composite checksum, part by
        part. One HeadObject of part 1 gives its size and the part count; the parts are
        taken to be of that size but the last, as every uploader makes them; where they are
        not (or the check fails), each part's size is asked for, and the check decides on
        those. Raises ``IntegrityError``."""
        size = int(head["ContentLength"])
        # Not pinned with If-Match: moto compares it with the part's own ETag. An object
        # replaced meanwhile fails the check, which is transient: read again.
        first = self.client.head_object(Bucket=bucket, Key=key, PartNumber=1)
        count, part = int(first.get("PartsCount") or 0), int(first["ContentLength"])
        if count < 1 or part < 1:
            return
        last = size - (count - 1) * part
        guessed = (part,) * (count - 1) + (last,) if 0 < last <= part else None
        if guessed is not None:
            try:
                check_file(fd, Expected.from_base64(size, *composite, guessed))
                return
            except IntegrityError:
                # Damage, or parts of other sizes: only their real sizes can tell, and an
                # intact object must never be refused (at most 10,000 parts: S3's limit).
                pass
        exact = (part, *(
            int(self.client.head_object(Bucket=bucket, Key=key, PartNumber=number)
                ["ContentLength"])
            for number in range(2, count + 1)))
        check_file(fd, Expected.from_base64(size, *composite, exact))

    def copy(
        self, source_bucket: str, source_key: str, bucket: str, key: str,
        extra_args: Mapping[str, Any],
    ) -> None:
        """Multipart server-side copy (``UploadPartCopy``), for objects beyond CopyObject's
        5 GiB. Raises ``BlobNotFound``, ``ContainerNotFound``."""
        with self._manager() as manager:
            manager.copy({"Bucket": source_bucket, "Key": source_key}, bucket, key,
                         extra_args=dict(extra_args)).result()


class PartUpload:
    """What an S3 writer (``open_blob(mode="wb")``) puts its parts in: a multipart upload,
    created at the first part, each part an UploadPart of ``part_size`` bytes (a repeat
    uploads the same part number again), completed on close with the parts' ETags and the
    whole object's CRC32 (S3 checks it: :data:`UPLOAD_CHECKSUM`); one PutObject when the whole
    content is the tail; AbortMultipartUpload on abort. The content type and metadata go
    with the CreateMultipartUpload (or that PutObject). Like every upload of the client,
    each request is checked against the MD5 the store reports (:func:`watch_upload_digests`).

    A CreateMultipartUpload whose response was lost leaves an upload nobody completes (S3
    drops it by the bucket's lifecycle rule for incomplete uploads)."""

    def __init__(self, client: Any, bucket: str, key: str, part_size: int,
                 content_type: str | None, metadata: Mapping[str, str] | None = None
                 ) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self.part_size = part_size
        self._type: dict[str, Any] = (
            {"ContentType": content_type} if content_type is not None else {})
        if metadata is not None:
            self._type["Metadata"] = dict(metadata)  # with the request that creates the object
        self._upload_id: str | None = None
        self._parts: dict[int, dict[str, Any]] = {}
        self._whole = CHECKSUMS["crc32"]()
        self._md5s: list[bytes] = []
        self._hashed = 0
        """How many parts went into the whole's CRC32 (each once, however often sent)."""
        self._completing = False

    def write_part(self, index: int, data: bytes) -> None:
        if index == self._hashed:
            self._whole.update(data)
            self._md5s.append(hashlib.md5(data, usedforsecurity=False).digest())
            self._hashed += 1
        if self._upload_id is None:
            created = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, **UPLOAD_CHECKSUM, **self._type)
            self._upload_id = str(created["UploadId"])
        response = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
            PartNumber=index + 1, Body=data, ChecksumAlgorithm="CRC32")
        part = {"ETag": response["ETag"], "PartNumber": index + 1}
        if response.get("ChecksumCRC32"):
            part["ChecksumCRC32"] = response["ChecksumCRC32"]
        self._parts[index] = part

    def commit(self, parts: int, tail: bytes) -> None:
        if self._upload_id is None:
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=tail,
                                    ChecksumAlgorithm="CRC32", **self._type)
            return
        if tail:
            if parts not in self._parts:  # a repeat after the complete applied sends none
                self.write_part(parts, tail)
            parts += 1
        whole = base64.b64encode(self._whole.digest()).decode()
        repeat, self._completing = self._completing, True
        try:
            with s3_errors():
                self._client.complete_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                    MultipartUpload={"Parts": [self._parts[index] for index in range(parts)]},
                    ChecksumType="FULL_OBJECT", ChecksumCRC32=whole)
        except BlobNotFound:
            # NoSuchUpload: after a complete whose response was lost, the upload is gone
            # because it was completed; the object it made has the multipart ETag of these
            # very parts.
            if not (repeat and self._completed_as(parts)):
                raise

    def _completed_as(self, parts: int) -> bool:
        try:
            with s3_errors():
                head = self._client.head_object(Bucket=self._bucket, Key=self._key)
        except BlobNotFound:
            return False
        digest = hashlib.md5(b"".join(self._md5s[:parts]), usedforsecurity=False).hexdigest()
        return str(head.get("ETag", "")).strip('"') == f"{digest}-{parts}"

    def abort(self) -> None:
        if self._upload_id is not None:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key,
                                                UploadId=self._upload_id)
