"""Where ``store-file`` keeps everything under its root, and the container folders.

Layout (``root`` is the service's ``path``)::

    <root>/<container>/<blob path>                 the blobs, nothing else
    <root>/.xtstore/tmp/                           temporary files, renamed into place
                                                   (each claimed while in use: see claim)
    <root>/.xtstore/snapshots/<container>/<key>/<snapshot id>
    <root>/.xtstore/meta/<container>/<key>.json    blob metadata; container.json for the container
    <root>/.xtstore/locks/<container>/<key>        per-blob locks, there while one is held

``<key>`` is a hash of the blob path. Container names never start with ``.``, so the
``.xtstore`` folder can never collide with a container and nothing in it is ever listed.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import re
import stat
import weakref
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from functools import lru_cache

from xtstore.errors import (
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    InvalidName,
)
from xtstore.localfiles.oscalls import O_CLOEXEC, make_folders
from xtstore.names import validate_container_name
from xtstore.providers._shared import name_clash

__all__ = ["INTERNAL", "SNAPSHOT_ID", "Layout", "claim", "key_of", "name_clash"]

INTERNAL = ".xtstore"
SNAPSHOT_ID = re.compile(r"[0-9]{20}-[0-9a-f]{8}")

_temp_numbers = itertools.count(1)
"""Numbers temporary files, shared by every instance in the process (``next`` is atomic)."""


def _owner_prefix() -> str:
    # The pid with a random tag: a later process given the same pid (common in containers)
    # must not take a dead one's names for its own (see remove_abandoned_temps).
    return f"{os.getpid():x}.{os.urandom(4).hex()}-"


_owner = [_owner_prefix()]
"""Begins every temporary name of this process, kept so that naming one makes no system
call."""
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _owner.__setitem__(0, _owner_prefix()))


TEMP_SUFFIX = ".tmp"
"""Ends every name in ``.xtstore/tmp`` that this version makes, and only those are cleaned
up (a name without it may be a live temporary file of an older version, which claims none)."""


def claim(fd: int) -> None:
    """Claim a temporary file (or folder), open as ``fd``, for as long as ``fd`` stays open: a
    shared ``flock``, which every writer takes on its temporary file before it has a name in
    ``.xtstore/tmp`` (or at once after, then checking it still has that name) and holds until
    the name is gone. The cleaner takes an exclusive one without waiting, so it gets it only
    for a temporary file whose writer is dead, however the writer ended. Where the file
    system has no such locks, nothing is claimed, and the cleaner, meeting the same refusal,
    removes nothing."""
    # A file system without flock (or without its lock manager) refuses it: the write goes on.
    with suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_SH)


@lru_cache(maxsize=1024)
def key_of(blob_path: str) -> str:
    """The name a blob's records, snapshots and lock file go by under ``.xtstore``."""
    import hashlib  # here: a listing of blobs without records needs no key

    return hashlib.blake2b(blob_path.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


class Layout:
    """The paths of one store's blobs, containers and internal files, the container folders
    themselves, and the per-blob locks."""

    __slots__ = ("__weakref__", "_held", "_identify", "_noted", "_spare", "internal",
                 "real_root", "root", "tmp")

    def __init__(self, root: str, identify: Callable[[int, os.stat_result], str]) -> None:
        """``identify(fd, st)``: the identity of a blob file as the metadata records name it
        (:func:`~xtstore.providers.file.records.identity`), which tells a killed append's
        file from a later one at its name (see :meth:`note_append`)."""
        self._identify = identify
        self.root = root
        """The root folder (absolute)."""
        self.internal = os.path.join(root, INTERNAL)
        self.tmp = os.path.join(self.internal, "tmp")
        # Only the root: a read-only store still serves reads; the rest is made on first write.
        os.makedirs(root, exist_ok=True)
        self.real_root = os.path.realpath(root)
        """The root with every symlink resolved: the top of every path checked to stay inside."""
        self._held: dict[str, list[int]] = {}
        """The fd and size of each lock file this process holds, by path (a lock has one
        holder)."""
        self._noted: dict[str, bool] = {}
        """The held lock files an append noted its undo in (see :meth:`note_append`)."""
        self._spare: dict[str, int] = {}
        """Lock files kept open and unlocked for the next lock of their blob, oldest first
        (see :meth:`_keep_spare`); unlinked when the store is dropped or the process ends."""
        weakref.finalize(self, _remove_spares, self._spare)
        _all_layouts.add(self)

    # ---- paths ----

    def container_dir(self, container: str) -> str:
        return f"{self.real_root}/{container}"

    def blob_file(self, container: str, blob_path: str) -> str:
        # From the real root: open_without_symlinks refuses a symlink anywhere in the path.
        return f"{self.real_root}/{container}/{blob_path}"

    def area(self, area: str, container: str, *parts: str) -> str:
        """A path in one of the internal areas (``snapshots``, ``meta``, ``locks``)."""
        return "/".join((self.internal, area, container, *parts))

    def snapshot_folder(self, container: str, blob_path: str) -> str:
        return self.area("snapshots", container, key_of(blob_path))

    def snapshot_file(self, container: str, blob_path: str, snapshot: str) -> str:
        """Raises :class:`BlobNotFound` for a snapshot id this store never makes."""
        if not SNAPSHOT_ID.fullmatch(snapshot):
            raise BlobNotFound(f"snapshot {snapshot!r} not found", container=container,
                               blob=blob_path)
        return self.area("snapshots", container, key_of(blob_path), snapshot)

    def meta_folder(self, container: str) -> str:
        return f"{self.internal}/meta/{container}"

    def meta_file(self, container: str, blob_path: str) -> str:
        return f"{self.internal}/meta/{container}/{key_of(blob_path)}.json"

    def container_meta_file(self, container: str) -> str:
        return self.area("meta", container, "container.json")

    def temp_path(self) -> str:
        """A new name in ``.xtstore/tmp`` (the folder may not exist yet); whoever gives a file
        this name claims it first (see :func:`claim`)."""
        return f"{self.tmp}/{_owner[0]}{next(_temp_numbers):x}{TEMP_SUFFIX}"

    def remove_abandoned_temps(self) -> None:
        """Remove the temporary files (and folders) in ``.xtstore/tmp`` that no live writer
        claims: those a process killed while writing left behind. Costs one listing of a
        missing or empty folder where nothing is left over.

        A live writer's file is never removed: the exclusive lock taken here, without
        waiting, fails while its writer holds its shared one, and a file taken before its
        writer claimed it is one the writer finds unlinked once it has, and replaces. Names
        of this process are skipped, since where locks are emulated per process (NFS) a lock
        would not keep this process's own writers out."""
        try:
            names = os.listdir(self.tmp)
        except OSError:
            return  # no temporary file was ever made here, or the store is not ours to clean
        own = _owner[0]
        for name in names:
            if name.endswith(TEMP_SUFFIX) and not name.startswith(own):
                _remove_if_abandoned(f"{self.tmp}/{name}")

    # ---- container folders ----

    def require_container(self, container: str) -> None:
        if not os.path.isdir(self.container_dir(container)):
            raise ContainerNotFound("container not found", container=container)

    def not_found(self, container: str, blob_path: str,
                  what: str = "blob not found") -> BlobNotFound:
        """:class:`BlobNotFound`, once the container is known to exist (else
        :class:`ContainerNotFound` is raised)."""
        self.require_container(container)
        return BlobNotFound(what, container=container, blob=blob_path)

    def has_container(self, container: str) -> bool:
        return os.path.isdir(self.container_dir(container))

    def create_container(self, container: str) -> None:
        """Raises :class:`ContainerAlreadyExists`."""
        try:
            os.mkdir(self.container_dir(container))
        except FileExistsError:
            raise ContainerAlreadyExists("container already exists",
                                         container=container) from None
        except FileNotFoundError:
            os.makedirs(self.root, exist_ok=True)
            self.create_container(container)

    def list_containers(self) -> list[str]:
        names = []
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and _is_container_name(entry.name):
                    names.append(entry.name)
        return sorted(names)

    def delete_container(self, container: str) -> None:
        """Remove the container with its blobs, snapshots, metadata and locks. Raises
        :class:`ContainerNotFound`."""
        doomed = self.temp_path()
        try:
            folder = os.open(self.container_dir(container),
                             os.O_RDONLY | os.O_DIRECTORY | O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise ContainerNotFound("container not found", container=container) from None
        import shutil  # here: only deletions of whole folders need it

        try:
            claim(folder)  # before it is renamed into .xtstore/tmp: see claim
            os.makedirs(self.tmp, exist_ok=True)
            # Metadata goes first, as in a blob's delete.
            shutil.rmtree(self.area("meta", container), ignore_errors=True)
            try:
                # One rename makes the whole container disappear at once; removal follows.
                os.rename(self.container_dir(container), doomed)
            except FileNotFoundError:
                raise ContainerNotFound("container not found", container=container) from None
            shutil.rmtree(doomed, ignore_errors=True)
        finally:
            os.close(folder)
        for area in ("snapshots", "locks"):
            shutil.rmtree(self.area(area, container), ignore_errors=True)

    def prune_folders(self, container: str, folder: str) -> None:
        """Remove ``folder`` and the folders above it, up to the container's, while empty."""
        top = self.container_dir(container)
        while folder != top and folder.startswith(top + "/"):
            try:
                os.rmdir(folder)
            except OSError:
                return
            folder = os.path.dirname(folder)

    # ---- locks ----

    @contextmanager
    def blob_lock(self, container: str, blob_path: str, *, keep: bool = False
                  ) -> Iterator[str]:
        """An exclusive ``flock`` on the blob's lock file, shared by every process; yields the
        lock file's path (only its holder may unlink it): :meth:`acquire`, then
        :meth:`release`."""
        lock_path = self.acquire(container, blob_path)
        try:
            yield lock_path
        finally:
            self.release(lock_path, keep=keep)

    def acquire(self, container: str, blob_path: str) -> str:
        """Take the blob's lock (see :meth:`blob_lock`), waiting for its holder; returns the
        lock file's path, which :meth:`release` takes.

        The holder unlinks the file when it releases the lock, so no lock file outlives its
        use: a process waiting on the unlinked file finds it has no name once it gets the
        lock, and takes the lock of the file now at the name instead. A release with
        ``keep`` (appends) leaves the file, unlocked and open, for the next lock of the blob:
        one of :data:`SPARE_LOCKS` per store, unlinked as the rest are when it is pushed
        out, when the store is dropped or the process ends (see :meth:`_keep_spare`)."""
        lock_path = f"{self.internal}/locks/{container}/{key_of(blob_path)}"
        fd = self._spare.pop(lock_path, -1)
        while True:
            if fd < 0:
                try:
                    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | O_CLOEXEC, 0o666)
                except FileNotFoundError:
                    self.require_container(container)
                    make_folders(os.path.dirname(lock_path))
                    continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                held = os.fstat(fd)
                if held.st_nlink:
                    if held.st_size:
                        self._undo_killed_append(fd, container)
                    break
            except BaseException:
                os.close(fd)
                raise
            # A delete (or another process's release) unlinked this lock file while we
            # waited, or while it was spare: take the one now at the name.
            os.close(fd)
            fd = -1
        self._held[lock_path] = [fd, held.st_size]
        return lock_path

    def release(self, lock_path: str, *, keep: bool = False) -> None:
        """Release the lock :meth:`acquire` took: unlink its file, or with ``keep`` keep it
        for the next lock of the blob."""
        fd = self._held.pop(lock_path)[0]
        noted = self._noted.pop(lock_path, False)
        if keep:
            self._keep_spare(lock_path, fd, noted)
            return
        try:
            _unlink_held_lock(fd, lock_path)
        finally:
            os.close(fd)

    def _keep_spare(self, lock_path: str, fd: int, noted: bool) -> None:
        """Release the held lock file ``fd`` but keep it, open and named, for the next lock
        of its blob, which then costs a ``flock`` and an ``fstat`` instead of creating and
        unlinking a file (about 20 of an append's 30 us on ext4). The oldest spare beyond
        :data:`SPARE_LOCKS` is unlinked as a released lock would be."""
        try:
            if noted:
                # The append finished: its note is struck out, not cut off, since freeing
                # the file's block and allocating it again costs 8 us on ext4.
                os.pwrite(fd, _STRUCK, _IDENTITY_AT)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)  # the lock goes with the fd; the file is a lock no one holds
            raise
        spare = self._spare
        if spare.setdefault(lock_path, fd) != fd:
            os.close(fd)  # another thread kept one meanwhile
        while len(spare) > SPARE_LOCKS:
            try:
                oldest = next(iter(spare))
                _remove_spare(oldest, spare.pop(oldest))
            except (StopIteration, KeyError, RuntimeError):
                break  # another thread took it meanwhile

    def note_append(self, lock_path: str, blob_path: str, size: int, identity: str) -> None:
        """Write in the held lock file, before an append in place, what undoes it: the blob's
        file (``identity``, as :func:`~xtstore.providers.file.records.identity` gives it) and
        its ``size``. A ``write()`` killed part way leaves part of its bytes (Linux checks
        for a fatal signal between pages), so the next holder of the lock, or the next open
        of the store, cuts the file back to that size; the holder's release unlinks the lock
        file and the note with it, or strikes the note out in a kept one."""
        held = self._held[lock_path]
        note = f"{size:0{_SIZE_DIGITS}d} {identity} {blob_path}".encode("utf-8",
                                                                        "surrogateescape")
        os.pwrite(held[0], note, 0)
        if len(note) < held[1]:  # an earlier, longer note of a kept lock file
            os.ftruncate(held[0], len(note))
        held[1] = len(note)
        self._noted[lock_path] = True

    def _undo_killed_append(self, lock_fd: int, container: str) -> None:
        """Undo the append in place whose holder died with the lock (``lock_fd``, held) noted
        (see :meth:`note_append`): the file, if it is still the one noted (not a later file
        given the name, even one reusing its inode number: its id tells), is cut back to its
        size before the append; then the note is cleared."""
        note = os.pread(lock_fd, 65536, 0).decode("utf-8", "surrogateescape")
        size, noted, blob_path = note.split(" ", 2)
        if noted.startswith(_STRUCK.decode()):
            return  # the note of an append that finished (see _keep_spare)
        with suppress(OSError):
            fd = os.open(self.blob_file(container, blob_path),
                         os.O_WRONLY | os.O_NOFOLLOW | O_CLOEXEC)
            try:
                st = os.fstat(fd)
                if self._identify(fd, st) == noted and st.st_size > int(size):
                    os.ftruncate(fd, int(size))
            finally:
                os.close(fd)
        os.ftruncate(lock_fd, 0)

    @contextmanager
    def blob_locks(self, *blobs: tuple[str, str]) -> Iterator[None]:
        """The locks of several blobs (``(container, blob_path)``), each taken once, in an
        order every process shares, so that two holders of overlapping sets never wait on
        each other."""
        with ExitStack() as held:
            for container, blob_path in sorted(set(blobs),
                                               key=lambda b: (b[0], key_of(b[1]))):
                held.enter_context(self.blob_lock(container, blob_path))
            yield

    def remove_unused_locks(self) -> None:
        """Remove the lock files no process holds (left by a process killed holding one, or
        by a version that kept them), and the empty lock folders of containers. A held lock
        is never broken: the file is removed only by whoever gets its exclusive lock without
        waiting, as a holder releasing it would."""
        top = f"{self.internal}/locks"
        try:
            containers = os.listdir(top)
        except OSError:
            return  # no lock was ever taken here, or the store is not ours to clean
        for container in containers:
            folder = f"{top}/{container}"
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                self._remove_if_unheld(f"{folder}/{name}", container)
            with suppress(OSError):
                # Only while empty; a writer meeting the missing folder makes it again.
                os.rmdir(folder)


    def _remove_if_unheld(self, path: str, container: str) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | O_CLOEXEC)
        except OSError:
            return  # gone meanwhile, or not a lock file this store makes
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # held by a live process, or no locks here: never remove unproved
            held = os.fstat(fd)
            if stat.S_ISREG(held.st_mode):
                if held.st_size and held.st_nlink:
                    self._undo_killed_append(fd, container)
                _unlink_held_lock(fd, path)
        finally:
            os.close(fd)


