"""The OS calls under local files (``O_TMPFILE``, ``openat2``, ``renameat2``,
``copy_file_range``, ``linkat`` of an open file) with their fallbacks, and file-descriptor
helpers built on them: whole reads and writes, copies, and the real path of an open file.
Imports only the standard library (:mod:`xtstore.localfiles.atomic` builds on this one)."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import platform
import stat
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

__all__ = [
    "CLONE_FROM",
    "FOLDER_ROUNDS",
    "O_CLOEXEC",
    "O_PATH",
    "PROC_FD",
    "PROGRESS_CHUNK",
    "LiveFolder",
    "clone_file",
    "copy_exact",
    "copy_fd",
    "copy_whole",
    "exchange_regular_file",
    "link_open_file",
    "make_folders",
    "open_folder",
    "open_new_folder",
    "open_unnamed",
    "open_unnamed_in",
    "open_without_symlinks",
    "probe_without_symlinks",
    "read_all",
    "real_path_of",
    "unlink_quietly",
    "unnamed_files",
    "write_all",
]

O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
O_PATH: int = getattr(os, "O_PATH", os.O_RDONLY)
"""Open for stat/link only (Linux); plain read-only elsewhere."""
PROC_FD = os.path.isdir("/proc/self/fd")

PROGRESS_CHUNK = 16 * 1024 * 1024
"""Bytes between two progress callbacks (and the size of a copy step)."""

_BUFFER_SIZE = 1024 * 1024
_NO_FAST_PATH = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.ENOTSUP}
)
_FIRST_READ = 64 * 1024
_FADVISE_FROM = 1024 * 1024
"""Smaller copies finish within the kernel's default read-ahead: the hint is a wasted call."""
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _load_renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def exchange_regular_file(source: str, dir_fd: int, name: str) -> bool:
    """Atomically swap ``source`` with the regular file ``name`` in the folder ``dir_fd``
    (``renameat2(RENAME_EXCHANGE)``); afterwards ``source`` holds the old file. False, with
    nothing changed, if ``name`` is not a regular file or the system cannot swap.

    Why: renaming a big new file over an existing one makes ext4 start writing the new file
    out at once (``auto_da_alloc``) and wait for it; a swap followed by an unlink of the old
    file does not, which halves the time to replace a large blob.
    """
    if _renameat2 is None:
        return False
    try:
        if not stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            return False
    except OSError:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(source), dir_fd, os.fsencode(name),
                        _RENAME_EXCHANGE)
    return result == 0


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


_SYS_OPENAT2 = 437
"""The same number on every Linux architecture listed in _OPENAT2_MACHINES (the syscall
tables were unified before openat2 was added in Linux 5.6)."""
_OPENAT2_MACHINES = frozenset({"x86_64", "amd64", "aarch64", "arm64", "riscv64", "ppc64le",
                               "s390x"})
_RESOLVE_NO_SYMLINKS = 0x04


def _load_syscall() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux") or platform.machine().lower() not in _OPENAT2_MACHINES:
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syscall
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_long
    return function


_syscall = [_load_syscall()]
"""libc's ``syscall``, or None once the system has shown it has no usable ``openat2``."""
_HOW_SIZE = ctypes.sizeof(_OpenHow)
_NO_OPENAT2 = frozenset({errno.ENOSYS, errno.EPERM, errno.E2BIG, errno.EINVAL})
_open_hows: dict[int, Any] = {}
"""openat2's argument per set of flags, built once (the few flag sets used never change)."""


def open_without_symlinks(path: str, flags: int) -> int | None:
    """``os.open(path, flags | O_CLOEXEC)``, refusing to follow any symlink on the way
    (``openat2`` with ``RESOLVE_NO_SYMLINKS``). None, with nothing opened, if the path holds a
    symlink or the system has no ``openat2``: the caller then opens it the usual way and
    checks where it led. Other failures raise ``OSError`` as ``os.open`` does.

    Why: one system call both opens and proves the file is reached without symlinks, where
    opening and then reading ``/proc/self/fd/N`` back takes two.
    """
    fd = probe_without_symlinks(path, flags)
    if fd >= 0:
        return fd
    if fd == -errno.ELOOP:
        return None
    raise OSError(-fd, os.strerror(-fd), path)


