"""The sidecar records of ``store-file``, kept outside the containers' namespace: blob and
container metadata (JSON files under ``.xtstore/meta``) and the snapshots under
``.xtstore/snapshots`` (hard links named by snapshot id, which encodes when each was made).

A blob's metadata record is bound to the file it describes: it maps the identity of each
file it gives metadata to (device, inode and a random id kept with the file in the extended
attribute ``user.xtstore.id``, which tells a file from a later one given the same inode
number) to that file's metadata, and a reader takes only the entry of the file that has the
blob's name. So no write ever has to clear a record before its new version takes the name:

* a replacing write leaves the record alone until the new version has the name (the old
  version keeps its metadata until then), and the new version, unknown to the record, has
  none; the record is removed afterwards (:meth:`Records.settle`);
* a write that gives a new file metadata (an append by rewrite, a copy) adds the new file's
  entry to the record before the file takes the name.

A process killed at any point thus leaves either the old version with its metadata or the new
one with its own. An entry that matches no file at the name (the old version's, or one left
by a killed write) is ignored by readers, and the next write of the name, or of its metadata,
drops it, so a record holds two entries at most: nothing walks the records on open.

Metadata given to a write is not a record: it is kept with the new file itself, in the
extended attribute ``user.xtstore.metadata``, given before the file takes the name (like its
content type), so the write costs one more system call and a listing one ``getxattr`` per blob,
and a killed write leaves it with the file it belongs to or with nothing. A record is written
only by :meth:`Records.set_blob_metadata` (and by the copies and appends that carry such
metadata over): the file's entry in the blob's record wins over the attribute (an empty entry
stands for metadata cleared), since hard links (snapshots, copies) share the attribute. Where
the file system keeps no (or not that much) user extended attributes, the metadata given to a
write goes to the record as above. A container's metadata folder exists once any of its blobs
has metadata: where it does not, a reader looks no further.

Setting a blob's metadata changes neither its etag nor its last-modified time (the id is an
extended attribute). A record is rewritten whole, through the write path's new-version file,
and only under the blob's lock, which deleting the blob takes too. A record written by a
version before 2.3 (metadata without identities) is taken as the metadata of whatever file
has the name, and bound to that file on its next rewrite. Where the file system keeps no user
extended attributes, a file's identity is its device and inode only.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from xtstore.errors import AccessDenied, BlobNotFound
from xtstore.localfiles.oscalls import (
    O_CLOEXEC,
    O_PATH,
    PROC_FD,
    make_folders,
    read_all,
    unlink_quietly,
    write_all,
)
from xtstore.providers._shared import snapshot_created
from xtstore.providers.file.checksums import NO_ATTRIBUTES
from xtstore.providers.file.confinement import Confinement
from xtstore.providers.file.layout import SNAPSHOT_ID, Layout, key_of
from xtstore.providers.file.walk import etag_of
from xtstore.values import SnapshotInfo

__all__ = ["CONTENT_TYPE", "FILE_ID", "METADATA", "Records", "attribute_metadata",
           "content_type_of", "record_content_type"]

FILE_ID = "user.xtstore.id"
"""The extended attribute holding a blob file's random id (16 hex digits), given to a file
the first time a record names it."""
CONTENT_TYPE = "user.xtstore.content-type"
"""The extended attribute holding a blob file's content type, given before the file takes
the blob's name; it belongs to the file, so hard links (copies, snapshots) share it and an
append in place keeps it."""
METADATA = "user.xtstore.metadata"
"""The extended attribute holding the metadata a blob file was written with (a JSON object),
given before the file takes the blob's name; the file's entry in the blob's record, if it has
one, wins over it."""
_READ_ATTEMPTS = 8
"""Reads of a record retried while the blob's file keeps changing under them."""
_ATTRIBUTES = hasattr(os, "getxattr")
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK
"""How a blob file is opened to read or give its id: never waiting on a FIFO put there."""

NewVersion = Callable[[Callable[[int], None]], tuple[str, int]]
"""The write path's :meth:`~xtstore.providers.file.writes.Writer.new_version`."""
Files = dict[str, dict[str, str]]
"""A record's entries: a file's identity (see :func:`identity`) to its metadata."""
Incoming = tuple[str, "dict[str, str] | None"]
"""A file's identity and the entry its record is to have (None: none, so the file has the
metadata its attribute gives it, if any; an empty mapping: metadata cleared)."""


