"""``append_blob`` for S3, which has no append: a conditional rewrite of the whole object.

Every round reads the object's ETag and replaces the object only if the ETag still matches
(``If-Match``; ``If-None-Match: *`` when the blob is missing), so of two racing appends one
wins and the other starts its round again: nothing is lost, and each call's bytes land
contiguously because each round writes old content + the whole new text at once.

* Small blobs (below ``compose_min_size``): GetObject + PutObject, the object round-trips
  through the client. The size seen by this process's last append to a key is remembered, so
  appending again to a small blob skips the HeadObject (2 requests instead of 3); a blob that
  outgrew the hint meanwhile is noticed from GetObject's headers before its body is read.
* Large blobs: a server-side compose, a multipart upload whose first part(s) are copied from
  the existing object (``UploadPartCopy`` with ``x-amz-copy-source-if-match``) and whose last
  part is the new text, completed with ``If-Match``. Only the appended bytes cross the network.

Conflicts (HTTP 412, 409) are not transient errors: they are retried here with jittered
backoff under a time budget, not by the retry layer. Network failures are left to the layer,
which may repeat the append (``repeat_safe``, :mod:`xtstore.attempts`): before each write the
call's memo records the state the write is conditional on (ETag and size before) and the ETag
it would leave; a repeat that finds neither that state nor that ETag reads the range the
write would have filled, and takes the append as applied if it holds this call's bytes, so a
write whose response was lost is never applied twice. A failure before any write was sent is
marked ``request_sent=False`` (nothing of the append can have been applied).
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

from xtstore.attempts import current_attempt
from xtstore.errors import BlobNotFound, PreconditionFailed, TransientError
from xtstore.providers.s3.errors import s3_errors

__all__ = ["MAX_COPY_PART", "Appender"]

MAX_COPY_PART = 5 * 2**30
"""UploadPartCopy copies at most 5 GiB per part."""

_MAX_PAUSE = 0.5
_HINTS = 4096


class Appender:
    """Appends for one S3 client; remembers the last size it saw per (bucket, key)."""

    def __init__(self, client: Any, compose_min_size: int, budget: float = 120.0) -> None:
        self._client = client
        self._compose_min_size = compose_min_size
        self._budget = budget
        self._hints: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._lock = threading.Lock()

    def append(self, bucket: str, key: str, data: bytes, *, rewrite: bool = False) -> None:
        """Append ``data`` to ``bucket/key``, creating it if missing.

        ``rewrite=True`` always uses GetObject + PutObject (never the compose path). Raises
        ``ContainerNotFound``; ``PreconditionFailed`` if contention outlasts the budget.
        """
        attempt = current_attempt()
        attempt.repeat_safe = True
        deadline = time.monotonic() + self._budget
        round_number = 0
        while True:
            try:
                size = self._append_once(bucket, key, data, rewrite, attempt.memo)
                self._remember(bucket, key, size)
                return
            except PreconditionFailed:
                round_number += 1
                if time.monotonic() >= deadline:
                    raise
                pause = min(_MAX_PAUSE, 0.005 * 2 ** min(round_number, 10))
                time.sleep(random.uniform(0, pause))

    def _remember(self, bucket: str, key: str, size: int) -> None:
        with self._lock:
            self._hints[(bucket, key)] = size
            self._hints.move_to_end((bucket, key))
            if len(self._hints) > _HINTS:
                self._hints.popitem(last=False)

    def _known_small(self, bucket: str, key: str) -> bool:
        with self._lock:
            size = self._hints.get((bucket, key))
        return size is not None and size < self._compose_min_size

    def _append_once(
        self, bucket: str, key: str, data: bytes, rewrite: bool, memo: dict[str, Any]
    ) -> int:
        """One conditional round; returns the blob's new size."""
        try:
            with s3_errors():
                return self._round(bucket, key, data, rewrite, memo)
        except TransientError as error:
            if not memo.get(_PENDING):
                error.request_sent = False  # no write of this call can have been applied
            raise

    def _round(
        self, bucket: str, key: str, data: bytes, rewrite: bool, memo: dict[str, Any]
    ) -> int:
        if rewrite or self._known_small(bucket, key):
            return self._read_then_write(bucket, key, data, memo, may_compose=not rewrite)
        try:
            with s3_errors():
                head = self._client.head_object(Bucket=bucket, Key=key)
        except BlobNotFound:
            return self._create(bucket, key, data, memo)
        size = int(head["ContentLength"])
        if self._applied_before(bucket, key, data, memo, head["ETag"], size, None):
            return size
        if size >= self._compose_min_size:
            return self._compose(bucket, key, data, head, memo)
        return self._read_then_write(bucket, key, data, memo, may_compose=True)

    def _applied_before(
        self, bucket: str, key: str, data: bytes, memo: dict[str, Any], etag: str, size: int,
        body: bytes | None,
    ) -> bool:
        """Whether one of this call's earlier writes whose outcome is unknown was applied:
        the blob, now at ``etag``/``size`` (``body`` if read), is the state that write leaves,
        or holds this call's bytes where it put them. A write is forgotten once the blob moved
        past the state it was conditional on without it (it can never apply then)."""
        undecided = []
        for write in memo.get(_PENDING, ()):
            before_etag, before_size, after_etag = write
            end = before_size + len(data)
            if etag == after_etag:
                return True
            if etag == before_etag:
                # Not applied yet; a late copy of it still competes with the next write,
                # which is conditional on the same state, so at most one of them applies.
                undecided.append(write)
            elif size >= end and self._range(bucket, key, etag, before_size, end, body) == data:
                return True
        memo[_PENDING] = undecided
        return False

    def _range(
        self, bucket: str, key: str, etag: str, start: int, end: int, body: bytes | None
    ) -> bytes:
        if body is not None:
            return body[start:end]
        if start == end:
            return b""
        ranged = self._client.get_object(Bucket=bucket, Key=key, IfMatch=etag,
                                         Range=f"bytes={start}-{end - 1}")["Body"]
        with ranged:
            return bytes(ranged.read())

    @staticmethod
    def _conditional_write(
        memo: dict[str, Any], write: tuple[str | None, int, str | None], send: Callable[[], Any]
    ) -> None:
        """Send a write conditional on the state ``write`` records, remembered until known
        not to have been applied."""
        memo.setdefault(_PENDING, []).append(write)
        try:
            with s3_errors():
                send()
        except PreconditionFailed:
            memo[_PENDING].remove(write)  # refused: not applied
            raise

    def _create(self, bucket: str, key: str, data: bytes, memo: dict[str, Any]) -> int:
        self._conditional_write(memo, (None, 0, _md5_etag(data)), partial(
            self._client.put_object, Bucket=bucket, Key=key, Body=data, IfNoneMatch="*"))
        return len(data)

    def _read_then_write(
        self, bucket: str, key: str, data: bytes, memo: dict[str, Any], may_compose: bool
    ) -> int:
        try:
            with s3_errors():
                current = self._client.get_object(Bucket=bucket, Key=key)
        except BlobNotFound:
            return self._create(bucket, key, data, memo)
        size = int(current["ContentLength"])
        if may_compose and size >= self._compose_min_size:
            current["Body"].close()  # grew past the hint: compose instead of downloading it
            if self._applied_before(bucket, key, data, memo, current["ETag"], size, None):
                return size
            return self._compose(bucket, key, data, current, memo)
        body = current["Body"]
        with body:  # (botocore's body enters as its raw stream: read the body itself)
            old = body.read()
        if self._applied_before(bucket, key, data, memo, current["ETag"], size, old):
            return size
        if data:
            new = old + data
            self._conditional_write(memo, (current["ETag"], size, _md5_etag(new)), partial(
                self._client.put_object, Bucket=bucket, Key=key, Body=new,
                IfMatch=current["ETag"], **_kept_attributes(current)))
        return size + len(data)

    def _compose(
        self, bucket: str, key: str, data: bytes, head: dict[str, Any], memo: dict[str, Any]
    ) -> int:
        size = int(head["ContentLength"])
        if not data:
            return size
        etag = head["ETag"]
        upload_id = self._client.create_multipart_upload(
            Bucket=bucket, Key=key, **_kept_attributes(head)
        )["UploadId"]
        try:
            parts = _copy_parts(self._client, bucket, key, upload_id, etag, size)
            tail = self._client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                            PartNumber=len(parts) + 1, Body=data)
            parts.append({"PartNumber": len(parts) + 1, "ETag": tail["ETag"]})
            # Only the completion can apply the append.
            self._conditional_write(memo, (etag, size, _multipart_etag(parts)), partial(
                self._client.complete_multipart_upload, Bucket=bucket, Key=key,
                UploadId=upload_id, MultipartUpload={"Parts": parts}, IfMatch=etag))
        except BaseException:
            _abort_quietly(self._client, bucket, key, upload_id)
            raise
        return size + len(data)


