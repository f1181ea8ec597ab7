"""Turning command-line sources into lists of files or blobs.

A source is a single file/blob, a folder, a whole container, or a wildcard pattern. Each item
carries its path relative to the destination *folder* (``relative``): the file's own name,
the folder's name followed by the path inside it, or for a pattern the path below the
pattern's literal part. That gives ``cp -r`` semantics: several sources, a destination ending
in '/', or an existing destination folder receive the sources by name; otherwise the one
source *becomes* the destination (see :func:`target_path`).

``--include`` / ``--exclude`` apply here, where the items are listed, to the path relative to
the source (:func:`filter_path`), so every command that lists sources filters them alike.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

import click

from xtstore.cli.address import Address
from xtstore.cli.globbing import Pattern, dir_key, has_magic, split_pattern, walk_local
from xtstore.errors import BlobNotFound
from xtstore.values import BlobInfo, BlobProperties

T = TypeVar("T")

if TYPE_CHECKING:
    from xtstore.cli.filters import PathFilter
    from xtstore.store import Store

__all__ = [
    "Item",
    "Selection",
    "checked_blob_names",
    "filter_path",
    "join_path",
    "list_below",
    "remote_folder_exists",
    "resolve_local",
    "resolve_remote",
    "shown",
    "target_path",
]

Kind = Literal["file", "folder", "container", "pattern"]


@dataclass(frozen=True)
class Item:
    """One file or blob: ``ref`` is a local path or a blob name; ``properties`` a blob's, as
    its listing gave them (no metadata); ``mtime_ns`` a local file's modification time, from
    the same stat as its size (so an upload stats it no more for its ``mtime``)."""

    ref: str
    size: int
    relative: str
    properties: BlobProperties | None = None
    mtime_ns: int | None = None


@dataclass
class Selection:
    """What one source names. ``name`` is a folder's or container's own name (what ``cp -r``
    names its copy)."""

    kind: Kind
    items: list[Item] = field(default_factory=list)
    name: str = ""

    def filtered(self, path_filter: PathFilter | None) -> Selection:
        """The items ``path_filter`` accepts, by their path below the source."""
        if path_filter is None or not path_filter.active:
            return self
        kept = [item for item in self.items
                if path_filter.accepts(filter_path(self.kind, item.relative))]
        return Selection(self.kind, kept, self.name)


def filter_path(kind: Kind, relative: str) -> str:
    """The path ``--include`` / ``--exclude`` see for an item: inside a folder or container
    (its name dropped), below a pattern's literal part, a single file's name."""
    if kind in ("folder", "container"):
        return relative.split("/", 1)[1] if "/" in relative else relative
    return relative


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


def _item(info: BlobInfo, relative: str) -> Item:
    return Item(info.name, _size(info), relative, info.properties)


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
            selection.items.append(_item(info, relative))
    return selection


def resolve_remote(store: Store, address: Address,
                   path_filter: PathFilter | None = None) -> Selection:
    """The blobs ``address`` names that ``path_filter`` accepts. Raises ``BlobNotFound`` when
    it names nothing (before filtering), ``ContainerNotFound`` when the container is
    missing."""
    return _resolve_remote(store, address).filtered(path_filter)


def _resolve_remote(store: Store, address: Address) -> Selection:
    if address.has_wildcard:
        selection = _remote_pattern(store, address, split_pattern(address.path))
        if not selection.items:
            raise BlobNotFound("no blob matches this pattern", service=store.get_service_name(),
                               container=address.container, blob=address.path)
        return selection
    if not address.path:
        infos = _list(store, address.container, "")
        return Selection("container", [
            _item(info, join_path(address.container, info.name)) for info in infos
        ], address.container)
    if not address.folder:
        try:
            info = store.get_blob_properties(address.container, address.path)
        except BlobNotFound:
            pass
        else:
            name = address.path.rsplit("/", 1)[-1]
            return Selection("file", [Item(address.path, _size(info), name, info.properties)])
    prefix = address.path + "/"
    infos = _list(store, address.container, prefix)
    if not infos:
        raise BlobNotFound("no blob or folder by this name", service=store.get_service_name(),
                           container=address.container, blob=address.path)
    folder_name = address.path.rsplit("/", 1)[-1]
    return Selection("folder", [
        _item(info, join_path(folder_name, info.name[len(prefix):])) for info in infos
    ], folder_name)


def remote_folder_exists(store: Store, address: Address) -> bool:
    """True if ``address`` is a container root or has blobs below it."""
    if not address.path:
        return True
    return any(True for _ in store.iter_blobs(address.container, address.path + "/"))


def list_below(store: Store, container: str, path: str) -> dict[str, BlobInfo]:
    """Every blob at or below ``path`` ("" for the whole container), by name: what a
    destination already holds."""
    found = {info.name: info for info in _list(store, container, path + "/" if path else "")}
    if path:
        with contextlib.suppress(BlobNotFound):
            found[path] = store.get_blob_properties(container, path)
    return found


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
                    selection.items.append(_local_item(entry.path, entry.stat(), relative))
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
        selection.items.append(_local_item(path, os.stat(path), f"{name}/{relative}"))


def _local_item(path: str, stat: os.stat_result, relative: str) -> Item:
    return Item(path, stat.st_size, relative, mtime_ns=stat.st_mtime_ns)


def resolve_local(source: str, path_filter: PathFilter | None = None) -> Selection:
    """The files ``source`` names (a file, a folder, or a pattern) that ``path_filter``
    accepts.

    Raises ``FileNotFoundError`` when it names nothing (before filtering).
    """
    return _resolve_local(source).filtered(path_filter)


def _resolve_local(source: str) -> Selection:
    if has_magic(source):
        selection = _local_pattern(source)
        if not selection.items:
            raise FileNotFoundError(2, "no file matches this pattern", source)
        return selection
    if os.path.isdir(source):
        name = os.path.basename(os.path.abspath(source))
        selection = Selection("folder", name=name)
        _add_tree(selection, source, name)
        return selection
    if os.path.isfile(source):
        return Selection("file", [_local_item(source, os.stat(source),
                                              os.path.basename(source))])
    raise FileNotFoundError(2, "no such file or folder", source)


# ---- destination names ----


def shown(text: str) -> str:
    """``text`` on one printable line: control characters and undecodable bytes escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def checked_blob_names(pairs: list[tuple[str, str, T]], container: str, skip_invalid: bool
                       ) -> list[tuple[str, str, T]]:
    """``(source shown, destination blob, what to copy)`` with every blob name checked before
    anything moves: all the bad ones are listed in one error, or skipped with a warning each
    under ``--skip-invalid`` (upload, download's names are local, cp, mv and sync)."""
    from xtstore.errors import InvalidName
    from xtstore.names import normalize_blob_path

    kept, bad = [], []
    for source, blob, item in pairs:
        try:
            kept.append((source, normalize_blob_path(blob, container=container), item))
        except InvalidName as error:
            bad.append((source, error.reason))
    if bad and not skip_invalid:
        what = "1 name cannot be a blob name" if len(bad) == 1 else \
            f"{len(bad)} names cannot be blob names"
        click.echo(f"xtstore: error: {what} (leave them out with --exclude PATTERN, or skip "
                   "them with --skip-invalid):", err=True)
        for source, reason in bad:
            click.echo(f"xtstore:   {shown(source)}: {reason}", err=True)
        raise click.exceptions.Exit(1)
    for source, reason in bad:
        click.echo(f"xtstore: warning: skipped {shown(source)}: {reason}", err=True)
    return kept