def probe_without_symlinks(path: str, flags: int) -> int:
    """:func:`open_without_symlinks` for a caller that mostly meets missing files: the fd,
    or minus the error number instead of an exception (``-ENOENT`` for a missing file), and
    ``-ELOOP`` where the path holds a symlink or the system has no ``openat2`` (the caller
    then opens it the usual way and checks where it led).

    Why: raising and catching ``FileNotFoundError`` costs more than the system call that
    found the file missing (``does_blob_exist`` of a missing blob)."""
    call = _syscall[0]
    if call is None:
        return -errno.ELOOP
    how = _open_hows.get(flags)
    if how is None:
        how = _open_hows[flags] = ctypes.byref(
            _OpenHow(flags | O_CLOEXEC, 0, _RESOLVE_NO_SYMLINKS))
    fd = call(_SYS_OPENAT2, _AT_FDCWD, path.encode("utf-8", "surrogateescape"), how, _HOW_SIZE)
    if fd >= 0:
        return int(fd)
    code = ctypes.get_errno()
    if code in _NO_OPENAT2:
        # An old kernel, a seccomp filter, or flags this kernel's openat2 does not take: the
        # checked open works everywhere, so use it from now on.
        _syscall[0] = None
        return -errno.ELOOP
    return -code


unnamed_files = [bool(getattr(os, "O_TMPFILE", 0)) and PROC_FD]
"""Whether writes try unnamed files at all (Linux with /proc); tests switch it off to run the
named-file path."""
_refusing_devices: set[int] = set()
"""File systems (``st_dev``) that refused ``O_TMPFILE``: not asked again."""
_NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOTSUP})


def open_unnamed(folder_fd: int) -> int | None:
    """A new unnamed file (``O_TMPFILE``), open for writing and reading back (a download's
    integrity check reads it before it is named), in the folder ``folder_fd``; give
    it a name with :func:`link_open_file`, or close it to make it vanish. None, with nothing
    done, where the system or that folder's file system cannot make one."""
    if not unnamed_files[0]:
        return None
    # No fstat in the usual case: only a refusal makes devices worth telling apart.
    if _refusing_devices and os.fstat(folder_fd).st_dev in _refusing_devices:
        return None
    try:
        return os.open(".", os.O_TMPFILE | os.O_RDWR | O_CLOEXEC, 0o666, dir_fd=folder_fd)
    except OSError as error:
        if error.errno not in _NO_TMPFILE:
            raise
        _refusing_devices.add(os.fstat(folder_fd).st_dev)
        return None


def open_unnamed_in(folder: str) -> tuple[int, int] | None:
    """An fd of ``folder`` (created if missing) and of a new unnamed file in it (see
    :func:`open_unnamed`), made in the folder made again if a concurrent delete removes it
    meanwhile (see :class:`LiveFolder`); the caller closes both. None, with nothing open,
    where the system cannot make one."""
    if not unnamed_files[0]:
        return None
    live = LiveFolder(partial(open_folder, folder), partial(make_folders, folder))
    try:
        fd = live.run(open_unnamed)
    except BaseException:
        live.close()
        raise
    if fd is None:
        live.close()
        return None
    return live.fd, fd


FOLDER_ROUNDS = 64
"""How many times a step is tried in a folder that concurrent deletes keep removing (see
:class:`LiveFolder`, :func:`make_folders`): each round needs a new removal within a few
system calls, and the rounds wait longer and longer (:func:`_after_removal`, 4.4 s in all at
most), so this many in a row means something else is wrong."""


def _after_removal(rounds_left: int) -> None:
    """Wait a random moment, longer each round, before making a removed folder again: a
    deleter pruning the folder in a loop (two threads writing beside deletes, on a busy
    machine) is not outrun by retrying at once."""
    done = FOLDER_ROUNDS - rounds_left
    if done > 2:
        import random  # here only: a rare path, not worth an import in every start-up

        time.sleep(random.uniform(0, min(0.0001 * 2 ** done, 0.08)))


_REMOVED_FOLDER = frozenset({errno.ENOENT, errno.EPERM})
"""What a new name in a removed folder fails with (``linkat``, ``renameat``, ``openat``
with ``O_CREAT``, ``mkdirat``: ENOENT), and an ``O_TMPFILE`` open there on ext4 (EPERM)."""

_T = TypeVar("_T")


def open_folder(path: str) -> int:
    """An ``O_PATH`` fd of the folder ``path``, made first if missing (see
    :func:`make_folders`)."""
    flags = O_PATH | os.O_DIRECTORY | O_CLOEXEC
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        make_folders(path)
        return os.open(path, flags)


