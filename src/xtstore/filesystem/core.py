"""``XtstoreFileSystem``: any configured xtstore service as an fsspec filesystem under the
protocol ``xtstore`` (docs/fsspec.md).

Every call is one or a few ``Store`` calls of the service the path names (opened once per
filesystem object with ``xtstore.get_storage(service, config)``), so it runs through that
store's layers (names checked, one retry policy, typed errors) like any other use of it.
Nothing of a listing is cached: fsspec's ``dircache`` is never filled, so a listing after a
write always shows it. xtstore's errors reach fsspec's callers as the built-in exceptions they
catch, keeping the message that names the service, container and blob.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from glob import has_magic  # what fsspec's own glob asks
from typing import Any

from fsspec.callbacks import DEFAULT_CALLBACK, Callback
from fsspec.spec import AbstractFileSystem
from fsspec.utils import tokenize

from xtstore.config.environment import (
    CONFIG_VARIABLE,
    SERVICE_VARIABLE,
    XT_CODE_PATH_VARIABLE,
    XT_CREDS_VARIABLE,
)
from xtstore.errors import BlobNotFound, ContainerAlreadyExists, ContainerNotFound
from xtstore.filesystem.files import ReadableBlobFile, WritableBlobFile
from xtstore.filesystem.paths import PROTOCOL, Address, parse, strip_protocol
from xtstore.registry import get_storage
from xtstore.store import Store
from xtstore.transfer import (
    DEFAULT_WORKERS,
    Transfer,
    copy_transfer,
    download_transfer,
    run_transfers,
    upload_transfer,
)
from xtstore.values import BlobInfo

__all__ = ["XtstoreFileSystem"]

_ENVIRONMENT = (CONFIG_VARIABLE, SERVICE_VARIABLE, XT_CREDS_VARIABLE, XT_CODE_PATH_VARIABLE)
"""The variables that choose a service's settings (xtstore.config.environment)."""

_FSSPEC_OPTIONS = frozenset({"use_listings_cache", "listings_expiry_time", "max_paths"})
"""fsspec's own options for every filesystem: taken, and without effect (nothing is cached)."""

Info = dict[str, Any]


def _os_error(kind: type[OSError], code: int, message: str) -> OSError:
    """``kind`` with ``errno`` set and ``str()`` the message alone (no ``[Errno n]``), so
    that an xtstore message reads as it did."""
    error = kind(message)
    error.errno = code
    return error


@contextmanager
def _as_builtin_errors() -> Iterator[None]:
    """xtstore's errors as the exceptions fsspec's callers catch. ``BlobNotFound``,
    ``BlobAlreadyExists`` and ``AccessDenied`` already are ``FileNotFoundError``,
    ``FileExistsError`` and ``PermissionError``; a missing or existing container becomes one
    too, with the same one-line message."""
    try:
        yield
    except ContainerNotFound as error:
        raise _os_error(FileNotFoundError, errno.ENOENT, str(error)) from error
    except ContainerAlreadyExists as error:
        raise _os_error(FileExistsError, errno.EEXIST, str(error)) from error


def _error(kind: type[OSError], code: int, path: str, what: str) -> OSError:
    """``kind`` about the ``xtstore://`` path ``path``."""
    return _os_error(kind, code, f"{PROTOCOL}://{path}: {what}")


def _not_found(address: Address, what: str = "no such blob or folder") -> OSError:
    return _error(FileNotFoundError, errno.ENOENT, address.path(), what)


class XtstoreFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """fsspec's filesystem over xtstore services: ``xtstore://[service:]container/path``.

    Args:
        service: The service a path without ``service:`` uses (None: the default storage
            service, ``XTSTORE_SERVICE`` or ``xt-services.storage``).
        config: A config file path, read on top of the usual files as ``--config`` is
            (None: the usual files and ``XTSTORE_CONFIG``).
        workers: Threads for the many-file ``put`` and ``get``.
    """

    protocol = PROTOCOL
    root_marker = ""

    def __init__(self, service: str | None = None, config: str | os.PathLike[str] | None = None,
                 workers: int = DEFAULT_WORKERS, **storage_options: Any) -> None:
        if config is not None and not isinstance(config, (str, os.PathLike)):
            # A mapping would travel with every pickle of the filesystem, secrets and all.
            raise TypeError("config= takes a config file path; put a service given as a"
                            " mapping in a file (secrets as \"$vault\" or ${ENV})")
        unknown = sorted(set(storage_options) - _FSSPEC_OPTIONS)
        if unknown:
            # fsspec would pass them on to its listings cache, which ignores them: a mistyped
            # option would otherwise change nothing, silently.
            raise TypeError(f"{PROTOCOL}:// takes the options service, config and workers,"
                            f" not {', '.join(unknown)}")
        super().__init__(**storage_options)
        self.service = service
        self.config = None if config is None else os.fspath(config)
        self.workers = workers
        self._stores: dict[tuple[object, ...], Store] = {}
        self._lock = threading.Lock()
        self._batch = threading.local()

    # ---- paths ----

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return strip_protocol(path)

    @classmethod
    def _parent(cls, path: str) -> str:
        address = parse(path)
        if address.is_root or address.is_container:
            return address.root()
        return address.join(address.blob.rpartition("/")[0])

    def unstrip_protocol(self, name: str) -> str:
        return name if name.startswith(PROTOCOL + "://") else f"{PROTOCOL}://{name}"

    def store(self, service: str | None = None) -> Store:
        """The Store of ``service`` (None: this filesystem's default), opened once for each
        set of what selects its settings: the service, the environment variables
        ``get_storage`` reads, and where the config files are looked up (home and working
        folders). fsspec hands the same filesystem object to every caller with the same
        options, so a changed ``XTSTORE_CONFIG`` must not find a Store of the old one."""
        name = service if service is not None else self.service
        # Hashed: XT_STORE_CREDS holds credentials, kept nowhere else by this object.
        key = (name, *(hash(os.environ.get(variable)) for variable in _ENVIRONMENT),
               os.path.expanduser("~"), os.getcwd())
        with self._lock:
            store = self._stores.get(key)
            if store is None:
                store = self._stores[key] = get_storage(name, self.config)
        return store

    def _open_address(self, path: str) -> tuple[Address, Store]:
        address = parse(path)
        return address, self.store(address.service)

    # ---- listing ----

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        address, store = self._open_address(path)
        with _as_builtin_errors():
            if address.is_root:
                entries = [self._container_info(address, name) for name in store.list_containers()]
            else:
                entries = [self._entry(address, entry)
                           for entry in _entries_under(store, address, recursive=False)]
                if not entries and address.blob:
                    # A blob lists as itself; a name that is neither is missing.
                    entries = [self._blob_info(address, store)]
        return entries if detail else [entry["name"] for entry in entries]

    def info(self, path: str, **kwargs: Any) -> Info:
        address, store = self._open_address(path)
        if address.is_root:
            return {"name": address.root(), "size": 0, "type": "directory"}
        with _as_builtin_errors():
            if address.is_container:
                if not store.does_container_exist(address.container):
                    raise _not_found(address, "no such container")
                return self._container_info(address, address.container)
            try:
                return self._blob_info(address, store)
            except BlobNotFound:
                if self._is_folder(address, store):
                    return {"name": address.path(), "size": 0, "type": "directory"}
                raise

    def exists(self, path: str, **kwargs: Any) -> bool:
        """Whether a blob, folder or container is there; a failure other than "not found"
        (credentials, the network) raises instead of reading as False."""
        try:
            self.info(path)
        except (FileNotFoundError, ValueError):
            return False
        return True

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False,
             detail: bool = False, **kwargs: Any) -> Any:
        """Every blob under ``path`` (folders too with ``withdirs``): one recursive listing
        per container, not one per folder."""
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        address, store = self._open_address(path)
        found: dict[str, Info] = {}
        if address.is_root:
            with _as_builtin_errors():
                containers = store.list_containers()
            for name in containers:
                if withdirs:
                    found[address.container_path(name)] = self._container_info(address, name)
                if maxdepth is None or maxdepth > 1:
                    inner = Address(address.service, name, "")
                    found.update(self._find_in(inner, store, None if maxdepth is None
                                               else maxdepth - 1, withdirs))
        else:
            if withdirs and address.blob:
                with suppress(FileNotFoundError):
                    info = self.info(path)
                    if info["type"] == "directory":
                        found[address.path()] = info
            found.update(self._find_in(address, store, maxdepth, withdirs))
            if not found and address.blob:
                with suppress(FileNotFoundError), _as_builtin_errors():
                    found[address.path()] = self._blob_info(address, store)
        names = sorted(found)
        return {name: found[name] for name in names} if detail else names

    def glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any:
        """fsspec's glob. A wildcard in the container of a path naming its service
        (``runs:exp*/logs``) is matched against that service's containers: fsspec's glob would
        search from the root of the default service."""
        address = parse(path)
        if address.service is None or not has_magic(address.container):
            return super().glob(path, maxdepth=maxdepth, **kwargs)
        pattern = os.fspath(path)
        for prefix in (PROTOCOL + "://", PROTOCOL + "::"):
            pattern = pattern.removeprefix(prefix)
        # The trailing "/" stays: to fsspec's glob it means "folders only".
        pattern = pattern.lstrip("/").removeprefix(address.prefix)
        found = type(self)(service=address.service, config=self.config,
                           workers=self.workers).glob(pattern, maxdepth=maxdepth, **kwargs)
        if isinstance(found, dict):
            return {address.prefix + name: {**info, "name": address.prefix + info["name"]}
                    for name, info in found.items()}
        return [address.prefix + name for name in found]

    def _find_in(self, address: Address, store: Store, maxdepth: int | None,
                 withdirs: bool) -> dict[str, Info]:
        base = address.blob + "/" if address.blob else ""
        found: dict[str, Info] = {}
        try:
            with _as_builtin_errors():
                listing = _entries_under(store, address, recursive=True)
                for entry in listing:
                    relative = entry.name[len(base):].split("/")
                    if maxdepth is not None and len(relative) > maxdepth:
                        if withdirs:
                            for depth in range(1, maxdepth + 1):
                                self._add_folder(found, address, base, relative[:depth])
                        continue
                    if withdirs:
                        for depth in range(1, len(relative)):
                            self._add_folder(found, address, base, relative[:depth])
                    found[address.join(entry.name)] = self._entry(address, entry)
        except FileNotFoundError:
            return {}
        return found

    @staticmethod
    def _add_folder(found: dict[str, Info], address: Address, base: str,
                    parts: list[str]) -> None:
        name = address.join(base + "/".join(parts))
        if name not in found:
            found[name] = {"name": name, "size": 0, "type": "directory"}

    def _is_folder(self, address: Address, store: Store) -> bool:
        for _ in _entries_under(store, address, recursive=False):
            return True
        return False

    def _entry(self, address: Address, entry: BlobInfo) -> Info:
        if entry.is_dir:
            return {"name": address.join(entry.name.rstrip("/")), "size": 0,
                    "type": "directory"}
        return self._file_info(address.join(entry.name), entry)

    @staticmethod
    def _file_info(name: str, entry: BlobInfo) -> Info:
        properties = entry.properties
        assert properties is not None
        return {"name": name, "size": properties.content_length, "type": "file",
                "etag": properties.etag, "mtime": properties.last_modified,
                "content_type": properties.content_type}

    def _blob_info(self, address: Address, store: Store) -> Info:
        return self._file_info(address.path(),
                               store.get_blob_properties(address.container, address.blob))

    @staticmethod
    def _container_info(address: Address, name: str) -> Info:
        return {"name": address.container_path(name), "size": 0, "type": "directory"}

    def modified(self, path: str) -> Any:
        """The blob's last-modified time, timezone-aware UTC."""
        return self._file(path)["mtime"]

    def ukey(self, path: str) -> str:
        """The blob's etag: it changes on every write of the content."""
        return str(self._file(path)["etag"])

    def checksum(self, path: str) -> int:
        return int(tokenize(self.ukey(path)), 16)

    def size(self, path: str) -> int:
        return int(self.info(path)["size"])

    def _file(self, path: str) -> Info:
        info = self.info(path)
        if info["type"] != "file":
            raise _error(IsADirectoryError, errno.EISDIR, info["name"],
                         "a folder or container, not a blob")
        return info

    # ---- reading and writing ----

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None,
              autocommit: bool = True, cache_options: dict[str, Any] | None = None,
              **kwargs: Any) -> ReadableBlobFile | WritableBlobFile:
        address, store = self._open_address(path)
        if address.is_root or address.is_container:
            raise _error(IsADirectoryError, errno.EISDIR, address.path(), "a container, not a blob")
        container, blob = address.container, address.blob
        name = address.path()
        with _as_builtin_errors():
            if mode == "rb":
                try:
                    stream = store.open_blob(container, blob)
                except BlobNotFound:
                    if self._is_folder(address, store):
                        raise _error(IsADirectoryError, errno.EISDIR, name,
                                     "a folder, not a blob") from None
                    raise

                def size_of() -> int:
                    with _as_builtin_errors():
                        properties = store.get_blob_properties(container, blob).properties
                    assert properties is not None
                    return properties.content_length

                return ReadableBlobFile(self, name, stream, size_of)
            if mode in ("wb", "xb"):
                if mode == "xb" and store.does_blob_exist(container, blob):
                    raise _error(FileExistsError, errno.EEXIST, name, "the blob exists (mode 'xb')")
                writer = store.open_blob_writer(container, blob)
                return WritableBlobFile(self, name, writer, autocommit=autocommit, mode=mode)
        raise ValueError(f"{PROTOCOL}://{name}: mode {mode!r} is not supported: blobs open"
                         " with 'rb', 'wb' or 'xb' (or their text forms)")

    def cat_file(self, path: str, start: int | None = None, end: int | None = None,
                 **kwargs: Any) -> bytes:
        """``content[start:end]`` as a slice takes it (negative offsets from the end): one
        ranged read, and one properties request first when an offset is negative."""
        address, store = self._open_address(path)
        self._check_blob(address)
        with _as_builtin_errors():
            if (start or 0) < 0 or (end or 0) < 0:
                properties = store.get_blob_properties(address.container,
                                                       address.blob).properties
                assert properties is not None
                size = properties.content_length
                start = None if start is None else max(0, size + start) if start < 0 else start
                end = None if end is None else max(0, size + end) if end < 0 else end
            first = start or 0
            if end is not None and end <= first:
                # An empty range; a missing blob still fails.
                if not store.does_blob_exist(address.container, address.blob):
                    raise _not_found(address)
                return b""
            if first == 0 and end is None:
                return store.get_blob_bytes(address.container, address.blob)
            return store.get_blob_range(address.container, address.blob, first, end)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite",
                  **kwargs: Any) -> None:
        """One ``create_blob``; ``mode="create"`` fails with ``FileExistsError`` if the blob
        exists, atomically (``fail_if_exists``)."""
        address, store = self._open_address(path)
        self._check_blob(address)
        with _as_builtin_errors():
            store.create_blob(address.container, address.blob, bytes(value),
                              fail_if_exists=mode == "create")

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        if not truncate and self.exists(path):
            raise NotImplementedError("a blob's modification time changes only with its"
                                      " content: touch(truncate=False) of an existing blob")
        self.pipe_file(path, b"")

    def rm_file(self, path: str) -> None:
        address, store = self._open_address(path)
        self._check_blob(address)
        with _as_builtin_errors():
            store.delete_blob(address.container, address.blob)

    def _rm(self, path: str) -> None:
        self.rm_file(path)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        """Delete blobs; with ``recursive``, everything under folders, and a container named
        by itself is deleted with all in it. Folders are virtual: they go with their blobs."""
        if isinstance(path, (str, os.PathLike)) and recursive and maxdepth is None:
            address, store = self._open_address(os.fspath(path))
            if address.is_container:
                with _as_builtin_errors():
                    store.delete_container(address.container)
                return
        for name in reversed(self.expand_path(path, recursive=recursive, maxdepth=maxdepth)):
            address, store = self._open_address(name)
            if address.is_root:
                continue
            if address.is_container:
                raise _error(IsADirectoryError, errno.EISDIR, name,
                             "a container (rm(..., recursive=True) deletes it)")
            try:
                with _as_builtin_errors():
                    store.delete_blob(address.container, address.blob)
            except BlobNotFound:
                # With recursive, the expansion named folders too: they went with their blobs.
                if recursive:
                    continue
                if self._is_folder(address, store):
                    raise _error(IsADirectoryError, errno.EISDIR, name,
                                 "a folder (rm(..., recursive=True) deletes it)") from None
                raise

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """``copy_blob`` within one service (server-side where the store can), else streamed
        from the source into the destination; a folder copies as nothing (folders are
        virtual)."""
        source, source_store = self._open_address(path1)
        dest, dest_store = self._open_address(path2)
        self._check_blob(dest)
        if source.is_root or source.is_container:
            return
        try:
            with _as_builtin_errors():
                size = 0
                if source_store.get_service_name() != dest_store.get_service_name():
                    # Streamed between services: the destination is told the length.
                    size = self._blob_info(source, source_store)["size"]
                copy_transfer(source_store, source.container, source.blob, dest_store,
                              dest.container, dest.blob, size).action(_ignore_progress)
        except BlobNotFound:
            if not self._is_folder(source, source_store):
                raise

    def put_file(self, lpath: str, rpath: str, callback: Callback = DEFAULT_CALLBACK,
                 mode: str = "overwrite", **kwargs: Any) -> None:
        """``create_blob_from_path``; a local folder makes the container if it is missing."""
        if os.path.isdir(lpath):
            self.makedirs(rpath, exist_ok=True)
            return
        address, store = self._open_address(rpath)
        self._check_blob(address)
        if mode == "create" and self.exists(rpath):
            raise _error(FileExistsError, errno.EEXIST, address.path(),
                         "the blob exists (mode 'create')")
        size = os.path.getsize(lpath)
        transfer = upload_transfer(store, address.container, address.blob, os.fspath(lpath),
                                   size)
        self._transfer(transfer, callback)

    def get_file(self, rpath: str, lpath: Any, callback: Callback = DEFAULT_CALLBACK,
                 outfile: Any = None, **kwargs: Any) -> None:
        """``get_blob_to_path`` (the local file appears whole); a folder makes a local
        folder; a file object given as ``lpath`` or ``outfile`` is written as it streams."""
        address, store = self._open_address(rpath)
        if outfile is None and hasattr(lpath, "write"):
            outfile = lpath
        if outfile is not None:
            with self.open(rpath, "rb") as source:
                callback.set_size(source.size)
                while data := source.read(self.blocksize):
                    outfile.write(data)
                    callback.relative_update(len(data))
            return
        if address.is_root or address.is_container or self.isdir(rpath):
            os.makedirs(lpath, exist_ok=True)
            return
        transfer = download_transfer(store, address.container, address.blob,
                                     os.fspath(lpath), 0)
        self._transfer(transfer, callback)

    def _transfer(self, transfer: Transfer, callback: Callback) -> None:
        batch: list[Transfer] | None = getattr(self._batch, "transfers", None)
        if batch is not None:
            batch.append(transfer)
            return

        def progress(current: int, total: int) -> None:
            callback.set_size(total)
            callback.absolute_update(current)

        with _as_builtin_errors():
            transfer.action(progress)

    def put(self, lpath: Any, rpath: Any, recursive: bool = False,
            callback: Callback = DEFAULT_CALLBACK, maxdepth: int | None = None,
            **kwargs: Any) -> None:
        """fsspec's ``put`` (which files go where), the files then uploaded in parallel by
        xtstore's transfer engine (``workers`` threads)."""
        self._batched("put", lpath, rpath, recursive, callback, maxdepth, **kwargs)

    def get(self, rpath: Any, lpath: Any, recursive: bool = False,
            callback: Callback = DEFAULT_CALLBACK, maxdepth: int | None = None,
            **kwargs: Any) -> None:
        """fsspec's ``get`` (which blobs go where), the blobs then downloaded in parallel by
        xtstore's transfer engine (``workers`` threads)."""
        self._batched("get", rpath, lpath, recursive, callback, maxdepth, **kwargs)

    def _batched(self, method: str, source: Any, dest: Any, recursive: bool,
                 callback: Callback, maxdepth: int | None, **kwargs: Any) -> None:
        transfers: list[Transfer] = []
        self._batch.transfers = transfers
        try:
            # fsspec's own put/get decide the pairs; put_file/get_file only collect them.
            getattr(super(), method)(source, dest, recursive=recursive, maxdepth=maxdepth,
                                     **kwargs)
        finally:
            self._batch.transfers = None
        callback.set_size(len(transfers))
        with _as_builtin_errors():
            run_transfers(transfers, workers=self.workers, progress=_FileCounter(callback))

    # ---- containers and folders ----

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """A container path creates the container (``FileExistsError`` if it exists). A
        folder path creates nothing (folders are virtual, there while blobs are under them),
        only its container if missing and ``create_parents``."""
        address, store = self._open_address(path)
        if address.is_root:
            raise _error(FileExistsError, errno.EEXIST, address.root(), "the root")
        with _as_builtin_errors():
            if address.is_container:
                store.create_container(address.container)
            elif not store.does_container_exist(address.container):
                if not create_parents:
                    raise _not_found(Address(address.service, address.container, ""),
                                     "no such container")
                store.create_container(address.container)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """The container, if missing; ``FileExistsError`` for an existing container, or a
        path that is a blob, unless ``exist_ok``."""
        address, store = self._open_address(path)
        if address.is_root:
            return
        with _as_builtin_errors():
            if not store.does_container_exist(address.container):
                store.create_container(address.container)
                return
        if not exist_ok and (address.is_container or self.exists(path)):
            raise _error(FileExistsError, errno.EEXIST, address.path(), "exists")

    def rmdir(self, path: str) -> None:
        """Delete an empty container (``OSError`` ENOTEMPTY if it holds blobs). A folder has
        nothing to remove: it is gone once no blob is under it."""
        address, store = self._open_address(path)
        if address.is_root:
            raise _error(PermissionError, errno.EPERM, address.root(), "the root")
        with _as_builtin_errors():
            if address.is_container:
                for _ in store.iter_blobs(address.container):
                    raise _error(OSError, errno.ENOTEMPTY, address.path(),
                                 "the container is not empty")
                store.delete_container(address.container)
            elif self._is_folder(address, store):
                raise _error(OSError, errno.ENOTEMPTY, address.path(), "the folder is not empty")

    @staticmethod
    def _check_blob(address: Address) -> None:
        if address.is_root or address.is_container:
            raise _error(IsADirectoryError, errno.EISDIR, address.path(), "a container, not a blob")


