"""ListObjectsV2 paging for ``list_blobs`` / ``iter_blobs``: lazy, sorted, reserved keys hidden.

S3 returns keys in UTF-8 byte order, which is code point order, i.e. Python's ``str`` order, and
each page's keys and common prefixes both follow it, so merging them page by page keeps the
whole listing sorted without holding it in memory.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from xtstore.paging import PagedListing
from xtstore.providers._shared import RESERVED_PREFIX, is_hidden_object
from xtstore.providers.s3.transfer import stored_checksums
from xtstore.values import BlobInfo, BlobProperties

__all__ = ["PAGE_SIZE", "iter_listing"]

PAGE_SIZE = 1000
"""S3's maximum ListObjectsV2 page (``MaxKeys``), read at each listing (tests lower it)."""


def iter_listing(
    client: Any, bucket: str, path: str, recursive: bool, page_size: int | None = None
) -> PagedListing[BlobInfo]:
    """Entries under the canonical list ``path`` (``""``, ``"foo/"`` or ``"foo*"``), in pages
    of ``page_size`` (default :data:`PAGE_SIZE`).

    The first page is fetched now, so a missing bucket raises ``ContainerNotFound`` at the
    call; each later page is one ListObjectsV2 from its ``ContinuationToken`` while iterating
    (a step of :class:`~xtstore.paging.PagedListing`, which the Store retries).
    """
    prefix = path[:-1] if path.endswith("*") else path
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix,
                                 "MaxKeys": page_size or PAGE_SIZE}
    if not recursive:
        arguments["Delimiter"] = "/"

    def fetch_page(token: str | None) -> tuple[list[BlobInfo], str | None]:
        resume = {"ContinuationToken": token} if token else {}
        page = client.list_objects_v2(**arguments, **resume)
        entries = list(heapq.merge(_blobs(page), _folders(page), key=lambda entry: entry.name))
        return entries, page.get("NextContinuationToken") if page.get("IsTruncated") else None

    return PagedListing(fetch_page)


def _blobs(page: dict[str, Any]) -> Iterator[BlobInfo]:
    for item in page.get("Contents", ()):
        key = item["Key"]
        if is_hidden_object(key):
            continue
        # A listing says nothing of encryption: a 32-hex ETag is taken for the MD5, which
        # an SSE-KMS object's is not (docs/providers/s3.md "Checksums").
        properties = BlobProperties.from_datetime(
            int(item["Size"]), item["LastModified"], str(item.get("ETag", "")),
            checksums=stored_checksums(item),
        )
        yield BlobInfo(name=key, properties=properties)


def _folders(page: dict[str, Any]) -> Iterator[BlobInfo]:
    for common in page.get("CommonPrefixes", ()):
        name = common["Prefix"]
        if name != RESERVED_PREFIX:
            yield BlobInfo(name=name, is_dir=True)
