"""``store-file``: containers and blobs as folders and files under a local root (the default).

Layout (``root`` is the service's ``path``)::

    <root>/<container>/<blob path>                 the blobs, nothing else
    <root>/.xtstore/tmp/                           temporary files, renamed into place
    <root>/.xtstore/snapshots/<container>/<key>/<snapshot id>
    <root>/.xtstore/meta/<container>/<key>.json    blob metadata; container.json for the container
    <root>/.xtstore/locks/<container>/<key>        per-blob append locks

``<key>`` is a hash of the blob path. Container names never start with ``.``, so the
``.xtstore`` folder can never collide with a container and nothing in it is ever listed.

Rules that make the guarantees hold across processes:

* Every write builds the new content in a new file and only then gives it the blob's name,
  so a reader never sees a partial blob and every write gets a new inode. On Linux the new
  file is an unnamed ``O_TMPFILE`` in the blob's folder, hard-linked to the blob's name once
  complete if that name is free, else linked into ``.xtstore/tmp`` and renamed (large files:
  swapped) over the blob; elsewhere it is made in ``.xtstore/tmp``. ``link`` fails if the name
  exists, so of concurrent create-only writes exactly one wins.
* Copies and snapshots are hard links (O(1)), which is safe because no write changes an inode
  in place, with one exception: an append writes in place (``O_APPEND``) under the blob's
  ``flock`` lock when the file has no other link; a shared file is copied and replaced instead.
  Copies and snapshots take the same lock, so they never race with an in-place append.
* Whatever a name leads to must stay inside its container: a symlink leading anywhere else
  raises :class:`AccessDenied`. Symlinks are never listed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import itertools
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import IO, Any

from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ConfigError,
    ContainerAlreadyExists,
    ContainerNotFound,
    InvalidName,
)
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.localfiles.atomic import atomic_local_file
from xtstore.localfiles.oscalls import (
    O_CLOEXEC,
    O_PATH,
    PROC_FD,
    copy_exact,
    exchange_regular_file,
    link_open_file,
    open_unnamed,
    open_unnamed_in,
    open_without_symlinks,
    read_all,
    real_path_of,
    unlink_quietly,
    unnamed_files,
    write_all,
)
from xtstore.names import validate_container_name
from xtstore.providers._shared import new_snapshot_id, snapshot_created, to_bytes
from xtstore.providers.file.walk import (
    children,
    collect_infos,
    collect_names,
    etag_of,
    listing_entry,
    properties_of,
    walk,
)
from xtstore.store import ProviderStore
from xtstore.values import (
    BlobInfo,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
    Support,
    datetime_from_ns,
)

__all__ = ["FileProvider", "FileStore"]

_INTERNAL = ".xtstore"
_SNAPSHOT_ID = re.compile(r"[0-9]{20}-[0-9a-f]{8}")
_STREAM_CHUNK = 4 * 1024 * 1024
_NOT_THERE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG})
_LARGE = 32 * 1024 * 1024
"""Uploads from this size replace an existing blob by swap + unlink (see _install)."""
_WRITE_ATTEMPTS = 20
"""Renames retried when a concurrent delete removed the (empty) parent folder meanwhile."""


_temp_numbers = itertools.count(1)
"""Numbers temporary files, shared by every instance in the process (``next`` is atomic)."""
_pid = [os.getpid()]
"""This process's id, kept so that naming a temporary file makes no system call."""
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def _key(blob_path: str) -> str:
    return hashlib.blake2b(blob_path.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


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
        self._root = os.path.abspath(os.path.expanduser(str(path)))
        self._internal = os.path.join(self._root, _INTERNAL)
        self._tmp = os.path.join(self._internal, "tmp")
        # Only the root: a read-only store still serves reads; the rest is made on first write.
        os.makedirs(self._root, exist_ok=True)
        self._real_root = os.path.realpath(self._root)

    # ---- misc ----

    def get_service_name(self) -> str:
        return self._name

    def capabilities(self) -> Capabilities:
        return Capabilities(
            append=Support.NATIVE,
            snapshots=Support.NATIVE,
            conditional_writes=Support.NATIVE,
            server_side_copy=Support.NATIVE,
            metadata=Support.NATIVE,
            shared_between_processes=True,
        )

    @property
    def root(self) -> str:
        """The root folder (absolute)."""
        return self._root

    # ---- paths ----

    def _container_dir(self, container: str) -> str:
        return f"{self._real_root}/{container}"

    def _blob_file(self, container: str, blob_path: str) -> str:
        # From the real root: open_without_symlinks refuses a symlink anywhere in the path.
        return f"{self._real_root}/{container}/{blob_path}"

    def _internal_path(self, area: str, container: str, *parts: str) -> str:
        return "/".join((self._internal, area, container, *parts))

    def _snapshot_file(self, container: str, blob_path: str, snapshot: str) -> str:
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise BlobNotFound(f"snapshot {snapshot!r} not found", container=container,
                               blob=blob_path)
        return self._internal_path("snapshots", container, _key(blob_path), snapshot)

    def _meta_file(self, container: str, blob_path: str) -> str:
        return f"{self._internal}/meta/{container}/{_key(blob_path)}.json"

    def _temp_path(self) -> str:
        return f"{self._tmp}/{_pid[0]:x}-{next(_temp_numbers):x}"

    def _require_container(self, container: str) -> None:
        if not os.path.isdir(self._container_dir(container)):
            raise ContainerNotFound("container not found", container=container)

    def _not_found(
        self, container: str, blob_path: str, what: str = "blob not found"
    ) -> BlobNotFound:
        self._require_container(container)
        return BlobNotFound(what, container=container, blob=blob_path)

    def _checked_inside(self, fd: int, path: str, container: str, blob_path: str) -> int:
        """``fd`` (opened from ``path``) if it leads inside the container; else it is closed
        and :class:`AccessDenied` raised."""
        try:
            real = real_path_of(fd, path)
            top = f"{self._real_root}/{container}"
            if real != top and not real.startswith(top + "/"):
                raise AccessDenied(
                    "a symlink in the store leads outside the container", container=container,
                    blob=blob_path,
                )
        except BaseException:
            os.close(fd)
            raise
        return fd

    # ---- opening ----

    def _open_checked(self, container: str, blob_path: str, snapshot: str | None = None,
                      flags: int = os.O_RDONLY) -> int:
        """An fd of whatever the blob's name leads to, checked to be inside its container."""
        path = (self._blob_file(container, blob_path) if snapshot is None
                else self._snapshot_file(container, blob_path, snapshot))
        try:
            if snapshot is None:
                fd = open_without_symlinks(path, flags)
                if fd is not None:
                    return fd  # reached without a symlink: inside its container
            fd = os.open(path, flags | O_CLOEXEC)
        except OSError as error:
            if error.errno not in _NOT_THERE:
                raise
            what = "blob not found" if snapshot is None else f"snapshot {snapshot!r} not found"
            raise self._not_found(container, blob_path, what) from None
        if snapshot is None:
            return self._checked_inside(fd, path, container, blob_path)
        return fd

    def _open_blob_fd(self, container: str, blob_path: str, snapshot: str | None = None,
                      flags: int = os.O_RDONLY) -> tuple[int, os.stat_result]:
        """An fd of the blob's regular file (checked to be inside its container) and its stat."""
        fd = self._open_checked(container, blob_path, snapshot, flags)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise self._not_found(container, blob_path)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def _link_blob(self, fd: int, container: str, blob_path: str, target: str) -> None:
        """Hard-link the blob's file, open as ``fd``, to ``target``: through the fd where the
        system allows it, so the file checked is the file linked. Raises :class:`BlobNotFound`
        if the blob was deleted meanwhile."""
        folder, name = os.path.split(target)
        try:
            if PROC_FD:
                folder_fd = os.open(folder, O_PATH | os.O_DIRECTORY | O_CLOEXEC)
                try:
                    link_open_file(fd, name, folder_fd)
                    return
                except PermissionError:
                    pass
                finally:
                    os.close(folder_fd)
            os.link(self._blob_file(container, blob_path), target)
        except FileNotFoundError:
            if os.path.isdir(folder):
                raise self._not_found(container, blob_path) from None
            raise

    def _stat_blob(self, container: str, blob_path: str) -> os.stat_result:
        fd, st = self._open_blob_fd(container, blob_path, flags=O_PATH)
        os.close(fd)
        return st

    def _open_parent(self, container: str, blob_path: str, parent: str) -> int:
        """An fd of the blob's parent folder ``parent``, created if missing, checked to be
        inside the container. The caller closes it."""
        try:
            fd = open_without_symlinks(parent, O_PATH | os.O_DIRECTORY)
            if fd is not None:
                return fd
            fd = os.open(parent, O_PATH | os.O_DIRECTORY | O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            self._make_folders(container, blob_path, parent)
            fd = os.open(parent, O_PATH | os.O_DIRECTORY | O_CLOEXEC)
        return self._checked_inside(fd, parent, container, blob_path)

    def _make_folders(self, container: str, blob_path: str, parent: str) -> None:
        self._require_container(container)
        existing = parent
        while not os.path.lexists(existing):
            existing = os.path.dirname(existing)
        real = os.path.realpath(existing)
        top = f"{self._real_root}/{container}"
        if real != top and not real.startswith(top + "/"):
            raise AccessDenied("a symlink in the store leads outside the container",
                               container=container, blob=blob_path)
        try:
            os.makedirs(parent, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise _name_clash(container, blob_path) from None

    # ---- writing ----

    def _new_temp(self) -> tuple[int, str]:
        temp = self._temp_path()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_CLOEXEC
        try:
            return os.open(temp, flags, 0o666), temp
        except FileNotFoundError:
            os.makedirs(self._tmp, exist_ok=True)
            return os.open(temp, flags, 0o666), temp

    def _write_temp(self, fill: Callable[[int], None]) -> str:
        """A finished temporary file whose content ``fill(fd)`` wrote, stamped (see
        :func:`_stamp`).

        Where the file system allows, the file is unnamed while ``fill`` runs and gets its
        temporary name only when complete, so a process killed meanwhile leaves nothing."""
        if unnamed_files[0]:
            temp = self._write_unnamed_temp(fill)
            if temp is not None:
                return temp
        fd, temp = self._new_temp()
        try:
            try:
                fill(fd)
                _stamp(fd)
            finally:
                os.close(fd)
        except BaseException:
            unlink_quietly(temp)
            raise
        return temp

    def _write_unnamed_temp(self, fill: Callable[[int], None]) -> str | None:
        """:meth:`_write_temp` through an unnamed file in ``.xtstore/tmp``; None, with nothing
        done, where the file system cannot make one."""
        opened = open_unnamed_in(self._tmp)
        if opened is None:
            return None
        folder, fd = opened
        try:
            fill(fd)
            _stamp(fd)
            temp = self._temp_path()
            link_open_file(fd, temp, folder)
            return temp
        finally:
            os.close(fd)
            os.close(folder)

    def _install(self, temp: str, container: str, blob_path: str, *, exclusive: bool,
                 large: bool = False) -> None:
        """Move a finished temporary file to the blob's name: rename (replace), or with
        ``exclusive`` hard-link then unlink (fails if the name exists). A ``large`` file
        replaces an existing blob by an atomic swap, then the old file is unlinked."""
        parent_path, _, name = self._blob_file(container, blob_path).rpartition("/")
        renamed = False
        try:
            for attempt in range(_WRITE_ATTEMPTS):
                try:
                    parent = self._open_parent(container, blob_path, parent_path)
                    try:
                        if exclusive:
                            os.link(temp, name, dst_dir_fd=parent)
                        elif not (large and exchange_regular_file(temp, parent, name)):
                            os.replace(temp, name, dst_dir_fd=parent)
                            renamed = True
                    finally:
                        os.close(parent)
                    return
                except FileNotFoundError:
                    # A delete pruned the empty parent between our open and the rename.
                    if attempt == _WRITE_ATTEMPTS - 1 or not os.path.exists(temp):
                        raise
                except FileExistsError:
                    if exclusive:
                        raise self._taken(container, blob_path) from None
                    raise
                except (IsADirectoryError, NotADirectoryError):
                    raise _name_clash(container, blob_path) from None
                except OSError as error:
                    if error.errno == errno.ENOTEMPTY:
                        raise _name_clash(container, blob_path) from None
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

    def _is_folder(self, container: str, blob_path: str) -> bool:
        try:
            return stat.S_ISDIR(os.lstat(self._blob_file(container, blob_path)).st_mode)
        except OSError:
            return False

    def _taken(self, container: str, blob_path: str) -> BlobAlreadyExists:
        """The error for a create-only write that found its name taken: by a blob, or by a
        folder (which a file store cannot hold next to a blob of the same name)."""
        if self._is_folder(container, blob_path):
            return _name_clash(container, blob_path)
        return BlobAlreadyExists("blob already exists", container=container, blob=blob_path)

    def _write(self, container: str, blob_path: str, fill: Callable[[int], None], *,
               exclusive: bool = False, large: bool = False) -> None:
        """Write a whole new version of the blob (a new inode) and clear its metadata. A
        ``large`` version replaces an existing blob by a swap (see _install)."""
        if not (unnamed_files[0]
                and self._write_unnamed(container, blob_path, fill, exclusive, large)):
            temp = self._write_temp(fill)
            self._install(temp, container, blob_path, exclusive=exclusive, large=large)
        self._clear_metadata(container, blob_path)

    def _clear_metadata(self, container: str, blob_path: str) -> None:
        """Remove the blob's metadata record, if there is one.

        Also after a write to a new name: a record may be left by a blob file removed by
        other means (say ``rm`` in the store's folder), and inode numbers are reused at
        once, so nothing cheaper tells a stale record from a current one."""
        # Most containers never get metadata: one access() of the container's metadata
        # folder settles it for them, with no hash to compute and no exception raised.
        if os.access(f"{self._internal}/meta/{container}", os.F_OK):
            unlink_quietly(self._meta_file(container, blob_path))

    def _write_unnamed(self, container: str, blob_path: str, fill: Callable[[int], None],
                       exclusive: bool, large: bool = False) -> bool:
        """Write the new version as an unnamed file (``O_TMPFILE``) in the blob's own folder,
        then link it to the blob's name; if that name exists (and the write may replace it),
        link it to a temporary name and rename (``large``: swap) that over the blob. False,
        with nothing done, where the file system cannot make unnamed files.

        Why: the file system places a new inode near its folder. Made in ``.xtstore/tmp``,
        every blob's inode lands in that one folder's area, and on ext4 without a journal
        each creation there skips, one by one, the inodes freed in the last minute (after a
        large delete: ~0.3-0.8 ms per file, where ``cp`` into a new folder paid ~25 us).
        Linking straight to a new name saves the rename. An unnamed file also leaves nothing
        behind if the process dies while writing, which matters most for large uploads."""
        parent_path, _, name = self._blob_file(container, blob_path).rpartition("/")
        try:
            parent = self._open_parent(container, blob_path, parent_path)
        except OSError:
            return False  # e.g. a folder name too long: the named path reports it
        try:
            fd = _filled_unnamed_file(parent, fill)
            if fd is None:
                return False
            try:
                try:
                    link_open_file(fd, name, parent)
                    return True
                except FileExistsError:
                    if exclusive:
                        raise self._taken(container, blob_path) from None
                except OSError:
                    pass  # e.g. a folder there: _install below retries and reports it
                temp = self._temp_path()
                try:
                    link_open_file(fd, temp, parent)  # temp is absolute
                except FileNotFoundError:
                    os.makedirs(self._tmp, exist_ok=True)
                    link_open_file(fd, temp, parent)
            finally:
                os.close(fd)
            if not exclusive:
                try:
                    if large and exchange_regular_file(temp, parent, name):
                        unlink_quietly(temp)  # now the old version
                    else:
                        os.replace(temp, name, dst_dir_fd=parent)
                    return True
                except OSError:
                    pass  # e.g. the folder was pruned meanwhile: _install retries and reports
        finally:
            os.close(parent)
        self._install(temp, container, blob_path, exclusive=exclusive, large=large)
        return True

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False
    ) -> None:
        """Replace the blob atomically (clearing its metadata). Raises
        :class:`ContainerNotFound`, and :class:`BlobAlreadyExists` with ``fail_if_exists``."""
        data = to_bytes(text)
        self._write(container, blob_path, lambda fd: write_all(fd, data),
                    exclusive=fail_if_exists)

    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Copy with the kernel's copy path into a temporary file, then rename it into place.
        Raises :class:`ContainerNotFound`; ``FileNotFoundError`` for a missing source."""
        source = os.open(source_fn, os.O_RDONLY | O_CLOEXEC)
        try:
            total = os.fstat(source).st_size
            if total >= _LARGE:
                # Fail before copying much; a small write finds a missing container anyway
                # when it installs the file (_open_parent), so it saves the stat.
                self._require_container(container)
            self._write(container, blob_path,
                        lambda fd: copy_exact(source, fd, total, progress_callback),
                        large=total >= _LARGE)
        finally:
            os.close(source)

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Stream into a temporary file (bounded memory), then rename it into place. Raises
        :class:`ContainerNotFound`."""
        self._require_container(container)

        def fill(fd: int) -> None:
            done = 0
            if progress_callback is not None and length is not None:
                progress_callback(0, length)
            while chunk := stream.read(_STREAM_CHUNK):
                write_all(fd, chunk)
                done += len(chunk)
                if progress_callback is not None:
                    progress_callback(done, max(done, length or 0))

        self._write(container, blob_path, fill, large=(length or 0) >= _LARGE)

    @contextmanager
    def _blob_lock(self, container: str, blob_path: str) -> Iterator[str]:
        """An exclusive ``flock`` on the blob's lock file, shared by every process; yields the
        lock file's path (only its holder may unlink it)."""
        lock_path = f"{self._internal}/locks/{container}/{_key(blob_path)}"
        while True:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | O_CLOEXEC, 0o666)
            except FileNotFoundError:
                self._require_container(container)
                os.makedirs(os.path.dirname(lock_path), exist_ok=True)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_nlink:
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # a delete unlinked this lock file while we waited: take the new one
        try:
            yield lock_path
        finally:
            os.close(fd)

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Append under the blob's lock: in place when the file has no other link, else (and
        always with ``append_with_rewrite``) by copying into a new file that replaces it. Keeps
        the blob's metadata. Raises :class:`ContainerNotFound`."""
        data = to_bytes(text)
        with self._blob_lock(container, blob_path):
            if not append_with_rewrite and self._append_in_place(container, blob_path, data):
                return
            self._append_by_rewrite(container, blob_path, data)

    def _append_in_place(self, container: str, blob_path: str, data: bytes) -> bool:
        try:
            fd, st = self._open_blob_fd(container, blob_path, flags=os.O_WRONLY | os.O_APPEND)
        except BlobNotFound:
            return False
        except IsADirectoryError:
            raise _name_clash(container, blob_path) from None
        try:
            if st.st_nlink != 1:
                return False
            write_all(fd, data)
            return True
        finally:
            os.close(fd)

    def _append_by_rewrite(self, container: str, blob_path: str, data: bytes) -> None:
        # The lock keeps appenders out; the etag check catches writers that take no lock
        # (create_blob) and starts over, so no conflict ever reaches the caller.
        while True:
            temp, before = self._appended_copy(container, blob_path, data)
            if before is None:
                try:
                    self._install(temp, container, blob_path, exclusive=True)
                except BlobAlreadyExists:
                    if self._is_folder(container, blob_path):
                        raise  # the name clash; a retry would meet the same folder forever
                    continue
                return
            try:
                now: str | None = etag_of(self._stat_blob(container, blob_path))
            except BlobNotFound:
                now = None
            if now != etag_of(before):
                unlink_quietly(temp)
                continue
            self._install(temp, container, blob_path, exclusive=False)
            return

    def _appended_copy(self, container: str, blob_path: str,
                       data: bytes) -> tuple[str, os.stat_result | None]:
        """A temporary file holding the blob's content plus ``data``, and the stat of the
        version it copied (None if the blob did not exist)."""
        try:
            source, st = self._open_blob_fd(container, blob_path)
        except BlobNotFound:
            return self._write_temp(lambda fd: write_all(fd, data)), None
        try:
            def fill(fd: int) -> None:
                copy_exact(source, fd, st.st_size, None)
                write_all(fd, data)

            return self._write_temp(fill), st
        finally:
            os.close(source)

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Hard-link the source's file to the destination name (O(1)), overwriting it, and
        copy the metadata. Raises :class:`BlobNotFound` / :class:`ContainerNotFound`."""
        self._require_container(dest_container)
        with self._blob_lock(source_container, source_blob_path):
            fd, _ = self._open_blob_fd(source_container, source_blob_path, flags=O_PATH)
            try:
                temp = self._temp_path()
                os.makedirs(self._tmp, exist_ok=True)
                self._link_blob(fd, source_container, source_blob_path, temp)
            finally:
                os.close(fd)
            self._install(temp, dest_container, dest_blob_path, exclusive=False)
            # Renaming a link onto another link of the same file leaves both names in place.
            unlink_quietly(temp)
            metadata = self._read_metadata(source_container, source_blob_path)
        if metadata:
            self._write_metadata(dest_container, dest_blob_path, metadata)
        else:
            unlink_quietly(self._meta_file(dest_container, dest_blob_path))

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """Hard-link the blob's current file under a new snapshot id (O(1)). Raises
        :class:`BlobNotFound`."""
        folder = self._internal_path("snapshots", container, _key(blob_path))
        with self._blob_lock(container, blob_path):
            fd, _ = self._open_blob_fd(container, blob_path, flags=O_PATH)
            try:
                os.makedirs(folder, exist_ok=True)
                while True:
                    snapshot_id = new_snapshot_id()
                    try:
                        self._link_blob(fd, container, blob_path, os.path.join(folder, snapshot_id))
                        break
                    except FileExistsError:
                        continue
            finally:
                os.close(fd)
        return SnapshotInfo(container, blob_path, snapshot_id, snapshot_created(snapshot_id))

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """Oldest first. Raises :class:`ContainerNotFound`."""
        self._require_container(container)
        folder = self._internal_path("snapshots", container, _key(blob_path))
        try:
            ids = sorted(n for n in os.listdir(folder) if _SNAPSHOT_ID.fullmatch(n))
        except FileNotFoundError:
            ids = []
        return [SnapshotInfo(container, blob_path, i, snapshot_created(i)) for i in ids]

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """Delete the blob with its snapshots and metadata, or only ``snapshot``. Raises
        :class:`BlobNotFound`."""
        if snapshot is not None:
            try:
                os.unlink(self._snapshot_file(container, blob_path, snapshot))
            except FileNotFoundError:
                raise self._not_found(container, blob_path,
                                      f"snapshot {snapshot!r} not found") from None
            with suppress(OSError):
                os.rmdir(self._internal_path("snapshots", container, _key(blob_path)))
            return
        path = self._blob_file(container, blob_path)
        with self._blob_lock(container, blob_path) as lock_path:
            try:
                self._stat_blob(container, blob_path)  # refuses a symlink leading outside
                # Metadata goes first, so that no record outlives its blob.
                unlink_quietly(self._meta_file(container, blob_path))
                try:
                    os.unlink(path)
                except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    raise self._not_found(container, blob_path) from None
            finally:
                os.unlink(lock_path)
        key = _key(blob_path)
        shutil.rmtree(self._internal_path("snapshots", container, key), ignore_errors=True)
        self._prune_folders(container, os.path.dirname(path))

    def _prune_folders(self, container: str, folder: str) -> None:
        top = self._container_dir(container)
        while folder != top and folder.startswith(top + "/"):
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = os.path.dirname(folder)

    # ---- metadata ----

    def _read_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        try:
            with open(self._meta_file(container, blob_path), "rb") as handle:
                return dict(json.loads(handle.read())["metadata"])
        except FileNotFoundError:
            return {}

    def _write_metadata(self, container: str, blob_path: str, metadata: Mapping[str, str]) -> None:
        document = json.dumps({"blob": blob_path, "metadata": dict(metadata)}).encode()
        target = self._meta_file(container, blob_path)
        temp = self._write_temp(lambda fd: write_all(fd, document))
        try:
            try:
                os.replace(temp, target)
            except FileNotFoundError:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(temp, target)
        finally:
            unlink_quietly(temp)

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Replace the blob's metadata. Raises :class:`BlobNotFound`."""
        # Under the lock that delete_blob takes, so no record is written for a blob that a
        # concurrent delete has just removed.
        with self._blob_lock(container, blob_path) as lock_path:
            try:
                self._stat_blob(container, blob_path)
            except BlobNotFound:
                os.unlink(lock_path)  # leave no lock file for a blob that is not there
                raise
            self._write_metadata(container, blob_path, metadata)

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        """Raises :class:`BlobNotFound`."""
        self._stat_blob(container, blob_path)
        return self._read_metadata(container, blob_path)

    def get_container_metadata(self, container: str) -> dict[str, str]:
        """Raises :class:`ContainerNotFound`."""
        self._require_container(container)
        try:
            path = self._internal_path("meta", container, "container.json")
            with open(path, "rb") as handle:
                return dict(json.loads(handle.read()))
        except FileNotFoundError:
            return {}

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Raises :class:`ContainerNotFound`."""
        self._require_container(container)
        document = json.dumps(dict(metadata)).encode()
        target = self._internal_path("meta", container, "container.json")
        temp = self._write_temp(lambda fd: write_all(fd, document))
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(temp, target)
        finally:
            unlink_quietly(temp)

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        return os.path.isdir(self._container_dir(container))

    def create_container(self, container: str) -> bool:
        """Raises :class:`ContainerAlreadyExists`."""
        try:
            os.mkdir(self._container_dir(container))
        except FileExistsError:
            raise ContainerAlreadyExists("container already exists",
                                         container=container) from None
        except FileNotFoundError:
            os.makedirs(self._root, exist_ok=True)
            return self.create_container(container)
        return True

    def list_containers(self) -> list[str]:
        names = []
        with os.scandir(self._root) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and _is_container_name(entry.name):
                    names.append(entry.name)
        return sorted(names)

    def delete_container(self, container: str) -> bool:
        """Remove the container with its blobs, snapshots, metadata and locks. Raises
        :class:`ContainerNotFound`."""
        doomed = self._temp_path()
        self._require_container(container)
        os.makedirs(self._tmp, exist_ok=True)
        # Metadata goes first, as in delete_blob.
        shutil.rmtree(self._internal_path("meta", container), ignore_errors=True)
        try:
            # One rename makes the whole container disappear at once; removal follows.
            os.rename(self._container_dir(container), doomed)
        except FileNotFoundError:
            raise ContainerNotFound("container not found", container=container) from None
        shutil.rmtree(doomed, ignore_errors=True)
        for area in ("snapshots", "locks"):
            shutil.rmtree(self._internal_path(area, container), ignore_errors=True)
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        """Raises :class:`ContainerNotFound`."""
        try:
            st = os.stat(self._container_dir(container))
        except FileNotFoundError:
            raise ContainerNotFound("container not found", container=container) from None
        metadata = self.get_container_metadata(container)
        return ContainerInfo(container, datetime_from_ns(st.st_mtime_ns), metadata)

    # ---- reading ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        try:
            self._stat_blob(container, blob_path)
        except (BlobNotFound, ContainerNotFound):
            return False
        return True

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """Raises :class:`BlobNotFound` (also for an unknown snapshot)."""
        fd = self._open_checked(container, blob_path, snapshot)
        try:
            return read_all(fd)
        except IsADirectoryError:
            raise self._not_found(container, blob_path) from None
        finally:
            os.close(fd)

    def get_blob_text(self, container: str, blob_path: str) -> str:
        """Raises :class:`BlobNotFound`; ``UnicodeDecodeError`` if it is not UTF-8."""
        return self.get_blob_bytes(container, blob_path).decode("utf-8")

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """The blob's file opened for reading (a later write replaces the file, so the
        stream keeps reading the version it opened). Raises :class:`BlobNotFound`."""
        fd, _ = self._open_blob_fd(container, blob_path, snapshot)
        return os.fdopen(fd, "rb")

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Copy with the kernel's copy path into a temporary file next to ``dest_fn``, then
        rename it into place. Raises :class:`BlobNotFound`."""
        fd, st = self._open_blob_fd(container, blob_path, snapshot)
        try:
            with atomic_local_file(dest_fn, large=st.st_size >= _LARGE) as dest:
                copy_exact(fd, dest, st.st_size, progress_callback)
        finally:
            os.close(fd)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """Raises :class:`BlobNotFound`."""
        st = self._stat_blob(container, blob_path)
        metadata = self._read_metadata(container, blob_path)
        return BlobInfo(name=blob_path, properties=properties_of(st, metadata))

    # ---- listing ----

    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        """Sorted, without folders that hold no blob. Raises :class:`ContainerNotFound`."""
        self._require_container(container)
        top = self._container_dir(container)
        if recursive:
            return collect_names(top, path) if return_names else collect_infos(top, path)
        entries = children(top, path)
        if return_names:
            return [entry.name for entry in entries]
        return list(entries)

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """Walks lazily. Raises :class:`ContainerNotFound` when called."""
        self._require_container(container)
        return self._iter_blobs(self._container_dir(container), path, recursive)

    def _iter_blobs(self, top: str, path: str | None, recursive: bool) -> Iterator[BlobInfo]:
        if not recursive:
            return children(top, path)
        return (listing_entry(name, entry.stat(follow_symlinks=False))
                for name, entry in walk(top, path, with_stat=True))