def open_new_folder(path: str) -> int:
    """:func:`open_folder` for a folder that is often not there yet: a ``mkdir`` first, which
    fails if it is, spares the failed open."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        make_folders(path)
    return os.open(path, O_PATH | os.O_DIRECTORY | O_CLOEXEC)


def make_folders(path: str) -> None:
    """``os.makedirs(path, exist_ok=True)`` that a concurrent removal of the folders it
    makes does not fail: ``makedirs`` raises ``FileExistsError`` for a folder removed
    between its ``mkdir`` and its check that a folder is there, and ``FileNotFoundError``
    when one is removed before it makes the next one below it; the folders are made again
    then, :data:`FOLDER_ROUNDS` times at most. A file in the way raises as with
    ``makedirs``."""
    rounds = FOLDER_ROUNDS
    while True:
        try:
            os.makedirs(path, exist_ok=True)
            return
        except (FileExistsError, FileNotFoundError):
            # One stat: two checks (is it there, is it a folder) could straddle another
            # removal or making of it.
            try:
                found = os.stat(path).st_mode
            except FileNotFoundError:
                found = None  # removed again: make it again
            if found is not None:
                if stat.S_ISDIR(found):
                    return  # made again by someone else meanwhile
                raise
            rounds -= 1
            if not rounds:
                raise
            _after_removal(rounds)


class LiveFolder:
    """An open folder (``fd``) in which a concurrent delete may remove every folder it leaves
    empty, for steps that each make one new name in it (a link, a rename, a new file).

    A step that fails because the folder was removed under it (the kernel refuses every new
    entry in a removed folder, so such a step did nothing) is repeated in the folder made and
    opened again, :data:`FOLDER_ROUNDS` times at most. Only a failure costs a check
    (``fstat``: a removed folder has no links), so a step without a race costs nothing more
    than the step itself."""

    __slots__ = ("_make", "_open", "fd")

    def __init__(self, open_: Callable[[], int], make: Callable[[], None]) -> None:
        """``open_()`` opens the folder, making it (and the folders above it) if missing;
        ``make()`` makes them. Raises what ``open_`` raises."""
        self._open = open_
        self._make = make
        self.fd = -1
        self._reopen()

    def _reopen(self) -> None:
        rounds = FOLDER_ROUNDS
        while True:
            try:
                self.fd = self._open()
                return
            except FileNotFoundError:
                # Made, then removed before it was opened.
                rounds -= 1
                if not rounds:
                    raise

    def run(self, step: Callable[[int], _T]) -> _T:
        """``step(fd)``, repeated in the folder made again while a removal of the folder
        makes it fail. Raises what the step raises otherwise."""
        rounds = FOLDER_ROUNDS
        while True:
            try:
                return step(self.fd)
            except OSError as error:
                rounds -= 1
                if (not rounds or error.errno not in _REMOVED_FOLDER
                        or os.fstat(self.fd).st_nlink):
                    raise
            _after_removal(rounds)
            self.close()
            # Made before it is opened: while the removal is still under way, the removed
            # folder can still be found (and opened) at its path; a mkdir waits for the
            # removal to end, then makes a new one.
            self._make()
            self._reopen()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> LiveFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def link_open_file(fd: int, name: str, dir_fd: int) -> None:
    """Hard-link the open file ``fd`` (even an unnamed ``O_TMPFILE``) to ``name``, relative to
    the folder ``dir_fd`` unless absolute: the link is made to the very file that is open,
    whatever happened to its name meanwhile. Linux only (``PROC_FD``); raises ``OSError`` as
    ``os.link`` does."""
    # Given a dir_fd, os.link calls linkat(AT_SYMLINK_FOLLOW), which follows /proc's magic
    # link to the open file; without one it calls link(), which would link the link itself.
    # (A kept fd of /proc/self/fd would spare ~1 us, but if the program closed it and the
    # number were reused by some other folder, a link would take a file from there.)
    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd)


def real_path_of(fd: int, fallback: str) -> str:
    """The canonical path of the open file ``fd`` (``fallback``'s realpath where the system
    cannot tell)."""
    if PROC_FD:
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return os.path.realpath(fallback)


def unlink_quietly(path: str) -> None:
    """Remove ``path`` if it is there."""
    # try/except, not contextlib.suppress: this runs on every write, mostly on a missing file.
    try:  # noqa: SIM105
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_exact(source: int, dest: int, total: int,
               progress: Callable[[int, int], object] | None) -> None:
    """Copy exactly ``total`` bytes; ``OSError(EIO)`` if ``source`` ends early."""
    if total >= _FADVISE_FROM and hasattr(os, "posix_fadvise"):
        with suppress(OSError):  # a read-ahead hint, as cp gives; pipes refuse it
            os.posix_fadvise(source, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    copied = copy_fd(source, dest, total, progress)
    if copied != total:
        raise OSError(errno.EIO, f"source ended after {copied} of {total} bytes")


_FICLONE = 0x40049409
"""``_IOW(0x94, 9, int)``: make the target share all of the source's extents (Linux)."""
CLONE_FROM = 1024 * 1024
"""Smaller whole-file copies are not tried as reflinks: copying them costs about what the
extra system call would."""
_NO_CLONE = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EINVAL,
                       errno.ENOTTY, errno.ENOSYS, errno.EPERM, errno.EBADF, errno.ETXTBSY})