_PENDING = "writes"
"""memo key: the writes sent whose outcome is unknown, each (ETag before or None if the blob
was missing, size before, ETag after or None if not predictable)."""


def _multipart_etag(parts: list[dict[str, Any]]) -> str | None:
    """The ETag S3 gives a completed multipart upload of these parts (the MD5 of their MD5s,
    then the part count), or None where a part's ETag is not an MD5."""
    try:
        digests = b"".join(bytes.fromhex(str(part["ETag"]).strip('"')) for part in parts)
    except ValueError:
        return None
    return f'"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(parts)}"'


def _md5_etag(data: bytes) -> str:
    """The ETag S3 gives a single-part upload of ``data`` (without KMS encryption)."""
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def _kept_attributes(head: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {"Metadata": head.get("Metadata", {})}
    if head.get("ContentType"):
        kept["ContentType"] = head["ContentType"]
    return kept

def _copy_parts(
    client: Any, bucket: str, key: str, upload_id: str, etag: str, size: int
) -> list[dict[str, Any]]:
    count = -(-size // MAX_COPY_PART)
    step = -(-size // count)
    parts = []
    for index in range(count):
        first = index * step
        last = min(size, first + step) - 1
        extra = {"CopySourceRange": f"bytes={first}-{last}"} if count > 1 else {}
        result = client.upload_part_copy(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=index + 1,
            CopySource={"Bucket": bucket, "Key": key}, CopySourceIfMatch=etag, **extra,
        )
        parts.append({"PartNumber": index + 1, "ETag": result["CopyPartResult"]["ETag"]})
    return parts


def _abort_quietly(client: Any, bucket: str, key: str, upload_id: str) -> None:
    # The append already failed with a better error; a leftover upload only costs storage
    # until the bucket's lifecycle rule (or delete_container) removes it.
    with contextlib.suppress(Exception):
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
