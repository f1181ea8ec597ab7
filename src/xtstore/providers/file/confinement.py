"""Opening what a ``store-file`` name leads to, proved to stay inside its container.

Whatever a name leads to must stay inside its container: a symlink leading anywhere else
raises :class:`AccessDenied`. A path is opened with ``openat2(RESOLVE_NO_SYMLINKS)`` where
the kernel has it, which proves in the same call that no symlink is on the way; otherwise (or
when a symlink is on the way) it is opened and its real path checked.
"""

from __future__ import annotations

import errno
import os
import stat
from functools import partial

from xtstore.errors import AccessDenied, BlobNotFound, ContainerNotFound
from xtstore.localfiles.oscalls import (
    O_CLOEXEC,
    O_PATH,
    PROC_FD,
    LiveFolder,
    link_open_file,
    make_folders,
    open_folder,
    open_new_folder,
    open_without_symlinks,
    probe_without_symlinks,
    real_path_of,
)
from xtstore.providers.file.layout import Layout, name_clash

__all__ = ["Confinement"]

_NOT_THERE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG})
_BELOW_FLAGS = O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | O_CLOEXEC


class Confinement:
    """Opens, stats and links blob files and their folders of one :class:`Layout`, never
    beyond the container a name belongs to."""

    __slots__ = ("_layout", "_real_root")

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._real_root = layout.real_root

    def inside(self, fd: int, path: str, container: str, blob_path: str) -> int:
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

    def open(self, container: str, blob_path: str, snapshot: str | None = None,
             flags: int = os.O_RDONLY) -> int:
        """An fd of whatever the blob's name leads to, checked to be inside its container."""
        path = (f"{self._real_root}/{container}/{blob_path}" if snapshot is None
                else self._layout.snapshot_file(container, blob_path, snapshot))
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
            raise self._layout.not_found(container, blob_path, what) from None
        if snapshot is None:
            return self.inside(fd, path, container, blob_path)
        return fd

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None,
                  flags: int = os.O_RDONLY) -> tuple[int, os.stat_result]:
        """An fd of the blob's regular file (checked to be inside its container) and its stat."""
        fd = self.open(container, blob_path, snapshot, flags)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise self._layout.not_found(container, blob_path)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def stat_blob(self, container: str, blob_path: str) -> os.stat_result:
        """The blob file's stat. Raises :class:`BlobNotFound`, :class:`AccessDenied`."""
        fd, st = self.open_blob(container, blob_path, flags=O_PATH)
        os.close(fd)
        return st

    def is_blob(self, container: str, blob_path: str) -> bool:
        """Whether the name leads to a blob's regular file inside its container (False for a
        missing container). Raises :class:`AccessDenied` for a symlink leading out of it.

        Why not :meth:`stat_blob`: a missing blob is the common answer here, and needs
        neither the container check nor an exception; a blob reached without a symlink costs
        ``openat2``, ``fstat`` and ``close``."""
        fd = probe_without_symlinks(f"{self._real_root}/{container}/{blob_path}", O_PATH)
        if fd >= 0:
            try:
                return stat.S_ISREG(os.fstat(fd).st_mode)
            finally:
                os.close(fd)
        if -fd in _NOT_THERE:
            return False
        if fd != -errno.ELOOP:
            raise OSError(-fd, os.strerror(-fd), f"{self._real_root}/{container}/{blob_path}")
        try:  # a symlink on the way (or no openat2): opened and checked
            self.stat_blob(container, blob_path)
        except (BlobNotFound, ContainerNotFound):
            return False
        return True

    def clashes(self, container: str, blob_path: str) -> bool:
        """True if the name is taken in a way a file system cannot share: the blob path is a
        folder, or one of the folders above it is a blob."""
        if _is_folder(self._layout.blob_file(container, blob_path)):
            return True
        above = self._layout.blob_file(container, "")
        for segment in blob_path.split("/")[:-1]:
            above += segment
            try:
                if not stat.S_ISDIR(os.lstat(above).st_mode):
                    return True
            except OSError:
                return False  # missing: nothing below it can be in the way
            above += "/"
        return False

    def parent_of(self, container: str, blob_path: str, parent: str) -> LiveFolder:
        """The blob's parent folder ``parent`` (see :meth:`open_parent`), open for steps that
        a delete removing the folder meanwhile does not fail. The caller closes it."""
        return LiveFolder(partial(self.open_parent, container, blob_path, parent),
                          partial(self._make_folders, container, blob_path, parent))

    def open_parent(self, container: str, blob_path: str, parent: str) -> int:
        """An fd of the blob's parent folder ``parent``, created if missing, checked to be
        inside the container. The caller closes it."""
        fd = probe_without_symlinks(parent, O_PATH | os.O_DIRECTORY)
        if fd >= 0:
            return fd
        if fd == -errno.ENOENT:
            fd = self._make_parent(container, blob_path)
            if fd >= 0:
                return fd
        try:
            fd = os.open(parent, O_PATH | os.O_DIRECTORY | O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            self._make_folders(container, blob_path, parent)
            fd = os.open(parent, O_PATH | os.O_DIRECTORY | O_CLOEXEC)
        return self.inside(fd, parent, container, blob_path)

    def _make_parent(self, container: str, blob_path: str) -> int:
        """Make the blob's missing parent folder (and those above it) from the deepest
        folder that exists, each one relative to an fd of the folder above it, opened
        without following a symlink: an fd of the parent, or -1, with nothing open, where
        the way holds a symlink, a file or anything else :meth:`_make_folders` then sees to
        (and reports).

        Why: making folders by path first proved, with a ``realpath`` (one ``lstat`` per
        component of the whole path), that the deepest existing one is inside the
        container, then let ``makedirs`` stat each again; a new folder took 17 system calls
        where this takes 4 (``openat2`` of the folder above, ``mkdirat``, ``openat``,
        ``close``)."""
        segments = blob_path.split("/")[:-1]
        if not segments:
            return -1  # the parent is the container, which is missing
        top = f"{self._real_root}/{container}"
        depth = len(segments) - 1  # the parent itself is missing
        while True:
            fd = probe_without_symlinks(f"{top}/{'/'.join(segments[:depth])}" if depth
                                        else top, O_PATH | os.O_DIRECTORY)
            if fd >= 0:
                break
            if fd != -errno.ENOENT or not depth:
                return -1  # a file or symlink in the way, or no container: reported there
            depth -= 1
        try:
            for name in segments[depth:]:
                try:  # noqa: SIM105 (suppress() costs more, on every new folder)
                    os.mkdir(name, dir_fd=fd)
                except FileExistsError:
                    pass  # made by a concurrent write meanwhile
                # One name, never followed if a symlink: the folder opened is the one made.
                below = os.open(name, _BELOW_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = below
        except OSError:
            os.close(fd)
            return -1
        return fd

    def _make_folders(self, container: str, blob_path: str, parent: str) -> None:
        self._layout.require_container(container)
        existing = parent
        while not os.path.lexists(existing):
            existing = os.path.dirname(existing)
        real = os.path.realpath(existing)
        top = f"{self._real_root}/{container}"
        if real != top and not real.startswith(top + "/"):
            raise AccessDenied("a symlink in the store leads outside the container",
                               container=container, blob=blob_path)
        try:
            make_folders(parent)
        except (FileExistsError, NotADirectoryError):
            raise name_clash(container, blob_path) from None

    def link_blob(self, fd: int, container: str, blob_path: str, target: str, *,
                  new_folder: bool = False) -> None:
        """Hard-link the blob's file, open as ``fd``, to ``target`` (its folder made if
        missing, and again if a concurrent delete removes it meanwhile; ``new_folder``: it is
        often missing): through the fd where the system allows it, so the file checked is the
        file linked. Raises :class:`BlobNotFound` if the blob was deleted meanwhile."""
        folder, name = os.path.split(target)

        def link(folder_fd: int) -> None:
            if PROC_FD:
                try:
                    link_open_file(fd, name, folder_fd)
                    return
                except PermissionError:
                    pass
            os.link(self._layout.blob_file(container, blob_path), name, dst_dir_fd=folder_fd,
                    follow_symlinks=False)

        try:
            opener = open_new_folder if new_folder else open_folder
            with LiveFolder(partial(opener, folder), partial(make_folders, folder)) as live:
                live.run(link)
        except FileNotFoundError:
            if os.path.isdir(folder):
                raise self._layout.not_found(container, blob_path) from None
            raise


def _is_folder(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