"""How ``FICLONE`` refuses, having changed nothing: a file system without shared extents
(ext4, tmpfs), two file systems, a file it cannot clone."""


def clone_file(source: int, dest: int) -> bool:
    """Make the empty file ``dest`` share every extent of ``source`` (a reflink: ``FICLONE``,
    on btrfs, XFS with ``reflink=1``, bcachefs...): O(1), and a later write to either file
    gets its own copy of the blocks it changes. False, with nothing changed, where the file
    system (or the system) cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fcntl.ioctl(dest, _FICLONE, source)
    except OSError as error:
        if error.errno in _NO_CLONE:
            return False
        raise
    return True


def copy_whole(source: int, dest: int, total: int,
               progress: Callable[[int, int], object] | None) -> None:
    """:func:`copy_exact` of a whole file (``source`` at offset 0, ``total`` its size) into the
    new empty file ``dest``: a reflink (:func:`clone_file`) where the file system shares
    extents, else copied; both offsets end at ``total``, as after a copy."""
    if total >= CLONE_FROM and clone_file(source, dest):
        if progress is not None:
            progress(0, total)
        size = os.fstat(dest).st_size
        if size < total:  # the source was cut meanwhile: as a copy, it ended early
            raise OSError(errno.EIO, f"source ended after {size} of {total} bytes")
        if size > total:  # it grew meanwhile: as a copy, the first total bytes
            os.ftruncate(dest, total)
        os.lseek(source, total, os.SEEK_SET)
        os.lseek(dest, total, os.SEEK_SET)
        if progress is not None:
            progress(total, total)
        return
    copy_exact(source, dest, total, progress)


def read_all(fd: int) -> bytes:
    """Everything from the current offset to the end. Raises ``IsADirectoryError`` for a
    folder."""
    # Most blobs fit in the first read, which saves an fstat; a short read of a regular file
    # means its end.
    first = os.read(fd, _FIRST_READ)
    if len(first) < _FIRST_READ:
        return first
    remaining = os.fstat(fd).st_size - len(first)
    chunks = [first]
    while chunk := os.read(fd, max(remaining + 1, _FIRST_READ)):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def copy_fd(
    source: int,
    dest: int,
    total: int,
    progress: Callable[[int, int], object] | None = None,
) -> int:
    """Copy ``total`` bytes from the current offsets of ``source`` to ``dest`` and return how
    many were copied (fewer if ``source`` ends early).

    Uses the kernel's copy paths (``copy_file_range``, then ``sendfile``) so no data passes
    through Python, with a bounded read/write loop as the fallback. ``progress(done, total)`` is
    called at the start and after every :data:`PROGRESS_CHUNK` bytes.
    """
    if progress is not None:
        progress(0, total)
    done = 0
    methods: list[Callable[[int, int, int], int]] = []
    if hasattr(os, "copy_file_range"):
        methods.append(lambda s, d, n: os.copy_file_range(s, d, n))
    if hasattr(os, "sendfile"):
        methods.append(lambda s, d, n: os.sendfile(d, s, None, n))
    methods.append(_read_write)
    method = methods.pop(0)
    while done < total:
        step = min(PROGRESS_CHUNK, total - done)
        try:
            copied = method(source, dest, step)
        except OSError as error:
            if error.errno not in _NO_FAST_PATH or not methods or done:
                raise
            method = methods.pop(0)
            continue
        if copied == 0:
            break
        done += copied
        if progress is not None:
            progress(done, total)
    return done


def _read_write(source: int, dest: int, count: int) -> int:
    done = 0
    while done < count:
        chunk = os.read(source, min(_BUFFER_SIZE, count - done))
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            view = view[os.write(dest, view) :]
        done += len(chunk)
    return done
