"""``store-memory``: an in-process store for tests and examples.

Everything lives in dicts behind one lock, so every operation is atomic with respect to the
others in the same process. Blobs are immutable ``bytes`` values, which makes copies and
snapshots O(1) and a reader never sees a partial write. The store is not shared between
processes (``capabilities().shared_between_processes`` is False).
"""

from __future__ import annotations

import io
import itertools
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, Any

from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
)
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.listing import iter_infos, iter_names, list_prefix
from xtstore.localfiles.atomic import atomic_local_file
from xtstore.localfiles.oscalls import PROGRESS_CHUNK
from xtstore.providers._public import provider_store_class
from xtstore.providers._shared import new_snapshot_id, snapshot_created, to_bytes
from xtstore.providers.memory.description import DESCRIPTION
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
    datetime_from_ns,
)
from xtstore.writer import BlobWriter

__all__ = ["MemoryProvider", "MemoryStore"]

_READ_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Blob:
    data: bytes
    modified_ns: int
    etag: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def info(self, name: str) -> BlobInfo:
        return BlobInfo(
            name=name,
            properties=BlobProperties.from_ns(
                len(self.data),
                self.modified_ns,
                self.etag,
                content_type=self.content_type,
                metadata=self.metadata,
            ),
        )


@dataclass(slots=True)
class _Container:
    modified_ns: int
    metadata: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, _Blob] = field(default_factory=dict)
    snapshots: dict[str, dict[str, _Blob]] = field(default_factory=dict)
    """blob name → snapshot id → frozen content; kept apart so it is never listed."""


