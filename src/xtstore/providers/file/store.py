"""``store-file``: containers and blobs as folders and files under a local root (the default).

:class:`FileProvider` composes the pieces, one module each:

* :mod:`~xtstore.providers.file.layout`: where everything lives under the root (the
  ``.xtstore`` folder for temporary files, snapshots, metadata and locks), the container
  folders, and the per-blob locks;
* :mod:`~xtstore.providers.file.confinement`: opening what a name leads to, never beyond its
  container (a symlink leading anywhere else raises :class:`AccessDenied`; symlinks are never
  listed);
* :mod:`~xtstore.providers.file.writes`: the one write path (a new file, given the blob's name
  only when complete) and the writes built on it: appends, copies and snapshots as hard
  links, deletes;
* :mod:`~xtstore.providers.file.records`: the metadata records, each bound to the file it
  describes, and the snapshot records;
* :mod:`~xtstore.providers.file.walk`: listings;
* :mod:`~xtstore.providers.file.checksums`: the optional CRC-32 of each blob (``checksum``).
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator, Mapping
from functools import partial
from typing import IO, Any

from xtstore.errors import BlobNotFound, ConfigError, ContainerNotFound
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.localfiles.atomic import atomic_local_file
from xtstore.localfiles.oscalls import O_CLOEXEC, copy_whole, read_all, write_all
from xtstore.providers._public import provider_store_class
from xtstore.providers._shared import Expected, check_bytes, to_bytes, verified_local_file
from xtstore.providers.file import checksums
from xtstore.providers.file.confinement import Confinement
from xtstore.providers.file.description import DESCRIPTION
from xtstore.providers.file.layout import Layout
from xtstore.providers.file.records import content_type_of, identity, record_content_type
from xtstore.providers.file.walk import (
    Build,
    child_names,
    children,
    collect_infos,
    collect_names,
    listing_entry,
    properties_of,
    walk,
)
from xtstore.providers.file.writes import LARGE, NewVersion, Writer
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
    datetime_from_ns,
)
from xtstore.writer import BlobWriter

__all__ = ["FileProvider", "FileStore"]

_STREAM_CHUNK = 4 * 1024 * 1024


class FileProvider(StoreInterface):
    """The ``store-file`` provider. ``config["path"]`` is the root folder (``~`` expanded,
    created if missing).

    Raises :class:`ContainerNotFound`, :class:`ContainerAlreadyExists`, :class:`BlobNotFound`,
    :class:`BlobAlreadyExists` (also when a name is needed as both a blob and a folder, which a
    file system cannot hold) and :class:`AccessDenied` (a symlink leading out of its
    container) as the interface documents; other ``OSError`` are translated by the store's
    error layer. :class:`ConfigError` if ``path`` is missing.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._name = str(config.get("name", "filestorage"))
        path = config.get("path")
        if not path:
            raise ConfigError("store-file needs a 'path'", key_path="path", service=self._name)
        checksum = config.get("checksum", "none")
        if checksum not in ("none", "crc32"):
            raise ConfigError(f"must be one of none, crc32, not {checksum!r}",
                              key_path="checksum", service=self._name)
        self._checksums = checksum == "crc32"
        self._layout = Layout(os.path.abspath(os.path.expanduser(str(path))),
                              partial(identity, give=False))
        # What a process killed while writing left behind goes now (docs/providers/file.md).
        self._layout.remove_abandoned_temps()
        self._layout.remove_unused_locks()
        self._root = self._layout.root
        self._confined = Confinement(self._layout)
        self._writer = Writer(self._layout, self._confined)
        self._records = self._writer.records

    # ---- misc ----

    def get_service_name(self) -> str:
        return self._name

    def capabilities(self) -> Capabilities:
        return DESCRIPTION.capabilities

    @property
    def root(self) -> str:
        """The root folder (absolute)."""
        return self._root


    # ---- writing ----

    def create_blob(
        self,
        container: str,
        blob_path: str,
        text: Text,
        fail_if_exists: bool = False,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Replace the blob atomically, the new version having ``metadata`` (none if None).
        Raises :class:`ContainerNotFound`, and :class:`BlobAlreadyExists` with
        ``fail_if_exists``."""
        data = to_bytes(text)
        if not self._checksums and content_type is None:
            self._writer.write(container, blob_path, lambda fd: write_all(fd, data),
                               exclusive=fail_if_exists, metadata=metadata)
            return

        def fill(fd: int) -> None:
            write_all(fd, data)
            record_content_type(fd, content_type)
            if self._checksums:
                crc = checksums.Crc32()
                crc.update(data)
                checksums.record(fd, crc)

        self._writer.write(container, blob_path, fill, exclusive=fail_if_exists,
                           metadata=metadata)

    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Copy with the kernel's copy path into a new file, then give it the blob's name
        (with ``metadata``, none if None). Raises :class:`ContainerNotFound`;
        ``FileNotFoundError`` for a missing source."""
        source = os.open(source_fn, os.O_RDONLY | O_CLOEXEC)
        try:
            total = os.fstat(source).st_size
            if total >= LARGE:
                # Fail before copying much; a small write finds a missing container anyway
                # when it installs the file (open_parent), so it saves the stat.
                self._layout.require_container(container)

            def fill(fd: int) -> None:
                copy_whole(source, fd, total, progress_callback)
                record_content_type(fd, content_type)
                if self._checksums:  # of the source: the copy went through the kernel
                    crc = checksums.Crc32()
                    crc.update_from(source, total)
                    checksums.record(fd, crc)

            self._writer.write(container, blob_path, fill, large=total >= LARGE,
                               metadata=metadata)
        finally:
            os.close(source)

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Stream into a new file (bounded memory), then give it the blob's name (with
        ``metadata``, none if None). Raises :class:`ContainerNotFound`."""
        self._layout.require_container(container)

        def fill(fd: int) -> None:
            done = 0
            crc = checksums.Crc32() if self._checksums else None
            if progress_callback is not None and length is not None:
                progress_callback(0, length)
            while chunk := stream.read(_STREAM_CHUNK):
                write_all(fd, chunk)
                if crc is not None:
                    crc.update(chunk)
                done += len(chunk)
                if progress_callback is not None:
                    progress_callback(done, max(done, length or 0))
            record_content_type(fd, content_type)
            if crc is not None:
                checksums.record(fd, crc)

        self._writer.write(container, blob_path, fill, large=(length or 0) >= LARGE,
                           metadata=metadata)

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        """A writer into a new unnamed file in the blob's folder (where the file system has
        no ``O_TMPFILE``: a claimed file in ``.xtstore/tmp``), each part written at its
        offset, given the blob's name whole on close by the same write path as every
        upload, with ``metadata`` (none if None). Raises :class:`ContainerNotFound` at the
        call, and :class:`BlobAlreadyExists` where a blob holds the name of a folder above
        it."""
        self._layout.require_container(container)
        version = self._writer.start(container, blob_path)
        return BlobWriter(_NewFileSink(self._writer, version, container, blob_path,
                                       content_type, metadata, self._checksums))

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Append under the blob's lock: in place when the file has no other link, else (and
        always with ``append_with_rewrite``) by copying into a new file that replaces it. Keeps
        the blob's metadata. Raises :class:`ContainerNotFound`."""
        data = to_bytes(text)
        layout = self._layout
        lock_path = layout.acquire(container, blob_path)
        try:
            if append_with_rewrite or not self._writer.append_in_place(container, blob_path,
                                                                       data, lock_path):
                self._writer.append_by_rewrite(container, blob_path, data)
        finally:
            # Kept for the next append, which then spares creating and unlinking a file.
            layout.release(lock_path, keep=True)

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Hard-link the source's file to the destination name (O(1)), overwriting it, and
        copy the metadata. Raises :class:`BlobNotFound` / :class:`ContainerNotFound`."""
        self._layout.require_container(dest_container)
        self._writer.copy(source_container, source_blob_path, dest_container, dest_blob_path)

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """Hard-link the blob's current file under a new snapshot id (O(1)). Raises
        :class:`BlobNotFound`."""
        snapshot_id = self._writer.snapshot(container, blob_path)
        return self._records.snapshot_info(container, blob_path, snapshot_id)

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """Oldest first. Raises :class:`ContainerNotFound`."""
        return self._records.snapshots(container, blob_path)

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """Delete the blob with its snapshots and metadata, or only ``snapshot``. Raises
        :class:`BlobNotFound`."""
        if snapshot is None:
            self._writer.delete(container, blob_path)
        else:
            self._writer.delete_snapshot(container, blob_path, snapshot)

    # ---- metadata ----

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Replace the blob's metadata. Raises :class:`BlobNotFound`."""
        self._records.set_blob_metadata(container, blob_path, metadata)

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        """Raises :class:`BlobNotFound`."""
        return self._records.blob_state(container, blob_path)[1]

    def get_container_metadata(self, container: str) -> dict[str, str]:
        """Raises :class:`ContainerNotFound`."""
        return self._records.container_metadata(container)

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Raises :class:`ContainerNotFound`."""
        self._records.set_container_metadata(container, metadata)

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        return self._layout.has_container(container)

    def create_container(self, container: str) -> bool:
        """Raises :class:`ContainerAlreadyExists`."""
        self._layout.create_container(container)
        return True

    def list_containers(self) -> list[str]:
        return self._layout.list_containers()

    def delete_container(self, container: str) -> bool:
        """Remove the container with its blobs, snapshots, metadata and locks. Raises
        :class:`ContainerNotFound`."""
        self._layout.delete_container(container)
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        """Raises :class:`ContainerNotFound`."""
        try:
            st = os.stat(self._layout.container_dir(container))
        except FileNotFoundError:
            raise ContainerNotFound("container not found", container=container) from None
        metadata = self._records.container_metadata(container)
        return ContainerInfo(container, datetime_from_ns(st.st_mtime_ns), metadata)

    # ---- reading ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        """False also for a missing container. Raises :class:`AccessDenied` for a symlink
        leading out of the container."""
        return self._confined.is_blob(container, blob_path)

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """Raises :class:`BlobNotFound` (also for an unknown snapshot); with ``checksum``,
        :class:`IntegrityError` if the content does not match its recorded CRC-32."""
        fd = self._confined.open(container, blob_path, snapshot)
        try:
            data = read_all(fd)
            if self._checksums:
                check_bytes(data, checksums.expected_of(fd, os.fstat(fd).st_size))
            return data
        except IsADirectoryError:
            raise self._layout.not_found(container, blob_path) from None
        finally:
            os.close(fd)

    def get_blob_text(self, container: str, blob_path: str) -> str:
        """Raises :class:`BlobNotFound`; ``UnicodeDecodeError`` if it is not UTF-8."""
        return self.get_blob_bytes(container, blob_path).decode("utf-8")

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """The blob's file opened for reading (a later write replaces the file, so the
        stream keeps reading the version it opened). Raises :class:`BlobNotFound`.

        With ``checksum``, a blob with a current CRC-32 record is read through a
        :class:`~xtstore.providers.file.checksums.CheckedFile`: reading it in order from the
        start to its end checks it, and the read that reaches the end raises
        :class:`IntegrityError` on a mismatch; a seek elsewhere turns the check off (a seek
        back to the start begins it again). Otherwise the stream is the plain file."""
        fd, st = self._confined.open_blob(container, blob_path, snapshot)
        if self._checksums and st.st_size:
            try:
                expected = checksums.expected_of(fd, st.st_size)
            except BaseException:
                os.close(fd)
                raise
            if expected.checks_content:
                return io.BufferedReader(checksums.CheckedFile(fd, expected),
                                         max(io.DEFAULT_BUFFER_SIZE, st.st_blksize))
        return os.fdopen(fd, "rb")

    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        """``content[start:end]`` of the blob or snapshot, by one ``pread`` of its file.
        Raises :class:`BlobNotFound`.

        With ``checksum``, only the length is checked (:class:`IntegrityError` if the file
        holds fewer bytes than its size said when opened): a CRC-32 of the whole blob says
        nothing about a part of it."""
        fd, st = self._confined.open_blob(container, blob_path, snapshot)
        try:
            wanted = max(0, min(st.st_size if end is None else end, st.st_size) - start)
            data = _pread_exactly(fd, wanted, start)
        finally:
            os.close(fd)
        if self._checksums:
            Expected(wanted).verify(len(data), None)
        return data

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        properties: bool = True,
    ) -> BlobProperties | None:
        """Copy with the kernel's copy path into a new file next to ``dest_fn``, which takes
        its name when complete (the one local writer); with ``checksum``, only if it matches
        its recorded CRC-32 (:class:`IntegrityError`, nothing left). Returns the properties
        of the file copied (its stat, and the metadata and content type its record and
        attributes give that very file, as ``get_blob_properties`` pairs them); None for a
        snapshot, whose metadata ``get_blob_properties`` does not define, and with
        ``properties=False``, which reads neither the record nor those attributes (a
        ``checksum``'s CRC-32 is still read and checked; docs/contract.md, "get_blob_to_path
        returns"). Raises :class:`BlobNotFound`."""
        fd, st = self._confined.open_blob(container, blob_path, snapshot)
        large = st.st_size >= LARGE
        try:
            described = None
            if properties and snapshot is None:
                # Read before the content, as a caller's get_blob_properties would be. The
                # record is replaced whole, so read without the blob's lock it gives one
                # version's entries, and the open file's identity picks this file's own.
                metadata = self._records.metadata_of_open(container, blob_path, fd, st)
                described = properties_of(st, metadata, content_type_of(fd))
            if not self._checksums:
                with atomic_local_file(dest_fn, large=large) as dest:
                    copy_whole(fd, dest, st.st_size, progress_callback)
            else:
                with verified_local_file(dest_fn, large=large) as local:
                    local.expect(checksums.expected_of(fd, st.st_size))
                    copy_whole(fd, local.file.fileno(), st.st_size, progress_callback)
            return described
        finally:
            os.close(fd)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """Raises :class:`BlobNotFound`."""
        st, metadata, content_type = self._records.described(container, blob_path)
        return BlobInfo(name=blob_path, properties=properties_of(st, metadata, content_type))

    # ---- listing ----

    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        """Sorted, without folders that hold no blob. Raises :class:`ContainerNotFound`."""
        if return_names:
            return list(self.iter_blob_names(container, path, recursive))
        self._layout.require_container(container)
        top = self._layout.container_dir(container)
        build = self._entry_builder(container)
        if recursive:
            return collect_infos(top, path, build)
        return list(children(top, path, build))

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """The names alone: no ``stat`` of a blob file, no value objects. Raises
        :class:`ContainerNotFound` when called."""
        self._layout.require_container(container)
        top = self._layout.container_dir(container)
        return iter(collect_names(top, path) if recursive else child_names(top, path))

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """Walks lazily. Raises :class:`ContainerNotFound` when called."""
        self._layout.require_container(container)
        top = self._layout.container_dir(container)
        build = self._entry_builder(container)
        if not recursive:
            return children(top, path, build)
        entries = ((name, entry.stat(follow_symlinks=False))
                   for name, entry in walk(top, path, with_stat=True))
        return (info for info in (build(name, st) for name, st in entries) if info is not None)

    def _entry_builder(self, container: str) -> Build:
        """``build(name, stat)`` of a listed blob with its metadata
        (``capabilities().listing_metadata``): its record read as ``get_blob_properties``
        reads it, pairing one version's stat with that version's metadata; None for a blob
        deleted meanwhile."""
        read = self._records.listing_reader(container)

        def build(name: str, st: os.stat_result) -> BlobInfo | None:
            try:
                now, metadata = read(name, st)
            except BlobNotFound:
                return None
            return listing_entry(name, now, metadata)

        return build


class _NewFileSink:
    """A writer's sink: each part written at its own offset into the new version's file (so
    a repeated step writes the same bytes to the same place), which the write path names
    whole on commit; dropped (an unnamed file vanishes) on abort."""

    part_size = _STREAM_CHUNK

    def __init__(self, writer: Writer, version: NewVersion, container: str, blob_path: str,
                 content_type: str | None, metadata: Mapping[str, str] | None,
                 with_checksum: bool) -> None:
        self._writer = writer
        self._version: NewVersion | None = version
        self._where = (container, blob_path)
        self._content_type = content_type
        self._metadata = None if metadata is None else dict(metadata)
        self._crc = checksums.Crc32() if with_checksum else None
        self._hashed = 0
        """Parts in ``_crc``: a repeated part is not hashed again."""

    def _fd(self) -> int:
        if self._version is None:
            # A failed commit closed the file: what was written is gone, so a repeat of the
            # commit cannot make it the blob.
            raise OSError(errno.EIO, "the new version was dropped by a failed commit")
        return self._version.fd

    def write_part(self, index: int, data: bytes) -> None:
        _pwrite_all(self._fd(), data, index * self.part_size)
        if self._crc is not None and index == self._hashed:
            self._crc.update(data)
            self._hashed += 1

    def commit(self, parts: int, tail: bytes) -> None:
        fd = self._fd()
        length = parts * self.part_size + len(tail)
        _pwrite_all(fd, tail, parts * self.part_size)
        os.ftruncate(fd, length)
        record_content_type(fd, self._content_type)
        if self._crc is not None:
            crc, self._crc = self._crc, None  # the tail once, even if the commit repeats
            crc.update(tail)
            checksums.record(fd, crc)
        version, self._version = self._version, None
        assert version is not None
        self._writer.finish(version, *self._where, large=length >= LARGE,
                            metadata=self._metadata)

    def abort(self) -> None:
        version, self._version = self._version, None
        if version is not None:
            version.discard()


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def _pread_exactly(fd: int, count: int, offset: int) -> bytes:
    """``count`` bytes from ``offset``: one ``pread`` (a regular file reads whole); more only
    if it returns short, until the file's end."""
    data = os.pread(fd, count, offset) if count else b""
    if len(data) == count or not data:
        return data
    chunks = [data]
    done = len(data)
    while done < count and (chunk := os.pread(fd, count - done, offset + done)):
        chunks.append(chunk)
        done += len(chunk)
    return b"".join(chunks)


FileStore = provider_store_class("FileStore", FileProvider, __name__)
