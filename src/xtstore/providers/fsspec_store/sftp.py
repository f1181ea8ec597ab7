"""store-fsspec over SFTP: fsspec's ``SFTPFileSystem`` (paramiko) made to keep what the
provider relies on, against OpenSSH's sftp-server (SFTP version 3).

SFTP v3 reports most failures as one status, ``SSH2_FX_FAILURE``, which paramiko raises as
an ``OSError`` with no errno: an exclusive create of a file that exists, a rename onto a
folder, a ``mkdir`` of a folder made meanwhile. The methods here find out what happened (one
``stat``) and raise what the local filesystem would (``FileExistsError``,
``IsADirectoryError``, ``NotADirectoryError``), which the provider's install and lock steps
are written against. Also:

* exclusive create (``open(path, "xb")``) is ``O_CREAT|O_EXCL`` on the server; fsspec's
  SFTP ``open`` passes ``"xb"`` on, which paramiko opens without write access;
* ``mv`` is OpenSSH's ``posix-rename`` (``rename(2)``: atomic, replacing the target);
* ``cp_file`` (fsspec's SFTP has none) is OpenSSH's ``copy-data`` extension, copied by the
  server; a server without it gets the bytes streamed through the client;
* ``cat_file`` with a range is one open and pipelined reads of just that range;
* SFTP v3 times are whole seconds and there is no inode number, so two writes of one size
  in one second looked alike: every ``mv`` (the install of a finished temporary file) sets
  the file's access time to a random second after its modification time, and the etag is
  ``mtime-atime-size``. Reads do not move an access time that is after the modification
  and change times (Linux's ``relatime`` and ``noatime``); a server mounted ``strictatime``
  would change the etag on reads.

paramiko's SFTP client must not be used by two threads at once (a thread reading a response
can drop another thread's); :class:`_SharedClient` makes one connection safe to share, its
requests taking turns. A forked child must not use its parent's connection (the socket is
shared, paramiko's transport thread is not): the provider connects again in a new process.
"""

from __future__ import annotations

import contextlib
import errno
import secrets
import threading
from stat import S_ISDIR
from typing import Any

import paramiko
from fsspec.implementations.sftp import SFTPFileSystem
from paramiko.message import Message
from paramiko.sftp import (
    CMD_EXTENDED,
    CMD_OPEN,
    CMD_STATUS,
    SFTP_FLAG_CREATE,
    SFTP_FLAG_EXCL,
    SFTP_FLAG_READ,
    SFTP_FLAG_TRUNC,
    SFTP_FLAG_WRITE,
    int64,
)
from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_client import SFTPClient
from paramiko.sftp_file import SFTPFile
from paramiko.ssh_exception import SSHException

__all__ = ["SftpFileSystem"]

_ATIME_SPREAD = 2**24
"""How far (seconds) after the modification time the access time stamped by ``mv`` may be."""

_COPY_CHUNK = 1 << 20

_ATTEMPTS = 20
"""Tries of an exclusive create or a mkdir that failed for a name found free afterwards."""


def _failed(error: OSError) -> bool:
    """SSH2_FX_FAILURE (or another status without an errno of its own)."""
    return error.errno is None


