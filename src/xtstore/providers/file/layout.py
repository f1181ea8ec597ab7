"""Where ``store-file`` keeps everything under its root, and the container folders.

Layout (``root`` is the service's ``path``)::

    <root>/<container>/<blob path>                 the blobs, nothing else
    <root>/.xtstore/tmp/                           temporary files, renamed into place
    <root>/.xtstore/snapshots/<container>/<key>/<snapshot id>
    <root>/.xtstore/meta/<container>/<key>.json    blob metadata; container.json for the container
    <root>/.xtstore/locks/<container>/<key>        per-blob append locks

``<key>`` is a hash of the blob path. Container names never start with ``.``, so the
``.xtstore`` folder can never collide with a container and nothing in it is ever listed.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from xtstore.errors import (
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    InvalidName,
)
from xtstore.localfiles.oscalls import O_CLOEXEC
from xtstore.names import validate_container_name
from xtstore.providers._shared import name_clash

__all__ = ["INTERNAL", "SNAPSHOT_ID", "Layout", "key_of", "name_clash"]

INTERNAL = ".xtstore"
SNAPSHOT_ID = re.compile(r"[0-9]{20}-[0-9a-f]{8}")

_temp_numbers = itertools.count(1)
"""Numbers temporary files, shared by every instance in the process (``next`` is atomic)."""
_pid = [os.getpid()]
"""This process's id, kept so that naming a temporary file makes no system call."""
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def key_of(blob_path: str) -> str:
    """The name a blob's records, snapshots and lock file go by under ``.xtstore``."""
    return hashlib.blake2b(blob_path.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


class Layout:
    """The paths of one store's blobs, containers and internal files, the container folders
    themselves, and the per-blob locks."""

    __slots__ = ("internal", "real_root", "root", "tmp")

    def __init__(self, root: str) -> None:
        self.root = root
        """The root folder (absolute)."""
        self.internal = os.path.join(root, INTERNAL)
        self.tmp = os.path.join(self.internal, "tmp")
        # Only the root: a read-only store still serves reads; the rest is made on first write.
        os.makedirs(root, exist_ok=True)
        self.real_root = os.path.realpath(root)
        """The root with every symlink resolved: the top of every path checked to stay inside."""

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
        """A new name in ``.xtstore/tmp`` (the folder may not exist yet)."""
        return f"{self.tmp}/{_pid[0]:x}-{next(_temp_numbers):x}"

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
        self.require_container(container)
        os.makedirs(self.tmp, exist_ok=True)
        # Metadata goes first, as in a blob's delete.
        shutil.rmtree(self.area("meta", container), ignore_errors=True)
        try:
            # One rename makes the whole container disappear at once; removal follows.
            os.rename(self.container_dir(container), doomed)
        except FileNotFoundError:
            raise ContainerNotFound("container not found", container=container) from None
        shutil.rmtree(doomed, ignore_errors=True)
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
    def blob_lock(self, container: str, blob_path: str) -> Iterator[str]:
        """An exclusive ``flock`` on the blob's lock file, shared by every process; yields the
        lock file's path (only its holder may unlink it)."""
        lock_path = f"{self.internal}/locks/{container}/{key_of(blob_path)}"
        while True:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | O_CLOEXEC, 0o666)
            except FileNotFoundError:
                self.require_container(container)
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


def _is_container_name(name: str) -> bool:
    try:
        validate_container_name(name)
    except InvalidName:
        return False
    return True
