"""The two sides of ``sync`` and ``check``: a local folder or a store address, listed as
``{relative path: Entry}`` (docs/cli.md "sync").

A listing gives each blob's size, ``last_modified`` and, on some stores, content hashes; its
metadata (the ``mtime`` an upload kept there) only where ``capabilities().listing_metadata``,
whose entries are then complete. Elsewhere :func:`complete` reads the properties of the few
entries whose comparison needs them, in parallel, and only those.

Which argument is local: one with ``service:`` before its first '/' is a store address; one
starting with '/', '.' or '~' is a local path; any other (``runs/exp1``) is a local path when
a local file or folder of that name exists, else an address on the default service; refused
as ambiguous when both exist (the default service has that container).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import click

from xtstore.cli.context import CliState, parse_address_arg
from xtstore.cli.filters import PathFilter
from xtstore.cli.globbing import walk_local_entries
from xtstore.errors import BlobNotFound, ContainerNotFound, InvalidName
from xtstore.fingerprints import MTIME_KEY, blob_checksums, file_digest, parse_mtime, stream_digest
from xtstore.values import BlobInfo, BlobProperties

if TYPE_CHECKING:
    from xtstore.store import Store

__all__ = ["Entry", "Side", "complete", "hash_entries", "list_side", "open_side"]

LOOKUP_WORKERS = 8
"""Properties read (or blobs hashed) at the same time: enough to hide a cloud store's
per-request latency."""

_SECOND = 1_000_000_000
_T = TypeVar("_T")


_NO_CHECKSUMS: Mapping[str, str] = MappingProxyType({})


class Entry(NamedTuple):
    """One file or blob: ``ref`` is its local path or blob name.

    ``mtime_ns`` is the file's modification time where ``stated`` (a local file's own, or a
    blob's ``mtime`` metadata: nanoseconds), else the blob's ``last_modified`` (the time it
    was written), which a cloud store keeps to the second only: ``precision_ns`` says how
    fine ``mtime_ns`` is. ``complete`` is False for a listing entry whose metadata was not
    read (its mtime may still be stated there).

    A named tuple, not a dataclass: a sync makes one per file on each side, and a tuple is
    made in a quarter of the time of a frozen dataclass."""

    ref: str
    size: int
    mtime_ns: int
    stated: bool = True
    precision_ns: int = 1
    checksums: Mapping[str, str] = _NO_CHECKSUMS
    complete: bool = True


class Side(NamedTuple):
    """SOURCE or DEST: a local folder (``store`` None, ``root`` its path) or a store folder
    (``root`` the blob prefix, "" or ending in '/'). ``single`` names the one file a file
    SOURCE is (and the one name looked at on DEST)."""

    text: str
    root: str
    store: Store | None = None
    container: str = ""
    single: str | None = None

    @property
    def local(self) -> bool:
        return self.store is None

    def ref(self, relative: str) -> str:
        """The local path or blob name of ``relative``."""
        if self.store is None:
            return os.path.join(self.root, *relative.split("/"))
        return self.root + relative

    def show(self, relative: str) -> str:
        """``relative`` as the user would write it."""
        if self.store is None:
            return self.ref(relative)
        return f"{self.store.get_service_name()}:{self.container}/{self.ref(relative)}"

    def same_place(self, other: Side) -> bool:
        """Whether one side lies inside the other (a sync between them would copy onto its
        own source); for one file, whether it would be copied onto itself."""
        if self.local != other.local:
            return False
        if self.store is None or other.store is None:
            mine, theirs = os.path.realpath(self.root), os.path.realpath(other.root)
            if self.single is not None:
                return mine == theirs
            return os.path.commonpath([mine, theirs]) in (mine, theirs)
        if (self.store.get_service_name(), self.container) != (
                other.store.get_service_name(), other.container):
            return False
        if self.single is not None:
            return self.root == other.root
        return self.root.startswith(other.root) or other.root.startswith(self.root)


def is_local_argument(state: CliState, text: str, role: str) -> bool:
    """Whether ``text`` is a local path rather than a store address (see the module's
    docstring). Raises ``click.BadParameter`` for an ambiguous one."""
    head = text.split("/", 1)[0]
    if ":" in head:
        return False
    if text.startswith(("/", ".", "~")):
        return True
    if not os.path.lexists(text):
        return False
    address = parse_address_arg(text, role)
    try:
        exists = state.store_for(address).does_container_exist(address.container)
    except InvalidName:
        return True  # no container can have that name
    if exists:
        raise click.BadParameter(
            f"'{text}' is both a local path and an address on the default service: write "
            f"'./{text}' for the local one, or 'SERVICE:{text}' for the store", param_hint=role)
    return True


def open_side(state: CliState, text: str, role: str, source: Side | None = None) -> Side:
    """SOURCE (``source`` None) or DEST (given the opened SOURCE). A missing SOURCE raises
    ``FileNotFoundError`` / ``BlobNotFound``; a missing DEST container ``ContainerNotFound``;
    a DEST that is a local file is a usage error."""
    single = source.single if source is not None else None
    if is_local_argument(state, text, role):
        path = os.path.expanduser(text)
        if source is None:
            if os.path.isfile(path):
                return Side(text, os.path.dirname(path) or ".", single=os.path.basename(path))
            if not os.path.isdir(path):
                raise FileNotFoundError(2, "no such file or folder", text)
        elif os.path.exists(path) and not os.path.isdir(path):
            raise click.BadParameter(f"'{text}' is a file: DEST is the folder that will match "
                                     "SOURCE", param_hint=role)
        return Side(text, path, single=single)
    address = parse_address_arg(text, role)
    if address.has_wildcard:
        raise click.BadParameter("sync and check take a folder, not a pattern: use --include "
                                 "PATTERN", param_hint=role)
    store = state.store_for(address)
    root = address.path + "/" if address.path else ""
    if source is not None:
        if not store.does_container_exist(address.container):
            local = "" if address.service else f", or write './{text}' for a local folder"
            raise ContainerNotFound(
                f"container not found: create it with 'xtstore containers create "
                f"{address.container}'{local}", service=store.get_service_name(),
                container=address.container)
        return Side(text, root, store, address.container, single)
    if address.path and not address.folder and not _has_blobs_below(store, address.container,
                                                                     root):
        try:
            store.get_blob_properties(address.container, address.path)
        except BlobNotFound:
            raise BlobNotFound("no blob or folder by this name",
                               service=store.get_service_name(), container=address.container,
                               blob=address.path) from None
        parent, _, name = address.path.rpartition("/")
        return Side(text, parent + "/" if parent else "", store, address.container, name)
    return Side(text, root, store, address.container)


def _has_blobs_below(store: Store, container: str, prefix: str) -> bool:
    return any(True for _ in store.iter_blobs(container, prefix, recursive=True))


def list_side(side: Side, path_filter: PathFilter) -> dict[str, Entry]:
    """Every file or blob of ``side`` the filter takes, by '/'-separated relative path."""
    if side.single is not None:
        if not path_filter.accepts(side.single):
            return {}
        found = _local_entry(side.ref(side.single)) if side.store is None else _blob_entry(
            side.store, side.container, side.ref(side.single))
        return {side.single: found} if found is not None else {}
    if side.store is None:
        if not os.path.isdir(side.root):
            return {}
        accepts = path_filter.accepts if path_filter.active else None
        entries = {}
        for relative, file in walk_local_entries(side.root):
            if accepts is None or accepts(relative):
                try:
                    stat = file.stat()
                except FileNotFoundError:
                    continue  # removed since the scan
                entries[relative] = Entry(file.path, stat.st_size, stat.st_mtime_ns)
        return entries
    capabilities = side.store.capabilities()
    precision = 1 if capabilities.local else _SECOND
    # Where the listing carries metadata, its entries are complete: no properties read later.
    listed_metadata = capabilities.listing_metadata
    accepts = path_filter.accepts if path_filter.active else None
    skip = len(side.root)
    entries = {}
    # One call (a local store's walk in one piece), not one guarded step per entry: every
    # entry is kept in the dict anyway.
    for info in side.store.list_blobs(side.container, side.root or None, return_names=False,
                                      recursive=True):
        if not isinstance(info, BlobInfo) or info.is_dir or info.properties is None:
            continue
        relative = info.name[skip:]
        if accepts is None or accepts(relative):
            properties = info.properties
            if listed_metadata:
                entries[relative] = blob_entry(properties, info.name, precision)
                continue
            entries[relative] = Entry(info.name, properties.content_length,
                                      properties.modified_ns, stated=False,
                                      precision_ns=precision,
                                      checksums=properties.checksums, complete=False)
    return entries


def _local_entry(path: str) -> Entry | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return Entry(path, stat.st_size, stat.st_mtime_ns)


def blob_entry(properties: BlobProperties, name: str, precision_ns: int) -> Entry:
    """The complete entry of a blob whose properties (metadata included) were read."""
    metadata = properties.metadata  # a new dict at each access: once here
    stated = parse_mtime(metadata.get(MTIME_KEY, ""))
    checksums = blob_checksums(properties, metadata)
    if stated is None:
        return Entry(name, properties.content_length, properties.modified_ns, False,
                     precision_ns, checksums)
    return Entry(name, properties.content_length, stated, True, 1, checksums)


def _blob_entry(store: Store, container: str, name: str) -> Entry | None:
    try:
        properties = store.get_blob_properties(container, name).properties
    except BlobNotFound:
        return None
    if properties is None:
        return None
    return blob_entry(properties, name, 1 if store.capabilities().local else _SECOND)


def complete(side: Side, entries: Mapping[str, Entry], paths: Iterable[str]
             ) -> dict[str, Entry]:
    """``entries`` with the properties of ``paths`` read (in parallel): their stated mtime
    and the ``sha256`` kept in their metadata. A blob deleted meanwhile drops out."""
    store = side.store
    wanted = [path for path in paths if not entries[path].complete]
    if store is None or not wanted:
        return dict(entries)
    found = _parallel(wanted, lambda path: _blob_entry(store, side.container,
                                                       entries[path].ref),
                      serial=store.capabilities().local)
    result = dict(entries)
    for path, entry in found.items():
        if entry is None:
            del result[path]
        else:
            result[path] = entry
    return result


def hash_entries(side: Side, entries: Mapping[str, Entry], paths: Iterable[str],
                 algorithm: str) -> dict[str, Entry]:
    """``entries`` with the ``algorithm`` digest of ``paths`` computed by reading them (a
    local file, or a blob downloaded as a stream: no temporary file)."""
    store = side.store

    def digest(path: str) -> str:
        ref = entries[path].ref
        if store is None:
            return file_digest(ref, algorithm)
        with store.open_blob(side.container, ref) as stream:
            return stream_digest(stream, algorithm)

    result = dict(entries)
    for path, value in _parallel(list(paths), digest, serial=False).items():
        entry = result[path]
        result[path] = entry._replace(checksums={**entry.checksums, algorithm: value})
    return result


def _parallel(paths: list[str], work: Callable[[str], _T], *, serial: bool) -> dict[str, _T]:
    """``work`` of each path, on LOOKUP_WORKERS threads unless ``serial``: a local store's
    lookups cost no round trip, only Python time that more threads would contend for."""
    if serial or len(paths) <= 1:
        return {path: work(path) for path in paths}
    import concurrent.futures  # here: a local store's lookups and most syncs need no pool

    with concurrent.futures.ThreadPoolExecutor(
            max_workers=LOOKUP_WORKERS, thread_name_prefix="xtstore-lookup") as executor:
        return dict(zip(paths, executor.map(work, paths), strict=True))
