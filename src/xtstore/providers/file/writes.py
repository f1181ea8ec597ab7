"""Every write of ``store-file``: one write path for a new version of a blob, and the writes
built on it (append, copy, snapshot, delete, the rewrite of an internal record).

The write path builds the new content in a new file, stamps it (see :func:`_stamp`) and only
then gives it the blob's name, so a reader never sees a partial blob and every write gets a
new inode. It and all of its fallbacks live in :class:`Writer`:

1. :meth:`Writer.write` first makes an unnamed ``O_TMPFILE`` file in the blob's own folder
   and, once complete, links it straight to the blob's name. A name that is taken (and may
   be replaced), or a link that fails otherwise, makes it link the file to a name in
   ``.xtstore/tmp`` and rename (large files: swap) that over the blob. The unnamed file
   and the link are made again in the folder made again when a concurrent delete, pruning
   the folders it empties, removes it meanwhile
   (:class:`~xtstore.localfiles.oscalls.LiveFolder`).
2. Where the blob's folder cannot be opened, or its file system (or the system) makes no
   unnamed files, :meth:`Writer.new_version` builds the content in ``.xtstore/tmp``: an
   unnamed file there linked to a temporary name when complete, else a named file there.
3. :meth:`Writer.install` then moves that file to the blob's name: a rename, a swap for a
   large file over an existing blob, or for a create-only write a hard link (``link`` fails
   if the name exists, so of concurrent create-only writes exactly one wins). It retries
   when a concurrent delete prunes the blob's folder meanwhile (the same way), and reports
   every failure as the contract says (a taken name, a blob/folder clash, a name too long).

Every name a write gives a file (or folder) in ``.xtstore/tmp`` is claimed by the writer
(:func:`~xtstore.providers.file.layout.claim`) for as long as the name exists, so that the
next open of the store can tell a killed writer's leftovers, which it removes
(:meth:`~xtstore.providers.file.layout.Layout.remove_abandoned_temps`), from a live one's.
Metadata given to a write is kept with the new file (an extended attribute) before the file
takes the blob's name. Metadata records, for metadata set later and where the file system
keeps no attributes, are bound to the file they describe (:mod:`~xtstore.providers.file
.records`): before a new file takes the blob's name its record keeps only the entry of the
file there now (plus the new file's, when the write carries metadata over), and a record
that gives the new file nothing is removed once the file has the name, so a kill at any
point leaves each version with its own metadata. A delete removes the snapshots, then the
blob, then its record.

Copies and snapshots are hard links (O(1)), which is safe because no write changes an inode
in place, with one exception: an append writes in place (``O_APPEND``) under the blob's
``flock`` lock when the file has no other link (noting in the lock file first what cuts
a killed append back: :meth:`~xtstore.providers.file.layout.Layout.note_append`); a shared
file is copied and replaced instead. Copies and snapshots take the same lock, so they
never race with an in-place append.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from functools import partial

from xtstore.errors import BlobAlreadyExists, BlobNotFound, InvalidName, StoreError
from xtstore.localfiles.oscalls import (
    O_CLOEXEC,
    O_PATH,
    LiveFolder,
    copy_whole,
    exchange_regular_file,
    link_open_file,
    make_folders,
    open_unnamed,
    open_unnamed_in,
    unlink_quietly,
    unnamed_files,
    write_all,
)
from xtstore.providers._shared import new_snapshot_id
from xtstore.providers.file.confinement import Confinement
from xtstore.providers.file.layout import Layout, claim, name_clash
from xtstore.providers.file.records import (
    Incoming,
    Records,
    attribute_metadata,
    content_type_of,
    identity,
    record_content_type,
)
from xtstore.providers.file.walk import etag_of

__all__ = ["LARGE", "Fill", "NewVersion", "Writer"]

LARGE = 32 * 1024 * 1024
"""Uploads from this size replace an existing blob by swap + unlink (see Writer.install)."""

Fill = Callable[[int], None]
"""Writes a new version's whole content into the file descriptor it is given."""


