"""``append_blob`` for S3, which has no append: a conditional rewrite of the whole object.

Every round reads the object's ETag and replaces the object only if the ETag still matches
(``If-Match``; ``If-None-Match: *`` when the blob is missing), so of two racing appends one
wins and the other starts its round again: nothing is lost, and each call's bytes land
contiguously because each round writes old content + the whole new text at once.

* Small blobs (below ``compose_min_size``): GetObject + PutObject, the object round-trips
  through the client.
* Large blobs: a server-side compose, a multipart upload whose first part(s) are copied from
  the existing object (``UploadPartCopy`` with ``x-amz-copy-source-if-match``) and whose last
  part is the new text, completed with ``If-Match``. Only the appended bytes cross the network.

Conflicts (HTTP 412, 409) are not transient errors: they are retried here with jittered
backoff under a time budget, not by the retry layer. Network failures are left to the layer.
"""

from __future__ import annotations

import contextlib
import random
import time
from typing import Any

from xtstore.errors import BlobNotFound, PreconditionFailed
from xtstore.providers.s3_errors import s3_errors

__all__ = ["MAX_COPY_PART", "append_bytes"]

MAX_COPY_PART = 5 * 2**30
"""UploadPartCopy copies at most 5 GiB per part."""

_MAX_PAUSE = 0.5


def append_bytes(
    client: Any,
    bucket: str,
    key: str,
    data: bytes,
    *,
    compose_min_size: int,
    rewrite: bool = False,
    budget: float = 120.0,
) -> None:
    """Append ``data`` to ``bucket/key``, creating it if missing.

    ``rewrite=True`` always uses GetObject + PutObject (never the compose path). Raises
    ``ContainerNotFound``; ``PreconditionFailed`` if contention outlasts ``budget`` seconds.
    """
    deadline = time.monotonic() + budget
    round_number = 0
    while True:
        try:
            _append_once(client, bucket, key, data, compose_min_size, rewrite)
            return
        except PreconditionFailed:
            round_number += 1
            if time.monotonic() >= deadline:
                raise
            time.sleep(random.uniform(0, min(_MAX_PAUSE, 0.005 * 2**min(round_number, 10))))


def _append_once(
    client: Any, bucket: str, key: str, data: bytes, compose_min_size: int, rewrite: bool
) -> None:
    try:
        with s3_errors():
            head = client.head_object(Bucket=bucket, Key=key)
    except BlobNotFound:
        with s3_errors():
            client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
        return
    if not data:
        return
    if head["ContentLength"] >= compose_min_size and not rewrite:
        _compose(client, bucket, key, data, head)
    else:
        _rewrite(client, bucket, key, data, head)


def _kept_attributes(head: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {"Metadata": head.get("Metadata", {})}
    if head.get("ContentType"):
        kept["ContentType"] = head["ContentType"]
    return kept


def _rewrite(client: Any, bucket: str, key: str, data: bytes, head: dict[str, Any]) -> None:
    etag = head["ETag"]
    with s3_errors():
        old = client.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"].read()
        client.put_object(Bucket=bucket, Key=key, Body=old + data, IfMatch=etag,
                          **_kept_attributes(head))


def _compose(client: Any, bucket: str, key: str, data: bytes, head: dict[str, Any]) -> None:
    etag = head["ETag"]
    size = int(head["ContentLength"])
    with s3_errors():
        upload_id = client.create_multipart_upload(
            Bucket=bucket, Key=key, **_kept_attributes(head)
        )["UploadId"]
    try:
        with s3_errors():
            parts = _copy_parts(client, bucket, key, upload_id, etag, size)
            tail = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                      PartNumber=len(parts) + 1, Body=data)
            parts.append({"PartNumber": len(parts) + 1, "ETag": tail["ETag"]})
            client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": parts}, IfMatch=etag,
            )
    except BaseException:
        _abort_quietly(client, bucket, key, upload_id)
        raise


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