class Records:
    """The metadata and snapshot records of one store."""

    __slots__ = ("_confined", "_layout", "_new_version")

    def __init__(self, layout: Layout, confined: Confinement, new_version: NewVersion) -> None:
        self._layout = layout
        self._confined = confined
        self._new_version = new_version

    # ---- blob metadata: reading ----

    def blob_state(self, container: str, blob_path: str) -> tuple[os.stat_result,
                                                                  dict[str, str]]:
        """The stat of the blob's file and that file's metadata, as one pair: a record read
        while the file was being replaced is read again with the new file's stat. Raises
        :class:`BlobNotFound`."""
        return self._state(container, blob_path, self._confined.stat_blob(container,
                                                                          blob_path))

    def described(self, container: str, blob_path: str) -> tuple[os.stat_result,
                                                                  dict[str, str], str | None]:
        """:meth:`blob_state` and the content type of the same file. Raises
        :class:`BlobNotFound`."""
        try:
            fd, st = self._confined.open_blob(container, blob_path, flags=_OPEN_FLAGS)
            where: int | str = fd
        except PermissionError:  # a file this process may not read: its /proc link then
            fd, st = self._confined.open_blob(container, blob_path, flags=O_PATH)
            where = f"/proc/self/fd/{fd}" if PROC_FD else self._layout.blob_file(container,
                                                                                 blob_path)
        try:
            content_type = content_type_of(where)
        finally:
            os.close(fd)
        now, metadata = self._state(container, blob_path, st)
        if now is not st:  # replaced meanwhile: the type of the version described
            content_type = content_type_of(self._layout.blob_file(container, blob_path))
        return now, metadata, content_type

    def listing_reader(self, container: str) -> Callable[[str, os.stat_result],
                                                         tuple[os.stat_result, dict[str, str]]]:
        """For a listing: ``read(blob_path, st)``, given the stat the listing took of the
        blob's file, gives the stat and metadata of one version, paired by the same rule as
        :meth:`blob_state` (``st`` replaced by a newer one if the file changed meanwhile);
        raises :class:`BlobNotFound` if it is gone. The container's records are looked up
        once, by one scan of their folder, instead of one ``open`` per blob: a record made
        after the scan is one the listing did not wait for, unless the blob's file changed
        too (then its record is opened)."""
        try:
            names = frozenset(os.listdir(self._layout.meta_folder(container)))
        except FileNotFoundError:  # no blob of the container has metadata
            return lambda blob_path, st: (st, {})
        names -= {os.path.basename(self._layout.container_meta_file(container))}

        def read(blob_path: str, st: os.stat_result) -> tuple[os.stat_result, dict[str, str]]:
            recorded = bool(names) and f"{key_of(blob_path)}.json" in names
            return self._state(container, blob_path, st, maybe_recorded=recorded)

        return read

    def _state(self, container: str, blob_path: str, st: os.stat_result, *,
               maybe_recorded: bool = True) -> tuple[os.stat_result, dict[str, str]]:
        """With ``maybe_recorded`` false, the first reading opens no record (the caller knows
        there was none)."""
        if maybe_recorded and not self._any_metadata(container):
            return st, {}
        path = self._layout.blob_file(container, blob_path)
        for _ in range(_READ_ATTEMPTS):
            files = self._record_entries(container, blob_path) if maybe_recorded else None
            maybe_recorded = True
            read_by_path = False

            def path_id() -> str:
                nonlocal read_by_path
                read_by_path = True
                return _read_id(path)

            metadata = None if files is None else _entry_of(files, st, path_id)
            if metadata is None:
                read_by_path = True
                kept = _attribute(path)
                metadata = {} if kept is None else kept[1]
                if kept is not None and kept[0] == etag_of(st):
                    return st, metadata  # given to the very version listed: no second stat
            if not read_by_path:
                return st, metadata
            again = self._confined.stat_blob(container, blob_path)
            if _same_version(again, st):
                # What was read by path was this version's (its file is still at the name);
                # else a newer file, maybe with this one's reused inode, gave it.
                return st, metadata
            st = again
        return st, {}

    def metadata_of_open(self, container: str, blob_path: str, fd: int,
                         st: os.stat_result) -> dict[str, str]:
        """The metadata the blob's record, or else its attribute, gives the blob file open as
        ``fd`` (the caller holds the blob's lock)."""
        if not self._any_metadata(container):
            return {}
        files = self._record_entries(container, blob_path)
        metadata = None if files is None else _entry_of(files, st, lambda: _read_id(fd))
        if metadata is None:
            return attribute_metadata(fd) or {}
        return metadata

    # ---- blob metadata: writing (the caller holds the blob's lock unless it says not) ----

    def set_blob_metadata(self, container: str, blob_path: str,
                          metadata: Mapping[str, str]) -> None:
        """Replace the metadata of the blob's file. Raises :class:`BlobNotFound`."""
        with self._layout.blob_lock(container, blob_path) as lock_path:
            try:
                fd, st = self._confined.open_blob(container, blob_path, flags=_OPEN_FLAGS)
            except BlobNotFound:
                os.unlink(lock_path)  # leave no lock file for a blob that is not there
                raise
            try:
                record = self._layout.meta_file(container, blob_path)
                if not metadata and attribute_metadata(fd) is None:
                    unlink_quietly(record)
                    return
                # The file's own entry, and nothing else: no need to read the record first.
                files = {identity(fd, st, give=True): dict(metadata)}
                self._replace_record(record, json.dumps({"blob": blob_path, "files": files}))
            finally:
                os.close(fd)

    def prepare(self, container: str, blob_path: str, incoming: Incoming | None = None, *,
                locked: bool = False) -> bool:
        """Before a new file takes the blob's name: keep only the entry of the file there
        now (dropping stale ones, so none can fall to the new file), and add ``incoming``
        (the new file's identity and entry, see :data:`Incoming`). True if a record is left
        that gives the new file nothing: :meth:`settle` removes it once the new file has the
        name. Costs one ``access`` where the container has no metadata."""
        gives = incoming is not None and incoming[1] is not None
        if not gives:
            files = self._entries(container, blob_path)
            if files is None:
                return False
            if incoming is None and all(_names_an_id(key) for key in files):
                # Entries of files that have ids can never fall to the new file, which has
                # none yet: nothing to drop before it takes the name.
                return True
        with self._lock_unless(locked, container, blob_path):
            return self._rebind(container, blob_path, incoming) and not gives

    def settle(self, container: str, blob_path: str, *, locked: bool = False) -> None:
        """After a new file without metadata took the blob's name: remove the record if it
        gives that file nothing (its entries are of files no longer at the name)."""
        with self._lock_unless(locked, container, blob_path):
            files = self._entries(container, blob_path)
            if files is None:
                return
            with self._current(container, blob_path) as now:
                if now is not None and _bound_entry(files, *now, give=False):
                    return  # a concurrent write gave it metadata meanwhile
            unlink_quietly(self._layout.meta_file(container, blob_path))

    def _rebind(self, container: str, blob_path: str, incoming: Incoming | None = None) -> bool:
        """Rewrite the record as the entry of the file now at the name plus ``incoming``;
        remove it if nothing is left. True if a record is left. Under the blob's lock."""
        files = self._entries(container, blob_path)
        kept: Files = {}
        if files is not None:
            with self._current(container, blob_path) as now:
                if now is not None:
                    kept = _bound_entry(files, *now, give=True)
        if incoming is not None:
            key, metadata = incoming
            if metadata is not None:
                kept[key] = metadata
            else:
                kept.pop(key, None)
        record = self._layout.meta_file(container, blob_path)
        if not kept:
            if files is not None:
                unlink_quietly(record)
            return False
        if kept != files:
            self._replace_record(record, json.dumps({"blob": blob_path, "files": kept}))
        return True

    @contextmanager
    def _current(self, container: str,
                 blob_path: str) -> Iterator[tuple[int, os.stat_result] | None]:
        """The blob's file, open, and its stat; None if there is none (or none this process
        may read: its entry is then dropped, as one no reader here could check)."""
        try:
            fd, st = self._confined.open_blob(container, blob_path, flags=_OPEN_FLAGS)
        except (BlobNotFound, AccessDenied, PermissionError):
            yield None
            return
        try:
            yield fd, st
        finally:
            os.close(fd)

    @contextmanager
    def _lock_unless(self, locked: bool, container: str, blob_path: str) -> Iterator[None]:
        if locked:
            yield
        else:
            with self._layout.blob_lock(container, blob_path):
                yield

    def _any_metadata(self, container: str) -> bool:
        """Whether any blob of the container may have metadata (its metadata folder exists).
        Most containers never get any: one ``access`` settles it for them, with no hash to
        compute and no exception raised."""
        return os.access(self._layout.meta_folder(container), os.F_OK)

    def _entries(self, container: str, blob_path: str) -> Files | None:
        """The record's entries (None: no record). A record written before 2.3 is one entry
        under the key ``""``, which stands for whatever file has the name."""
        if not self._any_metadata(container):
            return None
        return self._record_entries(container, blob_path)

    def _record_entries(self, container: str, blob_path: str) -> Files | None:
        """:meth:`_entries` for a container known to have a metadata folder."""
        try:
            fd = os.open(self._layout.meta_file(container, blob_path), os.O_RDONLY | O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            document: dict[str, Any] = json.loads(read_all(fd))
        finally:
            os.close(fd)
        if "files" in document:
            return {str(key): dict(value) for key, value in document["files"].items()}
        return {"": dict(document["metadata"])}

    def give_metadata(self, container: str, fd: int, metadata: Mapping[str, str]) -> bool:
        """Keep ``metadata`` with the new file ``fd``, complete and stamped, before it takes
        a name in the container (attribute :data:`METADATA`, with the file's etag: a reader
        that listed this very version needs no second ``stat`` to pair the two). False, with
        nothing kept, where the file system keeps no user extended attributes or not that
        many bytes of them (the caller then gives the file a record entry)."""
        if not _ATTRIBUTES:
            return False
        value = json.dumps({"etag": etag_of(os.fstat(fd)), "metadata": dict(metadata)},
                           separators=(",", ":")).encode()
        try:
            os.setxattr(fd, METADATA, value)
        except OSError as error:
            if error.errno in NO_ATTRIBUTES or error.errno == errno.ERANGE:
                return False
            raise
        folder = self._layout.meta_folder(container)
        if not os.access(folder, os.F_OK):
            make_folders(folder)  # before the name: readers look no further without it
        return True

    def _replace_record(self, target: str, document: str) -> None:
        self.replace_record(target, document.encode())

    def replace_record(self, target: str, document: bytes) -> None:
        """Replace the internal file ``target`` (a metadata record) by ``document``, whole,
        through the write path's new-version file; its folder is made if missing."""
        temp, held = self._new_version(lambda fd: write_all(fd, document))
        try:
            try:
                os.replace(temp, target)
            except FileNotFoundError:
                make_folders(os.path.dirname(target))
                os.replace(temp, target)
        finally:
            unlink_quietly(temp)
            os.close(held)

    # ---- container metadata ----

    def container_metadata(self, container: str) -> dict[str, str]:
        """Raises :class:`ContainerNotFound`."""
        self._layout.require_container(container)
        try:
            with open(self._layout.container_meta_file(container), "rb") as handle:
                return dict(json.loads(handle.read()))
        except FileNotFoundError:
            return {}

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Raises :class:`ContainerNotFound`."""
        self._layout.require_container(container)
        document = json.dumps(dict(metadata)).encode()
        self.replace_record(self._layout.container_meta_file(container), document)

    # ---- snapshots ----

    def snapshot_info(self, container: str, blob_path: str, snapshot_id: str) -> SnapshotInfo:
        return SnapshotInfo(container, blob_path, snapshot_id, snapshot_created(snapshot_id))

    def snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """Oldest first. Raises :class:`ContainerNotFound`."""
        self._layout.require_container(container)
        try:
            ids = sorted(name for name in os.listdir(self._layout.snapshot_folder(
                container, blob_path)) if SNAPSHOT_ID.fullmatch(name))
        except FileNotFoundError:
            ids = []
        return [self.snapshot_info(container, blob_path, i) for i in ids]


def identity(fd: int, st: os.stat_result, *, give: bool) -> str:
    """The identity of the blob file open as ``fd`` (``st`` its stat) as a record names it:
    ``<device>:<inode>:<id>`` in hex. With ``give``, a file without an id is given one first
    (where the file system keeps none: an empty id)."""
    return f"{st.st_dev:x}:{st.st_ino:x}:{_given_file_id(fd) if give else _read_id(fd)}"


def _names_an_id(key: str) -> bool:
    """Whether the record key ``key`` names a file by its id (not by device and inode alone,
    nor a record from before 2.3)."""
    return bool(key) and not key.endswith(":")


def _bound_entry(files: Files, fd: int, st: os.stat_result, *, give: bool) -> Files:
    """The entry of ``files`` for the file open as ``fd``, keyed by its identity (a record
    from before 2.3 is bound to it, which with ``give`` gives the file an id); empty if it
    has none."""
    legacy = files.get("")
    if legacy is not None:
        return {identity(fd, st, give=give): legacy}
    prefix = f"{st.st_dev:x}:{st.st_ino:x}:"
    file_id: str | None = None
    for key, metadata in files.items():
        if key.startswith(prefix):
            if file_id is None:
                file_id = _read_id(fd)
            if key[len(prefix):] in ("", file_id):
                return {key: metadata}
    return {}


def _entry_of(files: Files, st: os.stat_result,
              file_id: Callable[[], str]) -> dict[str, str] | None:
    """The metadata ``files`` gives the file of stat ``st`` whose id ``file_id()`` reads (only
    when an entry's device and inode match); None if there is no entry for it."""
    legacy = files.get("")
    if legacy is not None:
        return legacy
    prefix = f"{st.st_dev:x}:{st.st_ino:x}:"
    known: str | None = None
    for key, metadata in files.items():
        if key.startswith(prefix):
            recorded = key[len(prefix):]
            if recorded and known is None:
                known = file_id()
            if recorded in ("", known):
                return metadata
    return None


def _same_version(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino, a.st_mtime_ns, a.st_size) == (
        b.st_dev, b.st_ino, b.st_mtime_ns, b.st_size)


def _read_id(target: int | str) -> str:
    """The id of the file open as ``target`` (an fd) or that the path ``target`` leads to;
    empty if it has none, or is gone."""
    if not _ATTRIBUTES:
        return ""
    try:
        return os.getxattr(target, FILE_ID).decode("ascii", "replace")
    except OSError:
        return ""  # none given (ENODATA), no attributes here, or the file is gone


def record_content_type(fd: int, content_type: str | None) -> None:
    """Keep ``content_type`` with the new file ``fd`` (nothing for None, or where the file
    system keeps no user extended attributes: the blob then reads back with none)."""
    if content_type is None or not _ATTRIBUTES:
        return
    try:
        os.setxattr(fd, CONTENT_TYPE, content_type.encode("ascii"))
    except OSError as error:
        if error.errno not in NO_ATTRIBUTES:
            raise


def attribute_metadata(target: int | str) -> dict[str, str] | None:
    """The metadata kept with the file open as ``target`` (an fd open for reading) or that
    the path ``target`` leads to (attribute :data:`METADATA`); None if it has none."""
    kept = _attribute(target)
    return None if kept is None else kept[1]


def _attribute(target: int | str) -> tuple[str, dict[str, str]] | None:
    """The etag the file had when given the attribute :data:`METADATA` (a later append in
    place changes the file's), and the metadata it keeps; None if it has none."""
    if not _ATTRIBUTES:
        return None
    try:
        # A path is not followed: a symlink put at the blob's name has no metadata.
        value = os.getxattr(target, METADATA, follow_symlinks=isinstance(target, int))
    except OSError:
        return None  # none given (ENODATA), no attributes here, or the file is gone
    document = _kept_document(value.decode())
    return str(document["etag"]), {str(key): str(item)
                                   for key, item in document["metadata"].items()}


# The decoder's own scanner (an attribute typeshed does not declare).
_scan_json: Callable[[str, int], tuple[Any, int]] = (
    json.JSONDecoder().scan_once)  # type: ignore[attr-defined]


def _kept_document(text: str) -> Any:
    """``json.loads`` of a document xtstore wrote (``json.dumps``: no whitespace around it)
    without its whitespace checks, which cost as much as the decoding: a listing reads one
    per blob."""
    try:
        document, end = _scan_json(text, 0)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return document


def content_type_of(target: int | str) -> str | None:
    """The content type kept with the file open as ``target`` (an fd open for reading) or
    that the path ``target`` leads to; None if it has none."""
    if not _ATTRIBUTES:
        return None
    try:
        return os.getxattr(target, CONTENT_TYPE).decode("ascii", "replace")
    except OSError:
        return None  # none given (ENODATA), no attributes here, or the file is gone


def _given_file_id(fd: int) -> str:
    """The id of the file open as ``fd``, given a new one if it has none; empty where the file
    system keeps no attributes. Two processes giving one file an id at once agree on it: only
    the first ``XATTR_CREATE`` succeeds, and the other reads it."""
    if not _ATTRIBUTES:
        return ""
    existing = _read_id(fd)
    if existing:
        return existing
    new = os.urandom(8).hex()
    try:
        os.setxattr(fd, FILE_ID, new.encode("ascii"), os.XATTR_CREATE)
    except OSError as error:
        if error.errno == errno.EEXIST:
            return _read_id(fd)
        if error.errno in NO_ATTRIBUTES or error.errno == errno.EACCES:
            return ""  # e.g. a read-only file: known by its device and inode only
        raise
    return new