class SftpFileSystem(SFTPFileSystem):  # type: ignore[misc]  # fsspec has no type hints
    """``SFTPFileSystem`` with local-filesystem errors, exclusive create, ``cp_file``,
    ranged ``cat_file`` and etags (see the module's notes)."""

    def __init__(self, host: str, read_timeout: float | None = None, **ssh_kwargs: Any) -> None:
        self._read_timeout = read_timeout
        super().__init__(host, **ssh_kwargs)

    def _connect(self) -> None:
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(self.host_key_policy)
        self.client.connect(self.host, **self.ssh_kwargs)
        self.ftp = _SharedClient.from_transport(self.client.get_transport())
        if self._read_timeout is not None:
            self.ftp.get_channel().settimeout(self._read_timeout)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    # ---- what a failure was ----

    def _kind(self, path: str) -> str | None:
        try:
            return "directory" if self.info(path)["type"] == "directory" else "file"
        except FileNotFoundError:
            return None

    def _file_above(self, path: str) -> bool:
        parent = path.rpartition("/")[0]
        while parent:
            kind = self._kind(parent)
            if kind is not None:
                return kind == "file"
            parent = parent.rpartition("/")[0]
        return False

    # ---- files ----

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None,
              **kwargs: Any) -> Any:
        if "r" in mode:
            return self._open_for_reading(path, block_size)
        if "w" in mode and "+" not in mode and kwargs.get("autocommit", True):
            return self._open_for_writing(path, SFTP_FLAG_TRUNC, block_size)
        if "x" not in mode:
            return super()._open(path, mode, block_size=block_size, **kwargs)
        for attempt in range(_ATTEMPTS):
            try:
                # paramiko's "x" alone opens without write access: O_WRONLY|O_CREAT|O_EXCL.
                return self._open_for_writing(path, SFTP_FLAG_EXCL, block_size)
            except OSError as error:
                if not _failed(error):
                    raise
                if self._kind(path) is not None:
                    raise FileExistsError(errno.EEXIST, "file exists", path) from None
                if attempt == _ATTEMPTS - 1:
                    raise  # no file there, so not EEXIST
                # The file that was there has been removed since: try again.
        raise AssertionError("unreachable")

    def _open_for_writing(self, path: str, flag: int, block_size: int | None) -> Any:
        """A file open for writing (``flag``: truncate, or exclusive create) whose writes do
        not wait for their answers one by one (:class:`_PipelinedWrites`)."""
        _, answer = self.ftp._request(CMD_OPEN, self._strip_protocol(path),
                                      SFTP_FLAG_WRITE | SFTP_FLAG_CREATE | flag,
                                      SFTPAttributes())
        return _PipelinedWrites(self.ftp, answer.get_binary(), "wb", block_size or -1)

    def _open_for_reading(self, path: str, block_size: int | None = None) -> Any:
        """The file open for reading, with its ``size``; IsADirectoryError for a folder,
        which the server opens as a file (its reads then fail)."""
        _, answer = self.ftp._request(CMD_OPEN, self._strip_protocol(path), SFTP_FLAG_READ,
                                      SFTPAttributes())
        stream = _Reading(self.ftp, answer.get_binary(), "rb", block_size or -1)
        try:
            stat = stream.stat()
        except BaseException:
            stream.close()
            raise
        if stat.st_mode is not None and S_ISDIR(stat.st_mode):
            stream.close()
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)
        stream.size = stat.st_size
        return stream

    def cat_file(self, path: str, start: int | None = None, end: int | None = None,
                 **kwargs: Any) -> bytes:
        with self._open_for_reading(path) as stream:
            size = stream.size
            first = 0 if start is None else (start if start >= 0 else max(0, size + start))
            last = size if end is None else (end if end >= 0 else size + end)
            first, last = min(first, size), min(max(last, first), size)
            if last == first:
                return b""
            # One request per 32 KiB, sent before the answers are read.
            return b"".join(stream.readv([(first, last - first)]))

    def rm_file(self, path: str) -> None:
        path = self._strip_protocol(path)
        try:
            self.ftp.remove(path)
        except OSError as error:
            if _failed(error) and self._kind(path) == "directory":
                raise IsADirectoryError(errno.EISDIR, "is a directory", path) from None
            raise

    def rm(self, path: str, recursive: bool = False, maxdepth: int | None = None) -> None:
        # fsspec's removes every path, folders too, with rm_file.
        for found in reversed(self.expand_path(path, recursive=recursive, maxdepth=maxdepth)):
            self._rm(found)

    def _rm(self, path: str) -> None:
        if self.isdir(path):
            self.ftp.rmdir(self._strip_protocol(path))
        else:
            self.rm_file(path)

    def rmdir(self, path: str) -> None:
        path = self._strip_protocol(path)
        try:
            self.ftp.rmdir(path)
        except OSError as error:
            if not _failed(error):
                raise
            kind = self._kind(path)
            if kind == "file":
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", path) from None
            if kind is None:
                raise FileNotFoundError(errno.ENOENT, "no such folder", path) from None
            raise OSError(errno.ENOTEMPTY, "directory not empty", path) from None

    def makedirs(self, path: str, exist_ok: bool = False, mode: int = 511) -> None:
        # One stat when the folder is there (fsspec's looks at every folder from the root).
        path = self._strip_protocol(path).rstrip("/") or "/"
        kind = self._kind(path)
        if kind == "file" or (kind == "directory" and not exist_ok):
            raise FileExistsError(errno.EEXIST, "file exists", path)
        if kind == "directory":
            return
        parent = path.rpartition("/")[0]
        if parent:
            try:
                self.makedirs(parent, exist_ok=True)
            except FileExistsError:
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", path) from None
        for attempt in range(_ATTEMPTS):
            try:
                self.ftp.mkdir(path, mode)
                return
            except OSError as error:
                # Made meanwhile by another writer (EEXIST is a plain failure in SFTP v3),
                # and maybe removed again, empty, by a delete beside it.
                if not _failed(error) or attempt == _ATTEMPTS - 1:
                    raise
                kind = self._kind(path)
                if kind == "directory":
                    if not exist_ok:
                        raise FileExistsError(errno.EEXIST, "file exists", path) from None
                    return
                if kind == "file":
                    raise FileExistsError(errno.EEXIST, "file exists", path) from None

    def mv(self, old: str, new: str, **kwargs: Any) -> None:
        old, new = self._strip_protocol(old), self._strip_protocol(new)
        modified = self.ftp.stat(old).st_mtime
        if modified is not None:
            self.ftp.utime(old, (modified + 1 + secrets.randbelow(_ATIME_SPREAD), modified))
        try:
            self.ftp.posix_rename(old, new)
        except OSError as error:
            if _failed(error) and self._kind(new) == "directory":
                raise IsADirectoryError(errno.EISDIR, "is a directory", new) from None
            if isinstance(error, FileNotFoundError) and self._file_above(new):
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", new) from None
            raise

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        source, target = self._strip_protocol(path1), self._strip_protocol(path2)
        if self.isdir(source):
            self.makedirs(target, exist_ok=True)
            return
        with self.ftp.open(source, "rb") as reader, self.ftp.open(target, "wb") as writer:
            try:
                # copy-data: read handle, offset, length (0: to the end), write handle, offset.
                self.ftp._request(CMD_EXTENDED, "copy-data", reader.handle, int64(0), int64(0),
                                  writer.handle, int64(0))
                return
            except OSError as error:
                if "unsupported" not in str(error).lower():
                    raise
            while chunk := reader.read(_COPY_CHUNK):
                writer.write(chunk)

    @staticmethod
    def _decode_stat(stat: Any, parent_path: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = SFTPFileSystem._decode_stat(stat, parent_path)
        if out["type"] == "file":
            out["etag"] = f"{stat.st_mtime or 0:x}-{stat.st_atime or 0:x}-{stat.st_size or 0:x}"
        return out


class _Reading(SFTPFile):  # type: ignore[misc]  # paramiko has no type hints
    """A file open for reading whose ``seek`` returns the new position, as ``io``'s do
    (paramiko's returns None, which readers such as zipfile and pyarrow use)."""

    size: int
    """The file's size when it was opened (set by the opener)."""

    def seek(self, offset: int, whence: int = 0) -> int:
        # paramiko's takes a position before the start, which io refuses.
        start = {0: 0, 1: self.tell(), 2: self.size}.get(whence)
        if start is not None and start + offset < 0:
            raise ValueError(f"negative seek position {start + offset}")
        super().seek(offset, whence)
        position: int = self.tell()
        return position


class _PipelinedWrites(SFTPFile):  # type: ignore[misc]  # paramiko has no type hints
    """A file whose writes are sent without waiting for each answer, every answer checked:
    at most ``_IN_FLIGHT`` unanswered, all of them before ``close`` returns. (paramiko's own
    pipelined mode never reads the answers it did not wait for: a failed write went
    unnoticed; without it every 32 KiB write waits for its answer.)"""

    def __init__(self, sftp: Any, handle: bytes, mode: str, bufsize: int) -> None:
        super().__init__(sftp, handle, mode, bufsize)
        self.set_pipelined(True)

    def _write(self, data: Any) -> int:
        written: int = super()._write(data)
        while len(self._reqs) > _IN_FLIGHT:
            self._check_answer()
        return written

    def _check_answer(self) -> None:
        self.sftp._read_response(self._reqs.popleft())  # raises the write's failure

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.flush()
            while self._reqs:
                self._check_answer()
        finally:
            super().close()


_IN_FLIGHT = 64
"""Most writes of one file sent and not yet answered (64 x 32 KiB)."""


class _SharedClient(SFTPClient):  # type: ignore[misc]  # paramiko has no type hints
    """An SFTP client that threads can share. paramiko's reads whichever answer comes next
    and drops an answer to another thread's request when nobody waits for it yet (a write
    sends its request, then waits for the answer), and two threads' packets can interleave
    on the channel. Here one thread at a time reads answers, keeps those that are another
    thread's until it asks, and one thread at a time sends."""

    _KEPT_ANSWERS = 10_000
    """Most answers kept for their requester; the oldest beyond are dropped (the answer to
    a close sent by a collected file, which nobody waits for)."""

    def __init__(self, sock: Any) -> None:
        self._answers = threading.RLock()
        self._sending = threading.Lock()
        self._kept: dict[int, tuple[int, Message]] = {}
        super().__init__(sock)

    def _send_packet(self, t: int, packet: Any) -> None:
        with self._sending:
            super()._send_packet(t, packet)

    def _read_response(self, waitfor: int | None = None) -> Any:
        if waitfor is not None:
            with self._answers:
                return self._read_until(waitfor)
        if not self._answers.acquire(blocking=False):
            # Another thread is reading answers, maybe the very ones the caller waits for (a
            # file's read-ahead, or its pipelined writes' closing answers): once it is done,
            # the caller looks again before reading on for a packet that may never come.
            with self._answers:
                return None, None
        try:
            return self._read_until(None)
        finally:
            self._answers.release()

    def _read_until(self, waitfor: int | None) -> Any:
        """paramiko's ``_read_response``, under ``_answers``: the answer to ``waitfor`` (else
        one packet's work)."""
        if waitfor is not None and waitfor in self._kept:
            return self._answer(*self._kept.pop(waitfor))
        while True:
            try:
                t, data = self._read_packet()
            except EOFError as error:
                raise SSHException(f"Server connection dropped: {error}") from None
            msg = Message(data)
            num = msg.get_int()
            with self._lock:
                fileobj = self._expecting.pop(num, _UNKNOWN)
            if num == waitfor and fileobj is not _UNKNOWN:
                return self._answer(t, msg)
            if fileobj is type(None):
                self._kept[num] = (t, msg)  # another thread's; it will ask for it
                if len(self._kept) > self._KEPT_ANSWERS:
                    del self._kept[next(iter(self._kept))]
            elif fileobj is not _UNKNOWN:
                fileobj._async_response(t, msg, num)  # read ahead for a file
            if waitfor is None:
                return None, None

    def _finish_responses(self, fileobj: Any) -> None:
        # paramiko's looks through the requests while other threads add theirs.
        while True:
            with self._lock:
                waiting = any(expected is fileobj for expected in self._expecting.values())
            if not waiting:
                return
            self._read_response()
            fileobj._check_exception()

    def _answer(self, t: int, msg: Message) -> tuple[int, Message]:
        if t == CMD_STATUS:
            self._convert_status(msg)
        return t, msg


_UNKNOWN = object()
