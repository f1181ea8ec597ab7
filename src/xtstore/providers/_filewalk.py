"""Listing a folder tree as blobs, for ``store-file``: sorted walks with ``os.scandir`` and
:class:`BlobProperties` built straight from ``stat`` results."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from xtstore.listing import base_folder, list_prefix
from xtstore.values import BlobInfo, BlobProperties, datetime_from_ns

__all__ = ["children", "etag_of", "properties_of", "walk"]

_NO_METADATA: Mapping[str, str] = {}

Entry = tuple[str, "os.DirEntry[str]"]


def etag_of(st: os.stat_result) -> str:
    """The etag of a blob file: inode, mtime in ns and size."""
    return f'"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"'


def properties_of(
    st: os.stat_result, metadata: Mapping[str, str] | None = None
) -> BlobProperties:
    """A blob file's properties from its ``stat`` result."""
    modified_ns = st.st_mtime_ns
    return BlobProperties(
        content_length=st.st_size,
        last_modified=datetime_from_ns(modified_ns),
        modified_ns=modified_ns,
        etag=f'"{st.st_ino:x}-{modified_ns:x}-{st.st_size:x}"',
        metadata=metadata or _NO_METADATA,
    )


def _scan(folder: str, start: str) -> list[Entry]:
    """``folder``'s files and real folders (no symlinks) whose names start with ``start``,
    keyed and sorted as full names sort: a folder ``a`` is keyed ``a/``, so after ``a-b``."""
    keyed = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if not name.startswith(start):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    keyed.append((name + "/", entry))
                elif entry.is_file(follow_symlinks=False):
                    keyed.append((name, entry))
    except (FileNotFoundError, NotADirectoryError):
        return []
    keyed.sort(key=lambda pair: pair[0])
    return keyed


def _first_level(top: str, path: str | None) -> tuple[str, list[Entry]]:
    base = base_folder(path)
    return base, _scan(f"{top}/{base}" if base else top, list_prefix(path)[len(base):])


def walk(top: str, path: str | None) -> Iterator[Entry]:
    """Every blob file under the canonical list ``path`` of the container folder ``top``, in
    full-name order, as (name, entry)."""
    base, first = _first_level(top, path)
    stack = [iter([(base + key, entry) for key, entry in first])]
    while stack:
        for name, entry in stack[-1]:
            if name.endswith("/"):
                below = _scan(entry.path, "")
                stack.append(iter([(name + key, sub) for key, sub in below]))
                break
            yield name, entry
        else:
            stack.pop()


def children(top: str, path: str | None) -> Iterator[BlobInfo]:
    """The non-recursive listing: blob files directly under ``path`` and each child folder
    that holds at least one blob somewhere below it."""
    base, first = _first_level(top, path)
    for key, entry in first:
        if key.endswith("/"):
            if _holds_a_file(entry.path):
                yield BlobInfo(name=base + key, is_dir=True)
        else:
            yield BlobInfo(name=base + key,
                           properties=properties_of(entry.stat(follow_symlinks=False)))


def _holds_a_file(folder: str) -> bool:
    """True if ``folder`` has a regular file somewhere below it (stops at the first)."""
    subfolders = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    return True
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
    except OSError:
        return False
    return any(_holds_a_file(sub) for sub in subfolders)
