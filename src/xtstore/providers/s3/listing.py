"""ListObjectsV2 paging for ``list_blobs`` / ``iter_blobs``: lazy, sorted, reserved keys hidden.

S3 returns keys in UTF-8 byte order, which is code point order, i.e. Python's ``str`` order, and
each page's keys and common prefixes both follow it, so merging them page by page keeps the
whole listing sorted without holding it in memory.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from xtstore.providers.s3.keys import RESERVED_PREFIX, is_hidden_key
from xtstore.values import BlobInfo, BlobProperties

__all__ = ["PAGE_SIZE", "iter_listing"]

PAGE_SIZE = 1000


def iter_listing(
    client: Any, bucket: str, path: str, recursive: bool, page_size: int = PAGE_SIZE
) -> Iterator[BlobInfo]:
    """Entries under the canonical list ``path`` (``""``, ``"foo/"`` or ``"foo*"``).

    The first page is fetched now, so a missing bucket raises ``ContainerNotFound`` at the
    call; later pages are fetched while iterating.
    """
    prefix = path[:-1] if path.endswith("*") else path
    arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix,
                                 "PaginationConfig": {"PageSize": page_size}}
    if not recursive:
        arguments["Delimiter"] = "/"
    pages = iter(client.get_paginator("list_objects_v2").paginate(**arguments))
    first = next(pages, None)
    return _entries(first, pages)


def _entries(first: dict[str, Any] | None, pages: Iterator[dict[str, Any]]) -> Iterator[BlobInfo]:
    page = first
    while page is not None:
        yield from heapq.merge(_blobs(page), _folders(page), key=lambda entry: entry.name)
        page = next(pages, None)


def _blobs(page: dict[str, Any]) -> Iterator[BlobInfo]:
    for item in page.get("Contents", ()):
        key = item["Key"]
        if is_hidden_key(key):
            continue
        properties = BlobProperties.from_datetime(
            int(item["Size"]), item["LastModified"], str(item.get("ETag", ""))
        )
        yield BlobInfo(name=key, properties=properties)


def _folders(page: dict[str, Any]) -> Iterator[BlobInfo]:
    for common in page.get("CommonPrefixes", ()):
        name = common["Prefix"]
        if name != RESERVED_PREFIX:
            yield BlobInfo(name=name, is_dir=True)
