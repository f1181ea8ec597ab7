"""Turning command-line sources into lists of files or blobs.

A source is a single file/blob, a folder, a whole container, or a wildcard pattern. Each item
carries its path relative to the destination *folder* (``relative``): the file's own name,
the folder's name followed by the path inside it, or for a pattern the path below the
pattern's literal part. That gives ``cp -r`` semantics: several sources, a destination ending
in '/', or an existing destination folder receive the sources by name; otherwise the one
source *becomes* the destination (see :func:`target_path`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from xtstore.cli.address import Address
from xtstore.cli.globbing import Pattern, dir_key, has_magic, split_pattern, walk_local
from xtstore.errors import BlobNotFound
from xtstore.values import BlobInfo

if TYPE_CHECKING:
    from xtstore.store import Store

__all__ = [
    "Item",
    "Selection",
    "join_path",
    "remote_folder_exists",
    "resolve_local",
    "resolve_remote",
    "target_path",
]

Kind = Literal["file", "folder", "container", "pattern"]


@dataclass(frozen=True)
class Item:
    """One file or blob: ``ref`` is a local path or a blob name."""

    ref: str
    size: int
    relative: str


@dataclass
class Selection:
    kind: Kind
    items: list[Item] = field(default_factory=list)


def join_path(*parts: str) -> str:
    """Join blob path parts with '/', skipping empty ones."""
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


def target_path(selection: Selection, item: Item, into: bool) -> str:
    """Where ``item`` goes, relative to the destination: by name when copying *into* it, or,
    when the single source becomes the destination, the file itself ("") or the path inside
    the folder."""
    if into or selection.kind == "pattern":
        return item.relative
    if selection.kind == "file":
        return ""
    return item.relative.split("/", 1)[1] if "/" in item.relative else ""


# ---- remote ----


def _size(info: BlobInfo) -> int:
    return info.properties.content_length if info.properties is not None else 0


def _list(store: Store, container: str, prefix: str) -> list[BlobInfo]:
    # None, not "", for the whole container: errors then name no blob.
    entries = store.iter_blobs(container, prefix or None, recursive=True)
    return [entry for entry in entries if not entry.is_dir]


def _remote_pattern(store: Store, address: Address, pattern: Pattern) -> Selection:
    prefix = pattern.base + "/" if pattern.base else ""
    selection = Selection("pattern")
    for info in _list(store, address.container, prefix):
        relative = info.name[len(prefix):]
        if pattern.match(relative) is not None:
            selection.items.append(Item(info.name, _size(info), relative))
    return selection


def resolve_remote(store: Store, address: Address) -> Selection:
    """The blobs ``address`` names. Raises ``BlobNotFound`` when it names nothing,
    ``ContainerNotFound`` when the container is missing."""
    if address.has_wildcard:
        selection = _remote_pattern(store, address, split_pattern(address.path))
        if not selection.items:
            raise BlobNotFound("no blob matches this pattern", service=store.get_service_name(),
                               container=address.container, blob=address.path)
        return selection
    if not address.path:
        infos = _list(store, address.container, "")
        return Selection("container", [
            Item(info.name, _size(info), join_path(address.container, info.name))
            for info in infos
        ])
    if not address.folder:
        try:
            info = store.get_blob_properties(address.container, address.path)
        except BlobNotFound:
            pass
        else:
            name = address.path.rsplit("/", 1)[-1]
            return Selection("file", [Item(address.path, _size(info), name)])
    prefix = address.path + "/"
    infos = _list(store, address.container, prefix)
    if not infos:
        raise BlobNotFound("no blob or folder by this name", service=store.get_service_name(),
                           container=address.container, blob=address.path)
    folder_name = address.path.rsplit("/", 1)[-1]
    return Selection("folder", [
        Item(info.name, _size(info), join_path(folder_name, info.name[len(prefix):]))
        for info in infos
    ])


def remote_folder_exists(store: Store, address: Address) -> bool:
    """True if ``address`` is a container root or has blobs below it."""
    if not address.path:
        return True
    return any(True for _ in store.iter_blobs(address.container, address.path + "/"))


# ---- local ----


def _local_pattern(source: str) -> Selection:
    pattern = split_pattern(source.replace(os.sep, "/"))
    base = pattern.base or "."
    regex = pattern.regex
    max_depth = pattern.max_depth
    selection = Selection("pattern")

    def visit(folder: str, prefix: str, depth: int, ancestors: frozenset[tuple[int, int]]
              ) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            relative = prefix + entry.name
            if regex.fullmatch(relative):
                if entry.is_dir():
                    _add_tree(selection, entry.path, relative)
                elif entry.is_file():
                    selection.items.append(Item(entry.path, entry.stat().st_size, relative))
            elif entry.is_dir() and (max_depth is None or depth < max_depth):
                key = dir_key(entry.path)
                if key not in ancestors:  # a symlink back up would loop forever
                    visit(entry.path, relative + "/", depth + 1, ancestors | {key})

    if os.path.isdir(base):
        visit(base, "", 1, frozenset({dir_key(base)}))
    return selection


def _add_tree(selection: Selection, folder: str, name: str) -> None:
    for relative in walk_local(folder):
        path = os.path.join(folder, *relative.split("/"))
        selection.items.append(Item(path, os.stat(path).st_size, f"{name}/{relative}"))


def resolve_local(source: str) -> Selection:
    """The files ``source`` names (a file, a folder, or a pattern).

    Raises ``FileNotFoundError`` when it names nothing.
    """
    if has_magic(source):
        selection = _local_pattern(source)
        if not selection.items:
            raise FileNotFoundError(2, "no file matches this pattern", source)
        return selection
    if os.path.isdir(source):
        name = os.path.basename(os.path.abspath(source))
        selection = Selection("folder")
        _add_tree(selection, source, name)
        return selection
    if os.path.isfile(source):
        return Selection("file", [Item(source, os.stat(source).st_size,
                                       os.path.basename(source))])
    raise FileNotFoundError(2, "no such file or folder", source)