_SIZE_DIGITS = 20
"""A note's size is written with this many digits, so that the identity after it is always
at the same place (:data:`_IDENTITY_AT`) for striking it out."""
_IDENTITY_AT = _SIZE_DIGITS + 1
_STRUCK = b"-"
"""Written over the first character of a note's identity (hex digits, never this) once the
append it undoes has finished: the note then names no file (an earlier version reading it
finds no file of that identity, and undoes nothing)."""
SPARE_LOCKS = 8
"""Lock files one store keeps for its next appends (see :meth:`Layout._keep_spare`)."""


_all_layouts: weakref.WeakSet[Layout] = weakref.WeakSet()
"""Every live store's layout, whose spare lock files a forked child must let go of."""


def _remove_spare(lock_path: str, fd: int) -> None:
    """Unlink the spare lock file ``fd`` as a holder would, if no process holds it now (one
    that does unlinks it, or keeps it, when it releases it), and close it."""
    try:
        with suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _unlink_held_lock(fd, lock_path)
    finally:
        os.close(fd)


def _remove_spares(spare: dict[str, int]) -> None:
    while spare:
        try:
            _remove_spare(*spare.popitem())
        except KeyError:
            return


def _forget_spares_after_fork() -> None:
    # A forked child shares each spare fd's open file, and so its flock, with the parent:
    # locking it would not keep the parent out. The child closes them and opens its own.
    for layout in list(_all_layouts):
        spare = layout._spare
        for fd in spare.values():
            with suppress(OSError):
                os.close(fd)
        spare.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_spares_after_fork)