class MemoryProvider(StoreInterface):
    """The ``store-memory`` provider. ``config`` is the service's dict (only ``name`` is used).

    Raises :class:`ContainerNotFound`, :class:`ContainerAlreadyExists`, :class:`BlobNotFound`
    and :class:`BlobAlreadyExists` as the interface documents.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = dict(config or {})
        self._name = str(config.get("name", "memory"))
        self._lock = threading.RLock()
        self._containers: dict[str, _Container] = {}
        self._etags = itertools.count(1)
        self._instance = os.urandom(4).hex()

    # ---- misc ----

    def get_service_name(self) -> str:
        return self._name

    def capabilities(self) -> Capabilities:
        return DESCRIPTION.capabilities

    def _new_blob(self, data: bytes, metadata: Mapping[str, str] | None = None,
                  content_type: str | None = None) -> _Blob:
        # Called with the lock held: the counter makes every write's etag unique.
        etag = f'"{self._instance}-{next(self._etags):x}"'
        return _Blob(data, time.time_ns(), etag, dict(metadata or {}), content_type)

    def _container(self, container: str) -> _Container:
        try:
            return self._containers[container]
        except KeyError:
            raise ContainerNotFound("container not found", container=container) from None

    def _blob(self, container: str, blob_path: str, snapshot: str | None = None) -> _Blob:
        box = self._container(container)
        try:
            if snapshot is not None:
                return box.snapshots[blob_path][snapshot]
            return box.blobs[blob_path]
        except KeyError:
            what = "blob not found" if snapshot is None else f"snapshot {snapshot!r} not found"
            raise BlobNotFound(what, container=container, blob=blob_path) from None

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        with self._lock:
            return container in self._containers

    def create_container(self, container: str) -> bool:
        """Raises :class:`ContainerAlreadyExists`."""
        with self._lock:
            if container in self._containers:
                raise ContainerAlreadyExists("container already exists", container=container)
            self._containers[container] = _Container(time.time_ns())
        return True

    def list_containers(self) -> list[str]:
        with self._lock:
            return sorted(self._containers)

    def delete_container(self, container: str) -> bool:
        """Raises :class:`ContainerNotFound`."""
        with self._lock:
            self._container(container)
            del self._containers[container]
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        """Raises :class:`ContainerNotFound`."""
        with self._lock:
            box = self._container(container)
            return ContainerInfo(container, datetime_from_ns(box.modified_ns), box.metadata)

    def get_container_metadata(self, container: str) -> dict[str, str]:
        """Raises :class:`ContainerNotFound`."""
        with self._lock:
            return dict(self._container(container).metadata)

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Raises :class:`ContainerNotFound`."""
        with self._lock:
            box = self._container(container)
            box.metadata = dict(metadata)
            box.modified_ns = time.time_ns()

    # ---- blobs: writing ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        with self._lock:
            box = self._containers.get(container)
            return box is not None and blob_path in box.blobs

    def _put(self, container: str, blob_path: str, data: bytes, fail_if_exists: bool,
             content_type: str | None, metadata: Mapping[str, str] | None) -> None:
        """The blob's new content and metadata (none when None), swapped in in one step."""
        with self._lock:
            box = self._container(container)
            if fail_if_exists and blob_path in box.blobs:
                raise BlobAlreadyExists("blob already exists", container=container,
                                        blob=blob_path)
            box.blobs[blob_path] = self._new_blob(data, metadata, content_type)

    def create_blob(
        self,
        container: str,
        blob_path: str,
        text: Text,
        fail_if_exists: bool = False,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Replace the blob, its metadata becoming ``metadata`` (none if None). Raises
        :class:`ContainerNotFound`, and :class:`BlobAlreadyExists` with ``fail_if_exists``."""
        self._put(container, blob_path, to_bytes(text), fail_if_exists, content_type, metadata)

    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Raises :class:`ContainerNotFound`; ``FileNotFoundError`` for a missing source."""
        with open(source_fn, "rb") as source:
            self.create_blob_from_stream(container, blob_path, source,
                                         length=os.fstat(source.fileno()).st_size,
                                         progress_callback=progress_callback,
                                         content_type=content_type, metadata=metadata)

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Raises :class:`ContainerNotFound`."""
        with self._lock:
            self._container(container)
        data = _read_with_progress(stream, length, progress_callback)
        self._put(container, blob_path, data, False, content_type, metadata)

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        """Parts are kept in memory (this store holds every blob there anyway) and become the
        blob at once on commit. Raises :class:`ContainerNotFound` at the call."""
        with self._lock:
            self._container(container)
        return BlobWriter(_PartsInMemory(self, container, blob_path, content_type, metadata))

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Append atomically (both modes are the same here: the lock makes the read-modify-write
        safe). Keeps the blob's metadata. Raises :class:`ContainerNotFound`."""
        data = to_bytes(text)
        with self._lock:
            box = self._container(container)
            old = box.blobs.get(blob_path)
            if old is None:
                box.blobs[blob_path] = self._new_blob(data)
            else:
                box.blobs[blob_path] = self._new_blob(old.data + data, old.metadata,
                                                      old.content_type)

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Replace the blob's metadata; content, etag and last-modified stay (as with
        store-file, where metadata is kept beside the content). Raises :class:`BlobNotFound`."""
        with self._lock:
            old = self._blob(container, blob_path)
            self._containers[container].blobs[blob_path] = replace(old, metadata=dict(metadata))

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Copy content and metadata, overwriting the destination. Raises
        :class:`BlobNotFound` / :class:`ContainerNotFound`."""
        with self._lock:
            source = self._blob(source_container, source_blob_path)
            dest = self._container(dest_container)
            dest.blobs[dest_blob_path] = self._new_blob(source.data, source.metadata,
                                                        source.content_type)

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """Raises :class:`BlobNotFound`."""
        with self._lock:
            blob = self._blob(container, blob_path)
            snapshots = self._containers[container].snapshots.setdefault(blob_path, {})
            snapshot_id = new_snapshot_id()
            while snapshot_id in snapshots:
                snapshot_id = new_snapshot_id()
            snapshots[snapshot_id] = blob
        return SnapshotInfo(container, blob_path, snapshot_id, snapshot_created(snapshot_id))

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """Oldest first. Raises :class:`ContainerNotFound`."""
        with self._lock:
            ids = sorted(self._container(container).snapshots.get(blob_path, {}))
        return [SnapshotInfo(container, blob_path, i, snapshot_created(i)) for i in ids]

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """Delete the blob and its snapshots, or only ``snapshot``. Raises
        :class:`BlobNotFound`."""
        with self._lock:
            box = self._container(container)
            self._blob(container, blob_path, snapshot)
            if snapshot is None:
                del box.blobs[blob_path]
                box.snapshots.pop(blob_path, None)
                return
            snapshots = box.snapshots[blob_path]
            del snapshots[snapshot]
            if not snapshots:
                del box.snapshots[blob_path]

    # ---- blobs: reading ----

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """Raises :class:`ContainerNotFound` (when called, not when iterated)."""
        entries = self._snapshot_listing(container, path)
        return iter_infos(entries, path, recursive)

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """The names only, from one sorted copy of the names under the prefix. Raises
        :class:`ContainerNotFound` (when called, not when iterated)."""
        prefix = list_prefix(path)
        with self._lock:
            names = [name for name in self._container(container).blobs
                     if name.startswith(prefix)]
        names.sort()
        return iter_names(names, path, recursive)

    def _snapshot_listing(self, container: str, path: str | None) -> list[BlobInfo]:
        prefix = list_prefix(path)
        with self._lock:
            blobs = self._container(container).blobs
            chosen = [(name, blob) for name, blob in blobs.items() if name.startswith(prefix)]
        chosen.sort(key=lambda pair: pair[0])
        # Metadata rides along (capabilities().listing_metadata): it is in the same record.
        return [blob.info(name) for name, blob in chosen]

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """Raises :class:`BlobNotFound`."""
        with self._lock:
            blob = self._blob(container, blob_path)
        return blob.info(blob_path)

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        """Raises :class:`BlobNotFound`."""
        with self._lock:
            return dict(self._blob(container, blob_path).metadata)

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """Raises :class:`BlobNotFound`."""
        with self._lock:
            return self._blob(container, blob_path, snapshot).data

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """Raises :class:`BlobNotFound`."""
        return io.BytesIO(self.get_blob_bytes(container, blob_path, snapshot))

    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        """``content[start:end]`` of the blob or snapshot. Raises :class:`BlobNotFound`."""
        with self._lock:
            data = self._blob(container, blob_path, snapshot).data
        return data[start:end]

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> BlobProperties | None:
        """Write to a temporary file next to ``dest_fn``, then rename it into place; returns
        the properties of the version written (a blob's record is one version). Raises
        :class:`BlobNotFound`."""
        with self._lock:
            blob = self._blob(container, blob_path, snapshot)
        data = memoryview(blob.data)
        total = len(data)
        with atomic_local_file(dest_fn) as fd:
            done = 0
            if progress_callback is not None:
                progress_callback(0, total)
            while done < total:
                done += os.write(fd, data[done : done + PROGRESS_CHUNK])
                if progress_callback is not None:
                    progress_callback(done, total)
        return blob.info(blob_path).properties


