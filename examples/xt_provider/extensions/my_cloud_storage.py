"""MyCloudStorage: the storage provider of XT's "Adding storage providers" page, filled in.

XT's page defines the StoreInterface below with the ``interface`` package and starts
``class MyCloudStorage(implements(...))`` with a constructor taking ``storage_creds_dict``.
There is no real "my cloud", so this one keeps its cloud in a local folder named after the
service's ``account`` URL: ``$MYCLOUD_ROOT/<host>/<path>`` (default ``~/.mycloud``), e.g.
``~/.mycloud/mycoudstorage.com/myservice`` for ``https://johnsmith@mycoudstorage.com/myservice``.

Layout of one container ``<root>/<container>/``::

    blobs/<blob path>            the blobs, as plain files
    container.json               the container's metadata
    meta/<key>.json              a blob's metadata   (key: sha1 of the blob path)
    snapshots/<key>/<id>         a blob's snapshots
    locks/<key>.lock             a blob's lock file  (fcntl: appends, snapshots, reads)
    tmp/                         files being written, renamed into place when complete

Every write goes to ``tmp/`` first and is renamed (or hard-linked, for create-only) into
``blobs/``, so a reader never sees half a blob. It uses only the standard library and
xtstore's value types and errors (xtstore wraps it, checks names and retries for it).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import urlparse

from interface import Interface, implements

from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
)
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
    Support,
)

CHUNK = 1024 * 1024
SNAPSHOT_ID = re.compile(r"^[0-9]{20}-[0-9a-f]{8}$")


class StoreInterface(Interface):
    #def __init__(self, storage_creds_dict):
    #    ''' the constructor must accept a provider-specific storage_creds_dict argument '''
    #    pass

    # ---- MISC part of interface ----
    def get_retry(self):
        ''' return the error return count'''
        pass

    def set_retry(self, value):
        ''' set the error return count'''
        pass

    # ---- CONTAINER interface ----

    def does_container_exist(self, container):
        pass

    def create_container(self, container):
        pass

    def list_containers(self):
        pass

    def delete_container(self, container):
        pass

    def get_container_properties(self, container):
        pass

    def get_container_metadata(self, container):
        pass

    # ---- BLOB interface ----

    def does_blob_exist(self, container, blob_path):
        pass

    def create_blob(self, container, blob_path, text, fail_if_exists=False):
        pass

    def create_blob_from_path(self, container, blob_path, source_fn, progress_callback=None):
        pass

    def append_blob(self, container, blob_path, text, append_with_rewrite=False):
        pass

    def list_blobs(self, container, path=None, return_names=True, recursive=True):
        '''
        NOTE: the semantics here are a bit tricky

        if recursive:
            - return a flat list of all full path names of all files (no directory entries)
        else:
            - return a flat list of all files and all directory names (add "/" to end of directory names)

        if return_names:
            - return list of names
        else:
            - return a list of objects with following properties:
                .name     (file pathname)
                .properties
                    .content_length   (number)
                    .modified_ns      (time in ns)

        '''
        pass

    def delete_blob(self, container, blob_path, snapshot=None):
        pass

    def get_blob_text(self, container, blob_path):
        pass

    def get_blob_to_path(self, container, blob_path, dest_fn, snapshot=None, progress_callback=None):
        pass

    def get_blob_properties(self, container, blob_path):
        pass

    def get_blob_metadata(self, container, blob_path):
        pass

    def copy_blob(self, source_container, source_blob_path, dest_container, dest_blob_path):
        pass

    def snapshot_blob(self, container, blob_path):
        pass


def _to_bytes(text):
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def _key(blob_path):
    return hashlib.sha1(blob_path.encode("utf-8")).hexdigest()


def _etag(st):
    return f'"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"'


def _copy(source, dest, total, progress_callback):
    done = 0
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            break
        dest.write(chunk)
        done += len(chunk)
        if progress_callback is not None:
            progress_callback(done, total)
    if progress_callback is not None and done == 0:
        progress_callback(0, total)


class MyCloudStorage(implements(StoreInterface)):

    def __init__(self, storage_creds_dict):
        ''' the constructor must accept a provider-specific storage_creds_dict argument '''
        self.storage_creds_dict = storage_creds_dict
        self.service_name = storage_creds_dict.get("name", "mycloudstorage")
        # With no account (e.g. under `xtstore check-provider`), a default local cloud.
        account = urlparse(storage_creds_dict.get("account") or "https://localhost/default")
        top = os.environ.get("MYCLOUD_ROOT") or os.path.expanduser("~/.mycloud")
        self.root = os.path.join(top, account.hostname or "localhost",
                                 *[part for part in account.path.split("/") if part])
        os.makedirs(self.root, exist_ok=True)
        self.retry = 0

    # ---- MISC part of interface ----

    def get_retry(self):
        return self.retry

    def set_retry(self, value):
        self.retry = value

    def get_service_name(self):
        return self.service_name

    def capabilities(self):
        # Everything is built from plain files: emulated, with the same observable behaviour.
        return Capabilities(append=Support.EMULATED, snapshots=Support.EMULATED,
                            conditional_writes=Support.EMULATED,
                            server_side_copy=Support.EMULATED, metadata=Support.EMULATED,
                            shared_between_processes=True)

    # ---- paths ----

    def _dir(self, container, *parts):
        return os.path.join(self.root, container, *parts)

    def _need_container(self, container):
        if not os.path.isdir(self._dir(container, "blobs")):
            raise ContainerNotFound("container not found", container=container)

    def _blob_file(self, container, blob_path):
        return self._dir(container, "blobs", *blob_path.split("/"))

    def _snapshot_file(self, container, blob_path, snapshot):
        if not SNAPSHOT_ID.match(str(snapshot)):
            raise BlobNotFound(f"no snapshot {snapshot!r}", container=container, blob=blob_path)
        return self._dir(container, "snapshots", _key(blob_path), snapshot)

    def _meta_file(self, container, blob_path):
        return self._dir(container, "meta", _key(blob_path) + ".json")

    @contextmanager
    def _locked(self, container, blob_path, shared=False):
        """Hold the blob's lock: exclusive for writers, shared for readers."""
        self._need_container(container)
        lock_fn = self._dir(container, "locks", _key(blob_path) + ".lock")
        with open(lock_fn, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def _new_temp(self, container):
        """A temporary file in the container's tmp/ folder, removed unless renamed away."""
        self._need_container(container)
        temp_fn = self._dir(container, "tmp", uuid.uuid4().hex)
        try:
            with open(temp_fn, "xb") as temp:
                yield temp, temp_fn
        finally:
            if os.path.exists(temp_fn):
                os.unlink(temp_fn)

    def _install(self, container, blob_path, temp, temp_fn, fail_if_exists=False):
        """Move a complete temp file into place as the blob (atomically)."""
        temp.flush()
        now = time.time_ns()
        os.utime(temp_fn, ns=(now, now))     # a fresh mtime makes every write's etag new
        dest = self._blob_file(container, blob_path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        # Under the blob's lock, so that no append is half-way through either.
        with self._locked(container, blob_path):
            if fail_if_exists:
                try:
                    os.link(temp_fn, dest)   # fails if dest exists: create-only, atomically
                except FileExistsError:
                    raise BlobAlreadyExists("blob already exists", container=container,
                                            blob=blob_path) from None
            else:
                os.replace(temp_fn, dest)
        self._drop(self._meta_file(container, blob_path))

    @staticmethod
    def _drop(fn):
        if os.path.exists(fn):
            os.unlink(fn)

    @staticmethod
    def _read_json(fn):
        try:
            with open(fn, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _write_json(self, container, fn, value):
        with self._new_temp(container) as (temp, temp_fn):
            temp.write(json.dumps(value).encode("utf-8"))
            temp.flush()
            os.replace(temp_fn, fn)

    # ---- CONTAINER interface ----

    def does_container_exist(self, container):
        return os.path.isdir(self._dir(container, "blobs"))

    def create_container(self, container):
        # Build it aside, then rename: it appears complete, and only one creator wins.
        staging = os.path.join(self.root, ".new-" + uuid.uuid4().hex)
        for part in ("blobs", "meta", "snapshots", "locks", "tmp"):
            os.makedirs(os.path.join(staging, part))
        with open(os.path.join(staging, "container.json"), "w", encoding="utf-8") as f:
            json.dump({}, f)
        try:
            os.rename(staging, self._dir(container))
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if os.path.isdir(self._dir(container)):
                raise ContainerAlreadyExists("container already exists",
                                             container=container) from None
            raise

    def list_containers(self):
        return sorted(name for name in os.listdir(self.root)
                      if not name.startswith(".") and self.does_container_exist(name))

    def delete_container(self, container):
        self._need_container(container)
        trash = os.path.join(self.root, ".del-" + uuid.uuid4().hex)
        try:
            os.rename(self._dir(container), trash)
        except FileNotFoundError:
            raise ContainerNotFound("container not found", container=container) from None
        shutil.rmtree(trash, ignore_errors=True)

    def get_container_properties(self, container):
        self._need_container(container)
        fn = self._dir(container, "container.json")
        modified = datetime.fromtimestamp(os.stat(fn).st_mtime, tz=timezone.utc)
        return ContainerInfo(container, modified, self._read_json(fn))

    def get_container_metadata(self, container):
        self._need_container(container)
        return self._read_json(self._dir(container, "container.json"))

    def set_container_metadata(self, container, metadata):
        self._need_container(container)
        self._write_json(container, self._dir(container, "container.json"), dict(metadata))

    # ---- BLOB interface ----

    def does_blob_exist(self, container, blob_path):
        return os.path.isfile(self._blob_file(container, blob_path))

    def create_blob(self, container, blob_path, text, fail_if_exists=False):
        with self._new_temp(container) as (temp, temp_fn):
            temp.write(_to_bytes(text))
            self._install(container, blob_path, temp, temp_fn, fail_if_exists)

    def create_blob_from_path(self, container, blob_path, source_fn, progress_callback=None):
        with open(source_fn, "rb") as source, self._new_temp(container) as (temp, temp_fn):
            _copy(source, temp, os.fstat(source.fileno()).st_size, progress_callback)
            self._install(container, blob_path, temp, temp_fn)

    def append_blob(self, container, blob_path, text, append_with_rewrite=False):
        data = _to_bytes(text)
        blob_fn = self._blob_file(container, blob_path)
        with self._locked(container, blob_path):
            if append_with_rewrite or not os.path.exists(blob_fn):
                # Read-modify-write; the lock is our "etag condition" (no writer in between).
                with self._new_temp(container) as (temp, temp_fn):
                    if os.path.exists(blob_fn):
                        with open(blob_fn, "rb") as old:
                            shutil.copyfileobj(old, temp, CHUNK)
                    temp.write(data)
                    temp.flush()
                    os.makedirs(os.path.dirname(blob_fn), exist_ok=True)
                    os.replace(temp_fn, blob_fn)
            else:
                with open(blob_fn, "ab") as blob:
                    blob.write(data)
            now = time.time_ns()
            os.utime(blob_fn, ns=(now, now))

    def _names(self, container, prefix):
        """Every blob name starting with ``prefix``, sorted."""
        self._need_container(container)
        blobs_dir = self._dir(container, "blobs")
        start = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        names = []
        for folder, _, files in os.walk(os.path.join(blobs_dir, *start.split("/"))):
            relative = os.path.relpath(folder, blobs_dir).replace(os.sep, "/")
            for name in files:
                full = name if relative == "." else relative + "/" + name
                if full.startswith(prefix):
                    names.append(full)
        return sorted(names)

    def _info(self, container, name, with_metadata=False):
        st = os.stat(self._blob_file(container, name))
        metadata = self._read_json(self._meta_file(container, name)) if with_metadata else None
        props = BlobProperties.from_ns(st.st_size, st.st_mtime_ns, _etag(st), metadata=metadata)
        return BlobInfo(name, False, props)

    def list_blobs(self, container, path=None, return_names=True, recursive=True):
        # xtstore hands us path as "" (everything), "foo/" (a folder) or "foo*" (a prefix).
        path = path or ""
        prefix = path[:-1] if path.endswith("*") else path
        names = self._names(container, prefix)
        if not recursive:
            # Blobs directly under the path, plus each child folder once ("a/b/").
            base = prefix[: prefix.rfind("/") + 1]
            entries = set()
            for name in names:
                rest = name[len(base):]
                entries.add(base + rest.split("/")[0] + "/" if "/" in rest else name)
            names = sorted(entries)
        if return_names:
            return names
        infos = []
        for name in names:
            if name.endswith("/"):
                infos.append(BlobInfo(name, True, None))
            else:
                with contextlib.suppress(FileNotFoundError):  # deleted while we listed
                    infos.append(self._info(container, name))
        return infos

    def delete_blob(self, container, blob_path, snapshot=None):
        with self._locked(container, blob_path):
            if snapshot is not None:
                snapshot_fn = self._snapshot_file(container, blob_path, snapshot)
                if not os.path.isfile(snapshot_fn):
                    raise BlobNotFound(f"no snapshot {snapshot!r}", container=container,
                                       blob=blob_path)
                os.unlink(snapshot_fn)
                return
            blob_fn = self._blob_file(container, blob_path)
            if not os.path.isfile(blob_fn):
                raise BlobNotFound("blob not found", container=container, blob=blob_path)
            os.unlink(blob_fn)
            shutil.rmtree(self._dir(container, "snapshots", _key(blob_path)),
                          ignore_errors=True)
            self._drop(self._meta_file(container, blob_path))
            self._prune(container, os.path.dirname(blob_fn))

    def _prune(self, container, folder):
        """Remove folders left empty, so they no longer show up in listings."""
        blobs_dir = self._dir(container, "blobs")
        while folder != blobs_dir and folder.startswith(blobs_dir):
            try:
                os.rmdir(folder)
            except OSError:
                return                       # not empty (or already gone)
            folder = os.path.dirname(folder)

    def get_blob_text(self, container, blob_path):
        with self._open(container, blob_path) as blob:
            return blob.read().decode("utf-8")

    def get_blob_bytes(self, container, blob_path, snapshot=None):
        with self._open(container, blob_path, snapshot) as blob:
            return blob.read()

    @contextmanager
    def _open(self, container, blob_path, snapshot=None):
        """The blob (or snapshot) opened for reading, under a shared lock so no append is
        half-way through while we read."""
        with self._locked(container, blob_path, shared=True):
            if snapshot is None:
                fn = self._blob_file(container, blob_path)
            else:
                fn = self._snapshot_file(container, blob_path, snapshot)
            try:
                blob = open(fn, "rb")  # noqa: SIM115 - closed by the "with blob" below
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                what = "blob not found" if snapshot is None else f"no snapshot {snapshot!r}"
                raise BlobNotFound(what, container=container, blob=blob_path) from None
            with blob:
                yield blob

    def get_blob_to_path(self, container, blob_path, dest_fn, snapshot=None, progress_callback=None):
        folder = os.path.dirname(os.path.abspath(dest_fn))
        with self._open(container, blob_path, snapshot) as blob:
            os.makedirs(folder, exist_ok=True)
            part_fn = os.path.join(folder, f".{os.path.basename(dest_fn)}.{uuid.uuid4().hex}.part")
            try:
                with open(part_fn, "wb") as part:
                    _copy(blob, part, os.fstat(blob.fileno()).st_size, progress_callback)
                os.replace(part_fn, dest_fn)  # whole or nothing: dest_fn appears complete
            finally:
                if os.path.exists(part_fn):
                    os.unlink(part_fn)

    def get_blob_properties(self, container, blob_path):
        self._need_container(container)
        if os.path.isdir(self._blob_file(container, blob_path)):  # a folder is not a blob
            raise BlobNotFound("blob not found", container=container, blob=blob_path)
        try:
            return self._info(container, blob_path, with_metadata=True)
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound("blob not found", container=container, blob=blob_path) from None

    def get_blob_metadata(self, container, blob_path):
        return dict(self.get_blob_properties(container, blob_path).metadata)

    def set_blob_metadata(self, container, blob_path, metadata):
        with self._locked(container, blob_path):
            if not self.does_blob_exist(container, blob_path):
                raise BlobNotFound("blob not found", container=container, blob=blob_path)
            self._write_json(container, self._meta_file(container, blob_path), dict(metadata))
            now = time.time_ns()             # a metadata change is a write: new etag
            os.utime(self._blob_file(container, blob_path), ns=(now, now))

    def copy_blob(self, source_container, source_blob_path, dest_container, dest_blob_path):
        metadata = self.get_blob_metadata(source_container, source_blob_path)
        with self._open(source_container, source_blob_path) as source, \
                self._new_temp(dest_container) as (temp, temp_fn):
            shutil.copyfileobj(source, temp, CHUNK)
            self._install(dest_container, dest_blob_path, temp, temp_fn)
        if metadata:
            self._write_json(dest_container, self._meta_file(dest_container, dest_blob_path),
                             metadata)

    def snapshot_blob(self, container, blob_path):
        snapshot = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        snapshot_fn = self._snapshot_file(container, blob_path, snapshot)
        with self._open(container, blob_path) as blob:
            os.makedirs(os.path.dirname(snapshot_fn), exist_ok=True)
            with self._new_temp(container) as (temp, temp_fn):
                shutil.copyfileobj(blob, temp, CHUNK)
                temp.flush()
                os.replace(temp_fn, snapshot_fn)
        return SnapshotInfo(container, blob_path, snapshot, datetime.now(timezone.utc))