def _entries_under(store: Store, address: Address, *, recursive: bool) -> Iterator[BlobInfo]:
    """The listing of the folder an address names (its container with no blob), sorted by
    name: every blob below it, or one level of blobs and child folders (``name/``).

    The folder goes to ``iter_blobs`` with its ``/``. A list path holds no ``*`` but a final
    one (a raw prefix, docs/contract.md §1 Names), so a folder whose name holds one is listed
    from the nearest folder above without one, and the names below it kept."""
    container, folder = address.container, address.blob
    if "*" not in folder:
        return store.iter_blobs(container, folder + "/" if folder else None,
                                recursive=recursive)
    base = folder[:folder.index("*")].rpartition("/")[0]
    prefix = folder + "/"
    below = (entry for entry in store.iter_blobs(container, base + "/" if base else None)
             if entry.name.startswith(prefix))
    if recursive:
        return below
    level: dict[str, BlobInfo] = {}
    for entry in below:
        child, slash, _ = entry.name[len(prefix):].partition("/")
        name = prefix + child + slash
        if name not in level:
            level[name] = BlobInfo(name, is_dir=True) if slash else entry
    return iter(sorted(level.values(), key=lambda entry: entry.name))


def _ignore_progress(current: int, total: int) -> None:
    pass


class _FileCounter:
    """The transfer engine's progress as fsspec's batch callback counts it: one per file."""

    def __init__(self, callback: Callback) -> None:
        self.callback = callback

    def start(self, files: int, total_bytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self, label: str) -> None:
        self.callback.relative_update(1)

    def close(self, completed: bool) -> None:
        pass