def _unlink_held_lock(fd: int, lock_path: str) -> None:
    """Unlink the lock file ``fd`` (held exclusively) if it still has the name ``lock_path``
    (a delete may have unlinked it already)."""
    try:
        held, named = os.fstat(fd), os.lstat(lock_path)
    except OSError:
        return
    if held.st_nlink and (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino):
        with suppress(FileNotFoundError):
            os.unlink(lock_path)




def _remove_if_abandoned(path: str) -> None:
    """Remove the temporary file or folder ``path`` if no live writer claims it."""
    # Read-write where allowed: an exclusive lock emulated by NFS needs it.
    fd = -1
    for flags in (os.O_RDWR, os.O_RDONLY, os.O_RDONLY | os.O_DIRECTORY):
        try:
            fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | O_CLOEXEC)
            break
        except (PermissionError, IsADirectoryError):
            continue
        except OSError:
            return  # gone meanwhile, or not a file this store makes
    if fd < 0:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # claimed by a live writer, or no locks here: never remove unproved
        # Still the file we locked under that name (a writer may have renamed it away).
        opened, named = os.fstat(fd), os.lstat(path)
        if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            return
        if stat.S_ISDIR(named.st_mode):
            import shutil  # here: only deletions of whole folders need it

            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        return
    finally:
        os.close(fd)


def _is_container_name(name: str) -> bool:
    try:
        validate_container_name(name)
    except InvalidName:
        return False
    return True
