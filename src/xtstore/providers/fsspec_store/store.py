"""``store-fsspec``: any fsspec filesystem URL as a store (``memory://``, ``file://``,
``sftp://host/base``, ``gcs://bucket/base``, ...).

Layout under the URL's base path ``<base>``:

* ``<base>/<container>/<blob path>``: the blobs, so the folder stays readable by other tools;
* ``<base>/.xtstore/``: everything else, out of every container's namespace (container names
  cannot start with ``.``): container records with their metadata, blob metadata, snapshot
  copies, per-blob locks and temporary uploads.

fsspec promises no atomic rename, link or compare-and-swap across backends, so the guarantees
rest on two primitives most backends have: exclusive create (``open(..., "xb")``) and ``mv``.
Writes go to a temporary file and are moved into place; create-only writes and appends hold
a per-blob lock made by exclusive create (broken when older than ``lock-timeout`` seconds, for
writers that died). A backend without exclusive create
reports conditional writes and appends ``UNSUPPORTED``, and those calls raise ``Unsupported``.

Where folders are real (``file://``, ``memory://``, SFTP: a file cannot be made below a file,
which the provider probes once), a name cannot be both a blob and a folder, as on store-file:
every blob write passes one install step (:meth:`FsspecProvider._install_blob`) that refuses
a name that is a folder, or lies below a blob, with the name-clash ``BlobAlreadyExists`` and
nothing changed; reads of such a name are ``BlobNotFound``. Object stores (``s3://``,
``gcs://``) are flat: ``f`` and ``f/x`` are two keys, both blobs.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import IO, Any

from xtstore.describe import Timeouts
from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ConfigError,
    ContainerAlreadyExists,
    ContainerNotFound,
    StoreError,
    TransientError,
    Unsupported,
)
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.listing import iter_infos, iter_names, list_prefix, select
from xtstore.localfiles.oscalls import PROGRESS_CHUNK
from xtstore.providers._public import provider_store_class
from xtstore.providers._shared import (
    Expected,
    name_clash,
    new_snapshot_id,
    snapshot_created,
    to_bytes,
    verified_local_file,
)
from xtstore.providers.fsspec_store.description import DESCRIPTION
from xtstore.secrets import redact, values_named_secret
from xtstore.secrets import register as register_secrets
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
    Support,
    datetime_from_ns,
)
from xtstore.writer import BlobWriter

__all__ = ["FsspecProvider", "FsspecStore"]

_RESERVED = ".xtstore"
_LOCK_POLL = 0.005
_LOCK_POLL_MAX = 0.1


_MEMORY_GUARD = threading.Lock()
"""memory:// decides an exclusive create by looking first and adding the file when it is
closed, so two threads could both create one lock, and the install of a blob looks whether
its name is free before it moves the file there; its files live in this process only, so
one lock held over the look and the act makes each atomic."""

WRITER_PART_SIZE = 4 * 2**20
"""Bytes a writable open_blob holds before writing them to its temporary file."""

_RECONNECTING = threading.Lock()
"""Held while a forked child connects again (see FsspecProvider.fs)."""

_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
"""What reading a name that holds no blob raises on a filesystem with folders: nothing is
there, a blob is above it (file://: NotADirectoryError), or it is a folder."""

_IN_THE_WAY = (IsADirectoryError, NotADirectoryError, FileExistsError)
"""What moving a file to a blob's name raises (file://) when a folder is at the name or a
blob is above it: making the parent folders finds a blob (FileExistsError, or
NotADirectoryError further up), the rename finds a folder (IsADirectoryError)."""

_INSTALL_ATTEMPTS = 20
"""Moves of a file into place (a blob, a record, a lock, a snapshot) made again when a delete
removed its folder, empty, meanwhile."""

_SFTP_PROTOCOLS = frozenset({"sftp", "ssh"})
"""URL protocols served by xtstore's SftpFileSystem (fsspec's own, with the fixes there)."""

_RECORD_WAITS = 1000
"""Reads of an empty record, 1 ms apart, before it is taken as broken (see _read_json)."""


def _sftp_timeouts(timeouts: Timeouts) -> dict[str, Any]:
    # paramiko: the TCP connect, the server's banner and the login, then (read_timeout,
    # xtstore's SftpFileSystem) every wait for an answer on the SFTP channel.
    return {"timeout": timeouts.connect, "banner_timeout": timeouts.connect,
            "auth_timeout": timeouts.read, "read_timeout": timeouts.read}


_TIMEOUT_OPTIONS: dict[str, Callable[[Timeouts], dict[str, Any]]] = {
    # ftplib has one socket timeout, for connecting and for every read.
    "ftp": lambda timeouts: {"timeout": max(timeouts.connect, timeouts.read)},
    "sftp": _sftp_timeouts,
    "ssh": _sftp_timeouts,
}
"""The filesystem options that carry the service's timeouts, per URL protocol."""


def _protocol(url: str) -> str | None:
    """The protocol of a plain (not chained) URL."""
    return url.split("://", 1)[0] if "://" in url and "::" not in url else None


def _timeout_options(url: str, config: Mapping[str, Any], service: str) -> dict[str, Any]:
    """The options that give the filesystem of ``url`` the service's ``timeout``. Raises
    ``ConfigError`` for a ``timeout`` given to a filesystem that takes none from here."""
    timeouts = Timeouts.of_service(DESCRIPTION, config)
    make = _TIMEOUT_OPTIONS.get(_protocol(url) or "")
    if make is not None:
        return make(timeouts)
    if config.get("timeout") not in (None, ""):
        protocols = ", ".join(f"{protocol}://" for protocol in _TIMEOUT_OPTIONS)
        raise ConfigError(
            f"store-fsspec gives 'timeout' only to {protocols} filesystems;"
            " for this one, give its own timeout option under 'options'",
            key_path="timeout", service=service)
    return {}


def _open_filesystem(url: str, options: dict[str, Any]) -> tuple[Any, str, Any]:
    """The filesystem of ``url``, the base path, and for SFTP how to connect again (in a
    forked child). An ``sftp://`` URL gets xtstore's SftpFileSystem; any other URL the
    filesystem fsspec registered."""
    import fsspec

    if _protocol(url) not in _SFTP_PROTOCOLS:
        filesystem, base = fsspec.core.url_to_fs(url, **options)
        return filesystem, base, None
    from xtstore.providers.fsspec_store.sftp import SftpFileSystem

    arguments = {**SftpFileSystem._get_kwargs_from_urls(url), **options}

    def connect() -> Any:
        # Not fsspec's instance cache: it would hand a forked child the parent's connection.
        return SftpFileSystem(skip_instance_cache=True, **arguments)

    return connect(), SftpFileSystem._strip_protocol(url), connect


class FsspecProvider(StoreInterface):
    """Config keys: ``url`` (required), ``options`` (a mapping passed to the filesystem),
    ``lock-timeout`` (seconds after which a lock left by a dead writer is broken; default 60),
    ``timeout`` (``{connect, read}``, for the filesystems in ``_TIMEOUT_OPTIONS``).

    Raises :class:`ConfigError` for a missing ``url`` or an unknown protocol.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        from fsspec.implementations.local import LocalFileSystem
        from fsspec.implementations.memory import MemoryFileSystem

        self._service = str(config.get("name", "fsspec"))
        url = config.get("url")
        if not isinstance(url, str) or not url:
            raise ConfigError("store-fsspec needs a 'url' (e.g. 'memory://base')",
                              key_path="url", service=self._service)
        options = dict(config.get("options") or {})
        # The filesystem's SDK (s3fs, adlfs, ...) may log them; a used-bare provider too.
        register_secrets(values_named_secret(options))
        for option, value in _timeout_options(url, config, self._service).items():
            options.setdefault(option, value)  # the filesystem's own option, if given, wins
        try:
            self._fs, base, self._reconnect = _open_filesystem(url, options)
            self._pid = os.getpid()
        except (ImportError, ValueError) as error:
            raise ConfigError(f"cannot open {redact(repr(url))}: {redact(str(error))}",
                              key_path="url", service=self._service) from None
        except OSError as error:
            if error.filename is not None:
                raise  # a local path the settings name: the registry says which key
            # A filesystem that connects when it is made (ftp://): unreachable, or too slow.
            raise TransientError(f"cannot open {redact(repr(url))}: {redact(str(error))}",
                                 service=self._service) from None
        except Exception as error:
            opening = self._translate_ssh(error)
            if opening is None:
                raise
            raise type(opening)(f"cannot open {redact(repr(url))}: {opening}",
                                service=self._service) from None
        self._base = base.rstrip("/")
        fs = self._fs
        # memory:// opens a file for reading by handing out the one stored file object,
        # whose position every reader shares: two threads reading at once got empty bytes.
        self._shared_read_handles = isinstance(fs, MemoryFileSystem)
        self._memory_guard: contextlib.AbstractContextManager[Any] = (
            _MEMORY_GUARD if self._shared_read_handles else contextlib.nullcontext()
        )
        # fsspec's local mv is shutil.move, which moves a file INTO a folder of the blob's
        # name; os.replace refuses that (and a blob above the name) atomically.
        self._os_rename = isinstance(fs, LocalFileSystem)
        # SFTP's mv is rename(2) on the server (xtstore's SftpFileSystem), which refuses a
        # folder at the name as os.replace does.
        self._posix_rename = self._reconnect is not None
        self._lock_timeout = float(config.get("lock-timeout", 60))
        self._exclusive_create: bool | None = None
        self._folders: bool | None = None

    @property
    def fs(self) -> Any:
        """The filesystem; over SFTP, a connection of this process's own."""
        if self._reconnect is not None and self._pid != os.getpid():
            with _RECONNECTING:
                if self._pid != os.getpid():
                    self._fs = self._reconnect()
                    self._pid = os.getpid()
        return self._fs

    # ---- paths ----

    def _join(self, *parts: str) -> str:
        return "/".join((self._base, *parts)) if self._base else "/".join(parts)

    def _blob(self, container: str, blob_path: str) -> str:
        return self._join(container, blob_path)

    def _record(self, container: str) -> str:
        return self._join(_RESERVED, "containers", container + ".json")

    def _meta(self, container: str, blob_path: str) -> str:
        return self._join(_RESERVED, "meta", container, blob_path + ".json")

    def _snapshots(self, container: str, blob_path: str) -> str:
        return self._join(_RESERVED, "snapshots", container, blob_path)

    def _lock(self, container: str, blob_path: str) -> str:
        return self._join(_RESERVED, "locks", container, blob_path + ".lock")

    def _temp(self) -> str:
        return self._join(_RESERVED, "tmp", uuid.uuid4().hex)

    # ---- low-level helpers ----

    def _read_json(self, path: str) -> dict[str, Any] | None:
        # A record made create-only (open "xb", then write) is empty for a moment, on the
        # local and memory filesystems alike: wait for its writer rather than fail.
        for _ in range(_RECORD_WAITS):
            try:
                body = self.fs.cat_file(path)
            except FileNotFoundError:
                return None
            if body:
                break
            time.sleep(0.001)
        result: dict[str, Any] = json.loads(body)
        return result

    def _new_temp(self) -> str:
        """A new temporary name in ``.xtstore/tmp`` (the folder is made)."""
        temp = self._temp()
        self.fs.makedirs(self.fs._parent(temp), exist_ok=True)
        return temp

    def _write_temp(self, data: bytes) -> str:
        """A new temporary file holding ``data``."""
        temp = self._new_temp()
        with self.fs.open(temp, "wb") as stream:
            stream.write(data)
        return temp

    def _write_file(self, path: str, data: bytes) -> None:
        """Whole-or-nothing write of an internal record: a temporary file moved into place."""
        self._move_into_place(self._write_temp(data), path)

    def _create_exclusive(self, path: str, data: bytes) -> None:
        """Create ``path`` holding ``data``; FileExistsError if it exists."""
        with self._memory_guard, self.fs.open(path, "xb") as stream:
            stream.write(data)

    def _move_into_place(self, temp: str, path: str) -> None:
        try:
            self._into_folder(path, lambda: self.fs.mv(temp, path),
                              still_there=lambda: bool(self.fs.exists(temp)))
        except BaseException:
            self._discard(temp)
            raise

    def _into_folder(self, path: str, put: Callable[[], object],
                     still_there: Callable[[], bool]) -> None:
        """Make ``path``'s folder and ``put`` a file at ``path``; again if either finds a
        folder missing while ``put``'s source is ``still_there``: a delete of a blob beside
        it removed the folder, empty, in between (:meth:`_prune`)."""
        for attempt in range(_INSTALL_ATTEMPTS):
            try:
                self._make_folder(self.fs._parent(path))
                put()
                return
            except FileNotFoundError:
                if attempt == _INSTALL_ATTEMPTS - 1 or not still_there():
                    raise

    def _make_folder(self, folder: str) -> None:
        """``fs.makedirs(folder, exist_ok=True)``, again when it raises FileExistsError with
        no file in the way: os.makedirs does if a delete removes the folder between its
        mkdir's EEXIST and its look at what is there. A file at or above ``folder`` raises."""
        for attempt in range(_INSTALL_ATTEMPTS):
            try:
                self.fs.makedirs(folder, exist_ok=True)
                return
            except FileExistsError:
                kind = self._kind(folder)
                if kind == "directory":
                    return
                if kind == "file" or attempt == _INSTALL_ATTEMPTS - 1:
                    raise

    def _prune(self, top: str, folder: str) -> None:
        """Remove ``folder`` and the folders above it, deepest first, while they are empty,
        up to ``top`` (kept), where folders are real (as store-file does). A delete leaving
        them behind made them pile up: memory:// keeps every folder in one list that most of
        its calls read through, so each call got slower with every folder name ever
        deleted. Writers make a removed folder again (:meth:`_into_folder`,
        :meth:`_install_blob`)."""
        if not self._has_folders():
            return
        with self._memory_guard:
            while folder.startswith(top + "/"):
                try:
                    self.fs.rmdir(folder)
                except FileNotFoundError:
                    pass  # gone already, or (memory://) there only by the files below it
                except OSError:
                    return  # not empty
                except KeyError:
                    # memory://'s emptiness check listed a file that a delete, which takes
                    # no guard, removed before the check read it: look again.
                    continue
                folder = folder.rpartition("/")[0]

    def _discard(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    # ---- the install step of every blob write ----

    def _install_blob(self, temp: str, container: str, blob_path: str) -> None:
        """Give the finished temporary file ``temp`` the blob's name; ``temp`` is gone
        afterwards, also on failure. Where folders are real, a name that is a folder (an
        empty one is removed first) or lies below a blob raises the name clash, with
        nothing changed."""
        path = self._blob(container, blob_path)
        try:
            for attempt in range(_INSTALL_ATTEMPTS):
                with self._memory_guard:
                    if self._has_folders():
                        self._refuse_name_clash(container, blob_path)
                    try:
                        self._make_folder(self.fs._parent(path))
                        self._move_blob_file(temp, path)
                        return
                    except _IN_THE_WAY:
                        # Made in the way after the check, by a concurrent writer.
                        raise name_clash(container, blob_path) from None
                    except FileNotFoundError:
                        # A concurrent write of the folder's own name removed it as empty
                        # between our makedirs and the move: its check then meets ours.
                        if attempt == _INSTALL_ATTEMPTS - 1 or not self.fs.exists(temp):
                            raise
        except BaseException:
            self._discard(temp)  # moved, it is gone: one request less on every write
            raise

    def _refuse_name_clash(self, container: str, blob_path: str) -> None:
        path = self._blob(container, blob_path)
        if self._kind(path) == "directory" and not self._removed_if_empty(path):
            raise name_clash(container, blob_path)
        folder = blob_path
        while "/" in folder:
            folder = folder.rpartition("/")[0]
            kind = self._kind(self._blob(container, folder))
            if kind == "directory":
                return  # a folder has no blob above it
            if kind is not None:
                raise name_clash(container, blob_path)

    def _kind(self, path: str) -> str | None:
        """``"directory"``, ``"file"`` (anything else that is there counts as one), or None
        if nothing is there."""
        try:
            kind = self.fs.info(path).get("type")
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return "file"  # a blob above the path: as much in the way as a blob at it
        return "directory" if kind == "directory" else "file"

    def _removed_if_empty(self, folder: str) -> bool:
        """Remove ``folder`` if it is empty (one made by another tool, or left by a delete
        that stopped before removing it, must not keep the name from a blob); False if it
        holds anything."""
        try:
            self.fs.rmdir(folder)
        except OSError:
            return False
        return True

    def _move_blob_file(self, temp: str, path: str) -> None:
        if self._os_rename:
            try:
                os.replace(temp, path)
                return
            except OSError as error:
                if error.errno != errno.EXDEV:  # a container folder on another device
                    raise
        self.fs.mv(temp, path)
        if (self._folders and not self._shared_read_handles and not self._posix_rename
                and self.fs.isdir(path)):
            # fsspec's mv moves a file into a folder at the target, and one was made at the
            # blob's name after the check: take the file out again. (SFTP's is rename(2),
            # which refuses a folder: IsADirectoryError.)
            self._discard(path + "/" + temp.rpartition("/")[2])
            raise IsADirectoryError(path)

    def _has_folders(self) -> bool:
        """Whether folders are real here: a file cannot be made below a file (found once,
        by trying)."""
        if self._folders is None:
            probe = self._join(_RESERVED, "tmp", "probe-" + uuid.uuid4().hex)
            self.fs.makedirs(self.fs._parent(probe), exist_ok=True)
            with self.fs.open(probe, "wb") as stream:
                stream.write(b"1")
            try:
                with self.fs.open(probe + "/below", "wb") as stream:
                    stream.write(b"2")
                self._folders = False
                self._discard(probe + "/below")
            except OSError:
                self._folders = True
            self._discard(probe)
        return self._folders

    def _supports_exclusive_create(self) -> bool:
        if self._exclusive_create is None:
            probe = self._join(_RESERVED, "tmp", "probe-" + uuid.uuid4().hex)
            self.fs.makedirs(self.fs._parent(probe), exist_ok=True)
            try:
                with self.fs.open(probe, "xb") as stream:
                    stream.write(b"1")
                try:
                    with self.fs.open(probe, "xb") as stream:
                        stream.write(b"2")
                    self._exclusive_create = False
                except FileExistsError:
                    self._exclusive_create = True
            except (ValueError, NotImplementedError, TypeError):
                self._exclusive_create = False
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(probe)
        return self._exclusive_create

    @contextlib.contextmanager
    def _locked(self, container: str, blob_path: str) -> Iterator[None]:
        if not self._supports_exclusive_create():
            raise Unsupported("this fsspec filesystem has no exclusive create, so it cannot "
                              "lock a blob", container=container, blob=blob_path)
        lock = self._lock(container, blob_path)
        deadline = time.monotonic() + self._lock_timeout * 2
        poll = _LOCK_POLL
        while True:
            try:
                self._into_folder(lock, lambda: self._create_exclusive(lock, b""),
                                  still_there=lambda: True)
                break
            except FileExistsError:
                self._break_stale_lock(lock)
                if time.monotonic() > deadline:
                    raise TransientError("timed out waiting for the blob's lock",
                                         container=container, blob=blob_path,
                                         request_sent=False) from None
                # Backing off: on a remote filesystem (SFTP) every poll is two requests, and
                # waiters polling fast slowed the holder down.
                time.sleep(poll * (0.5 + random.random()))
                poll = min(poll * 2, _LOCK_POLL_MAX)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(lock)
            self._prune(self._join(_RESERVED, "locks", container), lock.rpartition("/")[0])

    def _break_stale_lock(self, lock: str) -> None:
        # Age from the lock file's own timestamp: its content may not be written yet.
        try:
            taken_ns = _modified_ns(self.fs.info(lock))
        except FileNotFoundError:
            return
        if time.time_ns() - taken_ns > self._lock_timeout * 1e9:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(lock)

    def _require_container(self, container: str) -> dict[str, Any]:
        record = self._read_json(self._record(container))
        if record is None:
            raise ContainerNotFound("container not found", container=container)
        return record

    @staticmethod
    def _properties(
        info: Mapping[str, Any], metadata: Mapping[str, str] | None = None
    ) -> BlobProperties:
        modified = _modified_ns(info)
        etag = info.get("ETag") or info.get("etag")
        if not etag:
            etag = f"{info.get('ino', 0):x}-{modified:x}-{int(info.get('size') or 0):x}"
        return BlobProperties.from_ns(int(info.get("size") or 0), modified, str(etag).strip('"'),
                                      metadata=metadata)

    # ---- misc ----

    def get_service_name(self) -> str:
        return self._service

    def translate_error(self, error: BaseException, *, about_blob: bool) -> StoreError | None:
        return self._translate_ssh(error)

    @staticmethod
    def _translate_ssh(error: BaseException) -> StoreError | None:
        """paramiko's own errors (not OSErrors): a refused login, a dropped connection."""
        paramiko = sys.modules.get("paramiko")
        if paramiko is None:
            return None
        if isinstance(error, paramiko.AuthenticationException):
            return AccessDenied(f"the SSH server refused the login: {redact(str(error))}")
        if isinstance(error, paramiko.SSHException):
            return TransientError(f"SSH: {redact(str(error))}")
        return None

    def capabilities(self) -> Capabilities:
        # Locking needs exclusive create, and where the blobs live depends on the filesystem.
        locking = Support.EMULATED if self._supports_exclusive_create() else Support.UNSUPPORTED
        protocol = self.fs.protocol
        protocols = {protocol} if isinstance(protocol, str) else set(protocol)
        in_memory = "memory" in protocols
        return replace(
            DESCRIPTION.capabilities,
            append=locking,
            conditional_writes=locking,
            shared_between_processes=not in_memory,
            local=in_memory or bool(protocols & {"file", "local"}),
        )

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        return bool(self.fs.exists(self._record(container)))

    def create_container(self, container: str) -> bool:
        record = self._record(container)
        self.fs.makedirs(self.fs._parent(record), exist_ok=True)
        body = json.dumps({"created_ns": time.time_ns(), "metadata": {}}).encode()
        try:
            self._create_exclusive(record, body)
        except FileExistsError:
            raise ContainerAlreadyExists("container already exists",
                                         container=container) from None
        except (ValueError, NotImplementedError):
            if self.fs.exists(record):
                raise ContainerAlreadyExists("container already exists",
                                             container=container) from None
            self._write_file(record, body)
        self.fs.makedirs(self._join(container), exist_ok=True)
        return True

    def list_containers(self) -> list[str]:
        folder = self._join(_RESERVED, "containers")
        try:
            names = self.fs.ls(folder, detail=False)
        except FileNotFoundError:
            return []
        return sorted(
            name.rsplit("/", 1)[-1][: -len(".json")] for name in names if name.endswith(".json")
        )

    def delete_container(self, container: str) -> bool:
        self._require_container(container)
        for folder in (
            self._join(container),
            self._join(_RESERVED, "meta", container),
            self._join(_RESERVED, "snapshots", container),
        ):
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(folder, recursive=True)
        self.fs.rm(self._record(container))
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        record = self._require_container(container)
        created = datetime_from_ns(record["created_ns"])
        return ContainerInfo(container, created, record.get("metadata") or {})

    def get_container_metadata(self, container: str) -> dict[str, str]:
        return dict(self._require_container(container).get("metadata") or {})

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        record = self._require_container(container)
        record["metadata"] = dict(metadata)
        self._write_file(self._record(container), json.dumps(record).encode())

    # ---- blobs ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return bool(self.fs.isfile(self._blob(container, blob_path)))

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False
    ) -> None:
        self._require_container(container)
        data = to_bytes(text)
        if not fail_if_exists:
            self._replace_blob(container, blob_path, data)
            return
        with self._locked(container, blob_path):
            if self.fs.isfile(self._blob(container, blob_path)):
                raise BlobAlreadyExists("blob already exists", container=container,
                                        blob=blob_path)
            self._replace_blob(container, blob_path, data)

    def _replace_blob(self, container: str, blob_path: str, data: bytes) -> None:
        self._install_blob(self._write_temp(data), container, blob_path)
        self._clear_metadata(container, blob_path)

    def _clear_metadata(self, container: str, blob_path: str) -> None:
        # rm_file, never rm, for a path that holds a blob name: rm expands glob characters,
        # so clearing 'e/*''s record would clear every record in 'e/'.
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._meta(container, blob_path))

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        self._require_container(container)
        temp = self._new_temp()
        done = 0
        try:
            with self.fs.open(temp, "wb") as target:
                while chunk := stream.read(PROGRESS_CHUNK):
                    target.write(chunk)
                    done += len(chunk)
                    if progress_callback is not None:
                        progress_callback(done, max(done, length or 0))
        except BaseException:
            self._discard(temp)
            raise
        self._install_blob(temp, container, blob_path)
        self._clear_metadata(container, blob_path)
        if progress_callback is not None:
            progress_callback(done, done)

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        self._require_container(container)
        data = to_bytes(text)
        path = self._blob(container, blob_path)
        # Read-modify-write under the blob's lock: the only append that every backend can do
        # without ever exposing a partial blob (append_with_rewrite asks for exactly this).
        with self._locked(container, blob_path):
            try:
                old = self.fs.cat_file(path)
            except _MISSING:
                old = b""  # no blob by this name; a folder in the way is the install's to refuse
            self._install_blob(self._write_temp(old + data), container, blob_path)

    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        return select(self._iter_all(container, path), path, return_names=return_names,
                      recursive=recursive)

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        return iter_infos(self._iter_all(container, path), path, recursive)

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """``find`` without details (files only): no value objects."""
        self._require_container(container)
        root = self._join(container)
        prefix = list_prefix(path)
        start = root + "/" + prefix[: prefix.rfind("/") + 1]
        try:
            found = self.fs.find(start.rstrip("/"))
        except FileNotFoundError:
            return iter(())
        skip = len(root) + 1
        names = sorted(name for name in (full[skip:] for full in found
                                         if full.startswith(root + "/"))
                       if name and name.startswith(prefix))
        return iter_names(names, path, recursive)

    def _iter_all(self, container: str, path: str | None) -> Iterator[BlobInfo]:
        self._require_container(container)
        root = self._join(container)
        prefix = list_prefix(path)
        start = root + "/" + prefix[: prefix.rfind("/") + 1]
        try:
            found = self.fs.find(start.rstrip("/"), detail=True)
        except FileNotFoundError:
            return iter(())
        skip = len(root) + 1
        infos = []
        for full, info in found.items():
            name = full[skip:] if full.startswith(root + "/") else None
            if name and info.get("type") == "file" and name.startswith(prefix):
                infos.append(BlobInfo(name, properties=self._properties(info)))
        infos.sort(key=lambda entry: entry.name)
        return iter(infos)

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        self._require_container(container)
        try:
            # rm_file, not rm: rm takes a folder for a blob ("Cannot delete directory").
            self.fs.rm_file(self._source(container, blob_path, snapshot))
        except _MISSING:
            raise self._missing(container, blob_path, snapshot) from None
        snapshots = self._snapshots(container, blob_path)
        if snapshot is None:
            self._clear_metadata(container, blob_path)
            for snapshot_file in self._snapshot_files(container, blob_path):
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(snapshot_file)
            self._prune(self._join(container),
                        self._blob(container, blob_path).rpartition("/")[0])
            self._prune(self._join(_RESERVED, "meta", container),
                        self._meta(container, blob_path).rpartition("/")[0])
        self._prune(self._join(_RESERVED, "snapshots", container), snapshots)

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        self._require_container(container)
        try:
            data: bytes = self.fs.cat_file(self._source(container, blob_path, snapshot))
        except _MISSING:
            raise self._missing(container, blob_path, snapshot) from None
        return data

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        self._require_container(container)
        path = self._source(container, blob_path, snapshot)
        try:
            if self._shared_read_handles:
                return io.BytesIO(self.fs.cat_file(path))  # the store holds it in memory anyway
            stream: IO[bytes] = self.fs.open(path, "rb")
        except _MISSING:
            raise self._missing(container, blob_path, snapshot) from None
        return stream

    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        self._require_container(container)
        try:
            # One open and one read of just the range (SFTP: pipelined reads of it).
            data: bytes = self.fs.cat_file(self._source(container, blob_path, snapshot),
                                           start=start, end=end)
        except _MISSING:
            raise self._missing(container, blob_path, snapshot) from None
        return data

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        self._require_container(container)
        temp = self._new_temp()
        target = self.fs.open(temp, "wb")
        if not target.seekable():
            # Object stores' fsspec files write once, in order: a part could not be written
            # again at its place, so the interface's local spool takes the parts instead.
            with contextlib.suppress(Exception):
                target.close()
            self._discard(temp)
            return super().open_blob_writer(container, blob_path)
        return BlobWriter(_TempFileSink(self, container, blob_path, temp, target))

    @staticmethod
    def _missing(container: str, blob_path: str, snapshot: str | None) -> BlobNotFound:
        what = f"snapshot {snapshot!r}" if snapshot else "blob"
        return BlobNotFound(f"{what} not found", container=container, blob=blob_path)

    def _source(self, container: str, blob_path: str, snapshot: str | None) -> str:
        if snapshot is None:
            return self._blob(container, blob_path)
        return self._snapshots(container, blob_path) + "/" + snapshot

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Copied chunk by chunk; the file takes ``dest_fn``'s name only if it has the size
        the filesystem gave when it was opened (a stream that ends early is no download:
        ``IntegrityError``). fsspec has no content checksum common to its filesystems."""
        with self.open_blob(container, blob_path, snapshot) as source:
            size = getattr(source, "size", None)
            total = int(size or 0)
            done = 0
            with verified_local_file(dest_fn) as local:
                local.expect(Expected(int(size) if size is not None else None))
                while chunk := source.read(PROGRESS_CHUNK):
                    local.file.write(chunk)
                    done += len(chunk)
                    if progress_callback is not None:
                        progress_callback(done, max(total, done))
        if progress_callback is not None:
            progress_callback(done, done)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        self._require_container(container)
        path = self._blob(container, blob_path)
        try:
            info = self.fs.info(path)
        except _MISSING:
            raise BlobNotFound("blob not found", container=container, blob=blob_path) from None
        if info.get("type") != "file":
            raise BlobNotFound("blob not found", container=container, blob=blob_path)
        metadata = self._blob_metadata(container, blob_path)
        return BlobInfo(blob_path, properties=self._properties(info, metadata))

    def _blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        return dict(self._read_json(self._meta(container, blob_path)) or {})

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        if not self.does_blob_exist(container, blob_path):
            self._require_container(container)
            raise BlobNotFound("blob not found", container=container, blob=blob_path)
        self._write_file(self._meta(container, blob_path), json.dumps(dict(metadata)).encode())

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        self._require_container(source_container)
        self._require_container(dest_container)
        metadata = self._read_json(self._meta(source_container, source_blob_path))
        temp = self._temp()
        self._copy_blob_file(source_container, source_blob_path, temp)
        self._install_blob(temp, dest_container, dest_blob_path)
        # The copy carries the source's metadata (docs/contract.md §2, Metadata).
        if metadata:
            self._write_file(self._meta(dest_container, dest_blob_path),
                             json.dumps(metadata).encode())
        else:
            self._clear_metadata(dest_container, dest_blob_path)

    def _copy_blob_file(self, container: str, blob_path: str, target: str) -> None:
        """Copy the blob's file to ``target`` (its folder is made); BlobNotFound if there is
        no blob by that name. fsspec's cp_file copies a folder as a new empty folder, so the
        name is checked first (a blob replaced by a folder between the two is a race left)."""
        source = self._blob(container, blob_path)
        if not self.fs.isfile(source):
            raise BlobNotFound("blob not found", container=container, blob=blob_path)
        try:
            self._into_folder(target, lambda: self.fs.cp_file(source, target),
                              still_there=lambda: bool(self.fs.isfile(source)))
        except _MISSING:
            raise BlobNotFound("blob not found", container=container, blob=blob_path) from None

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        self._require_container(container)
        snapshot = new_snapshot_id()
        self._copy_blob_file(container, blob_path,
                             self._snapshots(container, blob_path) + "/" + snapshot)
        return SnapshotInfo(container, blob_path, snapshot, snapshot_created(snapshot))

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        self._require_container(container)
        ids = sorted(path.rsplit("/", 1)[-1] for path in self._snapshot_files(container, blob_path))
        return [SnapshotInfo(container, blob_path, id_, snapshot_created(id_)) for id_ in ids]

    def _snapshot_files(self, container: str, blob_path: str) -> list[str]:
        """The blob's snapshot files. Only files: the folder also holds the snapshot folders
        of the blobs below this name (``a/b``'s, beside ``a``'s on a flat store)."""
        try:
            entries = self.fs.ls(self._snapshots(container, blob_path), detail=True)
        except _MISSING:
            return []
        return [entry["name"] for entry in entries if entry.get("type") == "file"]


class _TempFileSink:
    """``open_blob_writer``'s sink: each part written at its offset into a temporary file in
    ``.xtstore/tmp`` (so a repeated step writes the same bytes to the same place); on commit
    the file is closed and passes the install step of every blob write, which gives it the
    blob's name at once. Abort closes and removes it. A killed writer leaves the temporary
    file behind, under ``.xtstore/tmp``, never at the blob's name."""

    part_size = WRITER_PART_SIZE

    def __init__(self, provider: FsspecProvider, container: str, blob_path: str, temp: str,
                 target: Any) -> None:
        self._provider = provider
        self._where = (container, blob_path)
        self._temp = temp
        self._target = target
        self._closed = False
        self._installed = False

    def write_part(self, index: int, data: bytes) -> None:
        self._target.seek(index * self.part_size)
        self._target.write(data)

    def commit(self, parts: int, tail: bytes) -> None:
        if not self._closed:
            self.write_part(parts, tail)
            self._target.close()
            self._closed = True
        if not self._installed:
            self._provider._install_blob(self._temp, *self._where)
            self._installed = True
        self._provider._clear_metadata(*self._where)

    def abort(self) -> None:
        if not self._closed:
            with contextlib.suppress(Exception):
                self._target.close()
            self._closed = True
        self._provider._discard(self._temp)


def _modified_ns(info: Mapping[str, Any]) -> int:
    stamp = info.get("mtime", info.get("LastModified", info.get("created")))
    if isinstance(stamp, datetime):
        return BlobProperties.from_datetime(0, stamp, "").modified_ns
    if isinstance(stamp, (int, float)):
        # Microseconds: some backends give a float here and a datetime from info().
        return round(stamp * 1e6) * 1000
    return time.time_ns()


FsspecStore = provider_store_class("FsspecStore", FsspecProvider, __name__)