class Writer:
    """The writes of one store: see the module's documentation for the write path."""

    __slots__ = ("_confined", "_layout", "records")

    def __init__(self, layout: Layout, confined: Confinement) -> None:
        self._layout = layout
        self._confined = confined
        self.records = Records(layout, confined, self.new_version)
        """The store's metadata and snapshot records, written through :meth:`new_version`."""

    # ---- the write path ----

    def write(self, container: str, blob_path: str, fill: Fill, *,
              exclusive: bool = False, large: bool = False,
              metadata: Mapping[str, str] | None = None) -> None:
        """Write a whole new version of the blob (a new inode) with ``metadata`` (none if
        None or empty): a new file from :meth:`start`, filled by ``fill(fd)``, given the name
        by :meth:`finish`."""
        version = self.start(container, blob_path)
        try:
            fill(version.fd)
        except BaseException:
            version.discard()
            raise
        self.finish(version, container, blob_path, exclusive=exclusive, large=large,
                    metadata=metadata)

    def start(self, container: str, blob_path: str) -> NewVersion:
        """A new empty file for the blob's next version, invisible until :meth:`finish`:
        unnamed in the blob's own folder (step 1 of the write path), else in
        ``.xtstore/tmp`` (step 2). The caller fills ``version.fd``, then finishes or discards
        it. Raises :class:`ContainerNotFound`, and :class:`BlobAlreadyExists` where the
        blob's folder cannot be made because a blob holds its name.

        Why the blob's own folder: the file system places a new inode near its folder. Made
        in ``.xtstore/tmp``, every blob's inode lands in that one folder's area, and on ext4
        without a journal each creation there skips, one by one, the inodes freed in the
        last minute (after a large delete: ~0.3-0.8 ms per file, where ``cp`` into a new
        folder paid ~25 us). An unnamed file also leaves nothing behind if the process dies
        while it is filled, which matters most for large uploads."""
        if unnamed_files[0]:
            parent_path = self._layout.blob_file(container, blob_path).rpartition("/")[0]
            try:
                parent = self._confined.parent_of(container, blob_path, parent_path)
            except StoreError:
                raise  # no container, a blob in the folder's way, a symlink out of it
            except OSError:
                parent = None  # e.g. a folder name too long: install reports it
            if parent is not None:
                try:
                    fd = parent.run(open_unnamed)
                except BaseException:
                    parent.close()
                    raise
                if fd is not None:
                    return NewVersion(fd, parent=parent)
                parent.close()
        return self._version_in_tmp()

    def finish(self, version: NewVersion, container: str, blob_path: str, *,
               exclusive: bool = False, large: bool = False,
               metadata: Mapping[str, str] | None = None) -> None:
        """Give the filled ``version`` the blob's name (closing it, also on failure), with
        ``metadata`` (none if None or empty). A ``large`` version replaces an existing blob
        by a swap (see :meth:`install`).

        ``metadata`` is kept with the new file (:meth:`Records.give_metadata`) before it
        takes the name. The blob's metadata record, if it has one, is seen to once the new
        version is complete, before it takes the name (:meth:`Records.prepare`: the old
        version keeps its metadata) and after (:meth:`Records.settle`: the record, which
        gives the new version nothing, goes). Where the file cannot keep its metadata, the
        record is given the new version's entry instead, and the write holds the blob's lock
        from the entry's addition until it has the name: the next write's
        :meth:`Records.prepare` keeps only the entry of the file at the name, and would drop
        one added for a file not there yet."""
        try:
            stamped = bool(metadata)
            if stamped:
                _stamp(version.fd)  # first: the attribute names the version by its etag
            if metadata and not self.records.give_metadata(container, version.fd, metadata):
                with self._layout.blob_lock(container, blob_path):
                    incoming = (identity(version.fd, os.fstat(version.fd), give=True),
                                dict(metadata))
                    bound = self._name_version(version, container, blob_path, exclusive,
                                               large, incoming, stamped=stamped)
            else:
                bound = self._name_version(version, container, blob_path, exclusive, large,
                                           None, stamped=stamped)
        finally:
            version.close()
        if bound:
            self.records.settle(container, blob_path)

    def _name_version(self, version: NewVersion, container: str, blob_path: str,
                      exclusive: bool, large: bool,
                      incoming: Incoming | None, *, stamped: bool = False) -> bool:
        """Give ``version`` the name, its record adding ``incoming`` (its identity and
        entry; the caller then holds the blob's lock), stamping it first unless it is
        ``stamped``: whether the record needs :meth:`Records.settle` (see :meth:`finish`)."""
        if version.parent is not None:
            return self._link_beside(version.fd, version.parent, container, blob_path,
                                     exclusive, large, incoming, stamped=stamped)
        temp = self._name_in_tmp(version, stamped=stamped)
        bound = self.records.prepare(container, blob_path, incoming,
                                     locked=incoming is not None)
        self.install(temp, container, blob_path, exclusive=exclusive, large=large)
        return bound

    def _link_beside(self, fd: int, parent: LiveFolder, container: str, blob_path: str,
                     exclusive: bool, large: bool, incoming: Incoming | None, *,
                     stamped: bool) -> bool:
        """Link the filled unnamed file ``fd`` in the blob's folder to the blob's name (once
        stamped), or else through a temporary name; whether the blob's record needs
        :meth:`Records.settle` (see :meth:`finish`). Linking straight to a new name saves
        the rename."""
        name = self._layout.blob_file(container, blob_path).rpartition("/")[2]
        if not stamped:
            _stamp(fd)
        bound = self.records.prepare(container, blob_path, incoming,  # see finish
                                     locked=incoming is not None)
        try:
            parent.run(partial(link_open_file, fd, name))
            return bound
        except FileExistsError:
            if exclusive:
                raise self.taken(container, blob_path) from None
        except OSError:
            pass  # e.g. a folder there: install below retries and reports it
        temp = self._layout.temp_path()
        claim(fd)  # held until the temporary name is gone (fd is closed last)
        try:
            link_open_file(fd, temp, parent.fd)  # temp is absolute
        except FileNotFoundError:
            make_folders(self._layout.tmp)
            link_open_file(fd, temp, parent.fd)
        if not exclusive and parent.fd >= 0:  # (a failed reopen leaves none)
            try:
                if large and exchange_regular_file(temp, parent.fd, name):
                    unlink_quietly(temp)  # now the old version
                else:
                    os.replace(temp, name, dst_dir_fd=parent.fd)
                return bound
            except OSError:
                pass  # e.g. the folder was pruned meanwhile: install retries, reports
        parent.close()
        self.install(temp, container, blob_path, exclusive=exclusive, large=large)
        return bound

    def new_version(self, fill: Fill, *, stamped: bool = False) -> tuple[str, int]:
        """Step 2 of the write path: a finished file in ``.xtstore/tmp`` whose content
        ``fill(fd)`` wrote, stamped (by ``fill`` itself if ``stamped``), and an fd that
        claims it (see
        :func:`~xtstore.providers.file.layout.claim`): the caller closes it once the
        temporary name is gone. Where the file system allows, the file is unnamed while
        ``fill`` runs and gets its temporary name only when complete, so a process killed
        meanwhile leaves nothing; a named one left by a killed process is removed by the
        next open of the store."""
        version = self._version_in_tmp()
        try:
            fill(version.fd)
            temp = self._name_in_tmp(version, stamped=stamped)
        except BaseException:
            version.discard()
            raise
        return temp, version.fd

    def _version_in_tmp(self) -> NewVersion:
        """A new empty file in ``.xtstore/tmp``: unnamed where the file system allows, else
        named and claimed."""
        if unnamed_files[0]:
            opened = open_unnamed_in(self._layout.tmp)
            if opened is not None:
                folder, fd = opened
                return NewVersion(fd, folder=folder)
        fd, temp = self._named_temp()
        return NewVersion(fd, temp=temp)

    def _name_in_tmp(self, version: NewVersion, *, stamped: bool = False) -> str:
        """Stamp the filled ``version`` (in ``.xtstore/tmp``) unless it is ``stamped``, and
        return its temporary name, given now (claimed first) if it is unnamed."""
        if not stamped:
            _stamp(version.fd)
        if version.temp is not None:
            return version.temp
        assert version.folder is not None
        temp = self._layout.temp_path()
        claim(version.fd)
        link_open_file(version.fd, temp, version.folder)
        os.close(version.folder)
        version.folder = None
        version.temp = temp
        return temp

    def _named_temp(self) -> tuple[int, str]:
        """A new named file in ``.xtstore/tmp``, claimed (read-write: a lock emulated by NFS
        needs read access)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | O_CLOEXEC
        while True:
            temp = self._layout.temp_path()
            try:
                fd = os.open(temp, flags, 0o666)
            except FileNotFoundError:
                os.makedirs(self._layout.tmp, exist_ok=True)
                fd = os.open(temp, flags, 0o666)
            try:
                claim(fd)
                if os.fstat(fd).st_nlink:
                    return fd, temp
            except BaseException:
                os.close(fd)
                raise
            # A cleaner took it in the moment before the claim (and removed it): a new one.
            os.close(fd)

    def install(self, temp: str, container: str, blob_path: str, *, exclusive: bool,
                large: bool = False) -> None:
        """Step 3 of the write path: move the finished file ``temp`` to the blob's name:
        rename (replace), or with ``exclusive`` hard-link then unlink (fails if the name
        exists). A ``large`` file replaces an existing blob by an atomic swap, then the old
        file is unlinked. ``temp`` is gone afterwards, also on failure."""
        parent_path, _, name = self._layout.blob_file(container, blob_path).rpartition("/")
        renamed = False

        def move(parent: int) -> None:
            nonlocal renamed
            if exclusive:
                os.link(temp, name, dst_dir_fd=parent)
            elif not (large and exchange_regular_file(temp, parent, name)):
                os.replace(temp, name, dst_dir_fd=parent)
                renamed = True

        try:
            # A delete may prune the empty parent between its opening and the move: the
            # folder is made again and the move repeated.
            with self._confined.parent_of(container, blob_path, parent_path) as folder:
                folder.run(move)
        except FileExistsError:
            if exclusive:
                raise self.taken(container, blob_path) from None
            raise
        except (IsADirectoryError, NotADirectoryError):
            raise name_clash(container, blob_path) from None
        except OSError as error:
            if error.errno == errno.ENOTEMPTY:
                raise name_clash(container, blob_path) from None
            if error.errno == errno.ENAMETOOLONG:
                raise InvalidName(
                    "a segment of this blob path is longer than the file system "
                    "allows for one name (usually 255 bytes)",
                    container=container, blob=blob_path,
                ) from None
            raise
        finally:
            if not renamed:
                unlink_quietly(temp)

    def taken(self, container: str, blob_path: str) -> BlobAlreadyExists:
        """The error for a create-only write that found its name taken: by a blob, or by a
        folder (which a file store cannot hold next to a blob of the same name)."""
        if self._confined.clashes(container, blob_path):
            return name_clash(container, blob_path)
        return BlobAlreadyExists("blob already exists", container=container, blob=blob_path)

    # ---- appends (the caller holds the blob's lock) ----

    def append_in_place(self, container: str, blob_path: str, data: bytes,
                        lock_path: str) -> bool:
        """Append ``data`` to the blob's file itself (``O_APPEND``), under the blob's lock
        (``lock_path``, in which it notes what undoes a killed append). False, with nothing
        done, if there is no blob or its file has another link (a copy or a snapshot)."""
        try:
            fd, st = self._confined.open_blob(container, blob_path,
                                              flags=os.O_WRONLY | os.O_APPEND)
        except BlobNotFound:
            return False
        except IsADirectoryError:
            raise name_clash(container, blob_path) from None
        try:
            if st.st_nlink != 1:
                return False
            self._layout.note_append(lock_path, blob_path, st.st_size,
                                     identity(fd, st, give=True))
            try:
                write_all(fd, data)
            except BaseException:
                os.ftruncate(fd, st.st_size)  # a full disk took part of it: none or all
                raise
            return True
        finally:
            os.close(fd)

    def append_by_rewrite(self, container: str, blob_path: str, data: bytes) -> None:
        """Replace the blob by a new version holding its content plus ``data``, and the old
        version's metadata: kept with the new file, or else named by the record before the
        file takes the name (the old version's entry is left for the next write to drop)."""
        # The lock keeps appenders out; the etag check catches writers that take no lock
        # (create_blob) and starts over, so no conflict ever reaches the caller.
        records = self.records
        while True:
            temp, held, before, metadata = self._appended_copy(container, blob_path, data)
            try:
                if before is None:
                    bound = records.prepare(container, blob_path, locked=True)
                    try:
                        self.install(temp, container, blob_path, exclusive=True)
                    except BlobAlreadyExists:
                        if self._confined.clashes(container, blob_path):
                            raise  # a name clash: a retry would meet it for ever
                        continue
                else:
                    try:
                        now: str | None = etag_of(self._confined.stat_blob(container,
                                                                           blob_path))
                    except BlobNotFound:
                        now = None
                    if now != etag_of(before):
                        unlink_quietly(temp)
                        continue
                    incoming: Incoming | None = (
                        identity(held, os.fstat(held), give=True), metadata
                    ) if metadata else None
                    bound = records.prepare(container, blob_path, incoming, locked=True)
                    self.install(temp, container, blob_path, exclusive=False)
            finally:
                os.close(held)
            if bound:  # only when it has no metadata to carry over
                records.settle(container, blob_path, locked=True)
            return

    def _appended_copy(self, container: str, blob_path: str, data: bytes
                       ) -> tuple[str, int, os.stat_result | None, dict[str, str]]:
        """A new version holding the blob's content plus ``data``, the fd claiming it (see
        :meth:`new_version`), the stat of the version it copied (None if the blob did not
        exist) and that version's metadata where the new version could not keep it (else
        empty). The caller holds the blob's lock."""
        try:
            source, st = self._confined.open_blob(container, blob_path)
        except BlobNotFound:
            return *self.new_version(lambda fd: write_all(fd, data)), None, {}
        try:
            metadata = self.records.metadata_of_open(container, blob_path, source, st)

            def fill(fd: int) -> None:
                nonlocal metadata
                # A reflink where the file system has them: O(1), and the snapshot or copy
                # that shared the old file keeps its blocks (docs/providers/file.md).
                copy_whole(source, fd, st.st_size, None)
                write_all(fd, data)
                record_content_type(fd, content_type_of(source))
                _stamp(fd)  # before the attribute, which names the version by its etag
                if metadata and self.records.give_metadata(container, fd, metadata):
                    metadata = {}

            return *self.new_version(fill, stamped=True), st, metadata
        finally:
            os.close(source)

    # ---- hard links, and deletes ----

    def copy(self, source_container: str, source_blob_path: str, dest_container: str,
             dest_blob_path: str) -> None:
        """Hard-link the source blob's file to the destination's name, replacing it, with the
        source's metadata: the destination's record names the source's file before the link
        takes the name, so a process killed at any point leaves the destination as it was or
        as the copy makes it. Under the locks of both blobs (taken in a fixed order, so
        opposite copies never wait on each other)."""
        records = self.records
        with self._layout.blob_locks((source_container, source_blob_path),
                                     (dest_container, dest_blob_path)):
            # Opened to read, not O_PATH: the temporary link is claimed through this fd.
            fd, st = self._confined.open_blob(source_container, source_blob_path)
            try:
                metadata = records.metadata_of_open(source_container, source_blob_path, fd, st)
                # The destination shares the file, and with it the metadata it was written
                # with: its own entry (empty for metadata cleared) wins over that.
                entry = metadata if metadata or attribute_metadata(fd) is not None else None
                incoming = identity(fd, st, give=entry is not None), entry
                temp = self._layout.temp_path()
                claim(fd)
                self._confined.link_blob(fd, source_container, source_blob_path, temp)
                bound = records.prepare(dest_container, dest_blob_path, incoming, locked=True)
                self.install(temp, dest_container, dest_blob_path, exclusive=False)
                # Renaming a link onto another link of the same file leaves both names.
                unlink_quietly(temp)
            finally:
                os.close(fd)
            if bound:
                records.settle(dest_container, dest_blob_path, locked=True)

    def snapshot(self, container: str, blob_path: str) -> str:
        """Hard-link the blob's current file under a new snapshot id, which is returned.
        Raises :class:`BlobNotFound`."""
        folder = self._layout.snapshot_folder(container, blob_path)
        with self._layout.blob_lock(container, blob_path):
            fd, _ = self._confined.open_blob(container, blob_path, flags=O_PATH)
            try:
                while True:
                    snapshot_id = new_snapshot_id()
                    try:
                        self._confined.link_blob(fd, container, blob_path,
                                                 os.path.join(folder, snapshot_id),
                                                 new_folder=True)
                        return snapshot_id
                    except FileExistsError:
                        continue
            finally:
                os.close(fd)

    def delete(self, container: str, blob_path: str) -> None:
        """Delete the blob with its snapshots and metadata. Raises :class:`BlobNotFound`.

        The snapshots go first (their folder renamed away at once), then the blob, then its
        record: a process killed part way leaves the blob without its snapshots, which the
        next delete finishes, or a record of a file no longer there, which no reader takes
        and the next write of the name removes, but never a snapshot outliving its blob
        (which a blob created again under that name would show)."""
        path = self._layout.blob_file(container, blob_path)
        doomed: tuple[str, int] | None = None
        try:
            with self._layout.blob_lock(container, blob_path) as lock_path:
                try:
                    self._confined.stat_blob(container, blob_path)  # refuses a symlink out
                    doomed = self._move_away(self._layout.snapshot_folder(container,
                                                                          blob_path))
                    try:
                        os.unlink(path)
                    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                        raise self._layout.not_found(container, blob_path) from None
                    unlink_quietly(self._layout.meta_file(container, blob_path))
                finally:
                    os.unlink(lock_path)
        finally:
            if doomed is not None:
                import shutil  # here only: bz2 and lzma come with it, some 2 ms of start-up

                shutil.rmtree(doomed[0], ignore_errors=True)
                os.close(doomed[1])
        self._layout.prune_folders(container, os.path.dirname(path))

    def _move_away(self, folder: str) -> tuple[str, int] | None:
        """Rename ``folder`` to a new name in ``.xtstore/tmp``, claimed (see
        :func:`~xtstore.providers.file.layout.claim`): its path and the claiming fd. None if
        there is no such folder."""
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            claim(fd)
            temp = self._layout.temp_path()
            try:
                os.rename(folder, temp)
            except FileNotFoundError:
                os.makedirs(self._layout.tmp, exist_ok=True)
                os.rename(folder, temp)
        except BaseException:
            os.close(fd)
            raise
        return temp, fd

    def delete_snapshot(self, container: str, blob_path: str, snapshot: str) -> None:
        """Raises :class:`BlobNotFound`."""
        try:
            os.unlink(self._layout.snapshot_file(container, blob_path, snapshot))
        except FileNotFoundError:
            raise self._layout.not_found(container, blob_path,
                                         f"snapshot {snapshot!r} not found") from None
        with suppress(OSError):
            os.rmdir(self._layout.snapshot_folder(container, blob_path))


class NewVersion:
    """A blob's next version while it is filled through ``fd`` (open for reading and
    writing), seen by no reader: an unnamed file in the blob's folder (``parent`` open), an
    unnamed file in ``.xtstore/tmp`` (``folder`` open), or a named one there (``temp``,
    claimed through ``fd``). Made by :meth:`Writer.start`; :meth:`Writer.finish` names it."""

    __slots__ = ("fd", "folder", "parent", "temp")

    def __init__(self, fd: int, *, parent: LiveFolder | None = None, folder: int | None = None,
                 temp: str | None = None) -> None:
        self.fd = fd
        self.parent = parent
        self.folder = folder
        self.temp = temp

    def close(self) -> None:
        """Close what is open (a named temporary file stays: its name is gone or going)."""
        os.close(self.fd)
        if self.parent is not None:
            self.parent.close()
        if self.folder is not None:
            os.close(self.folder)
            self.folder = None

    def discard(self) -> None:
        """Drop the version: an unnamed file vanishes as it is closed, a named one is
        unlinked first."""
        if self.temp is not None:
            unlink_quietly(self.temp)
        self.close()


def _stamp(fd: int) -> None:
    """Give a new version a nanosecond mtime, so that its etag differs from every earlier
    version's: the file system's own clock is coarse and inode numbers are reused at once."""
    now = time.time_ns()
    os.utime(fd, ns=(now, now))