class _PartsInMemory:
    """The writer's sink: parts by index (so a repeated step replaces its own part), joined
    into the blob's new content in one step under the lock on commit."""

    part_size = _READ_CHUNK

    def __init__(self, provider: MemoryProvider, container: str, blob_path: str,
                 content_type: str | None, metadata: Mapping[str, str] | None) -> None:
        self._provider = provider
        self._where = (container, blob_path)
        self._content_type = content_type
        self._metadata = None if metadata is None else dict(metadata)
        self._parts: dict[int, bytes] = {}

    def write_part(self, index: int, data: bytes) -> None:
        self._parts[index] = data

    def commit(self, parts: int, tail: bytes) -> None:
        data = b"".join([*(self._parts[index] for index in range(parts)), tail])
        self._provider._put(*self._where, data, False, self._content_type, self._metadata)
        self._parts.clear()

    def abort(self) -> None:
        self._parts.clear()


def _read_with_progress(
    stream: IO[bytes], total: int | None, progress_callback: ProgressCallback | None
) -> bytes:
    chunks = []
    done = 0
    if progress_callback is not None and total is not None:
        progress_callback(0, total)
    while True:
        chunk = stream.read(_READ_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        done += len(chunk)
        if progress_callback is not None:
            progress_callback(done, max(done, total or 0))
    return b"".join(chunks)


MemoryStore = provider_store_class("MemoryStore", MemoryProvider, __name__)