def _stamp(fd: int) -> None:
    """Give a new version a nanosecond mtime, so that its etag differs from every earlier
    version's: the file system's own clock is coarse and inode numbers are reused at once."""
    now = time.time_ns()
    os.utime(fd, ns=(now, now))


def _filled_unnamed_file(folder: int, fill: Callable[[int], None]) -> int | None:
    """A new unnamed file in the folder ``folder`` holding what ``fill`` wrote, stamped; the
    caller links and closes it. None, with nothing done, where the file system cannot make
    one (see :func:`open_unnamed`)."""
    fd = open_unnamed(folder)
    if fd is None:
        return None
    try:
        fill(fd)
        _stamp(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _name_clash(container: str, blob_path: str) -> BlobAlreadyExists:
    return BlobAlreadyExists(
        "a file store cannot hold a blob and a folder of the same name "
        "(this blob path or one of its folders is already the other kind)",
        container=container, blob=blob_path,
    )


def _is_container_name(name: str) -> bool:
    try:
        validate_container_name(name)
    except InvalidName:
        return False
    return True


class FileStore(ProviderStore):
    """The ``store-file`` provider as XT builds it: ``FileStore(service_dict)`` is a
    :class:`~xtstore.store.Store` around :class:`FileProvider`, which ``store.provider`` is."""

    implementation = FileProvider
