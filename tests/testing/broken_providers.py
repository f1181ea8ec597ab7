"""Deliberately broken providers: each is a correct built-in provider with one bug that a
real implementation could plausibly have. The conformance suite must catch every one."""

from __future__ import annotations

import io
import os
import shutil
import time
from datetime import datetime
from typing import Any

from xtstore.errors import BlobAlreadyExists
from xtstore.interface import ProgressCallback, StoreInterface, Text, _SpooledUpload
from xtstore.providers.file.store import FileProvider
from xtstore.providers.memory.store import MemoryProvider
from xtstore.values import BlobInfo, BlobProperties, Capabilities, SnapshotInfo, Support
from xtstore.writer import BlobWriter


class PrefixListing(MemoryProvider):
    """Treats a folder path as a raw prefix, so 'foo' also lists 'foobar'."""

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> Any:
        if path and not path.endswith("*"):
            path = path.rstrip("/") + "*"
        return super().list_blobs(container, path, return_names, recursive)


class UnsortedListing(MemoryProvider):
    """Returns names in reverse order."""

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> Any:
        return list(reversed(super().list_blobs(container, path, return_names, recursive)))


class ListsSnapshots(MemoryProvider):
    """Lists each snapshot as a blob named 'name@id' (as some stores' raw listings do)."""

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> Any:
        names = super().list_blobs(container, path, True, recursive)
        extra = [f"{name}@{snap.snapshot}" for name in names if not str(name).endswith("/")
                 for snap in self.list_snapshots(container, str(name))]
        everything = sorted([*map(str, names), *extra])
        if return_names:
            return everything
        return [BlobInfo(name, name.endswith("/"), None if name.endswith("/") else
                         BlobProperties.from_ns(0, time.time_ns(), "x")) for name in everything]


class CheckThenWrite(MemoryProvider):
    """Create-only as 'check, then write' (no sleep in between): concurrent creators can all
    win."""

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        if fail_if_exists and self.does_blob_exist(container, blob_path):
            raise BlobAlreadyExists("blob already exists")
        super().create_blob(container, blob_path, text)


class CheckThenWriteFile(FileProvider):
    """XT FileStore's create-only: does the file exist? if not, write it. No sleep: the window
    is the microseconds between the two system calls."""

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        if fail_if_exists and self.does_blob_exist(container, blob_path):
            raise BlobAlreadyExists("blob already exists")
        super().create_blob(container, blob_path, text)


class InterleavingAppend(MemoryProvider):
    """Appends one call's text in two separate writes, so other appends can cut in."""

    def append_blob(self, container: str, blob_path: str, text: Text,
                    append_with_rewrite: bool = False) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        half = len(data) // 2
        super().append_blob(container, blob_path, data[:half])
        time.sleep(0.0005)
        super().append_blob(container, blob_path, data[half:])


class LostUpdateRewrite(MemoryProvider):
    """append_with_rewrite as read, modify, write with no etag condition: updates get lost."""

    def append_blob(self, container: str, blob_path: str, text: Text,
                    append_with_rewrite: bool = False) -> None:
        if not append_with_rewrite:
            super().append_blob(container, blob_path, text)
            return
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        old = (self.get_blob_bytes(container, blob_path)
               if self.does_blob_exist(container, blob_path) else b"")
        time.sleep(0.0005)
        super().create_blob(container, blob_path, old + data)


class TornOverwrite(MemoryProvider):
    """Overwrites in two steps (first half, then all), so a reader can see half a blob."""

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        if len(data) > 1024:
            super().create_blob(container, blob_path, data[: len(data) // 2])
            time.sleep(0.02)
        super().create_blob(container, blob_path, data, fail_if_exists=fail_if_exists)

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: ProgressCallback | None = None) -> None:
        with open(source_fn, "rb") as source:
            self.create_blob(container, blob_path, source.read())


class PartialDownload(MemoryProvider):
    """Downloads straight into dest_fn, chunk by chunk: a failure leaves half a file."""

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None) -> None:
        data = self.get_blob_bytes(container, blob_path, snapshot=snapshot)
        os.makedirs(os.path.dirname(dest_fn) or ".", exist_ok=True)
        with open(dest_fn, "wb") as out:
            for start in range(0, len(data), 1024 * 1024):
                out.write(data[start:start + 1024 * 1024])
                out.flush()
                if progress_callback is not None:
                    progress_callback(min(start + 1024 * 1024, len(data)), len(data))


class StaleDownloadProperties(MemoryProvider):
    """get_blob_to_path returns the properties the blob had at its first download: stale
    after set_blob_metadata or an overwrite."""

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        self.first: dict[tuple[str, str], BlobProperties | None] = {}

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None
                         ) -> BlobProperties | None:
        got = super().get_blob_to_path(container, blob_path, dest_fn, snapshot,
                                       progress_callback)
        return self.first.setdefault((container, blob_path), got)


class DeclaredDownloadPropertiesNone(MemoryProvider):
    """Declares capabilities().download_properties (store-memory does) but its
    get_blob_to_path returns None, as an XT-style download does: a caller trusting the
    declaration would keep no modification time."""

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None) -> None:
        super().get_blob_to_path(container, blob_path, dest_fn, snapshot, progress_callback)


class DeleteKeepsSnapshots(MemoryProvider):
    """delete_blob(snapshot=None) deletes the blob but leaves its snapshots readable."""

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        kept = self._containers[container].snapshots.get(blob_path) if snapshot is None else None
        super().delete_blob(container, blob_path, snapshot)
        if kept:
            self._containers[container].snapshots[blob_path] = kept


class NaiveTimes(MemoryProvider):
    """Reports last_modified as a naive local datetime."""

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        info = super().get_blob_properties(container, blob_path)
        assert info.properties is not None
        props = info.properties
        naive = BlobProperties(props.content_length, datetime.now(), props.modified_ns,
                               props.etag, metadata=props.metadata)
        return BlobInfo(info.name, False, naive)


class SilentSnapshots(MemoryProvider):
    """Says snapshots are UNSUPPORTED, then silently does nothing instead of raising."""

    def capabilities(self) -> Capabilities:
        return Capabilities(snapshots=Support.UNSUPPORTED, shared_between_processes=False)

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        return SnapshotInfo(container, blob_path, "none", datetime.now())


class EmptyListingOfMissingContainer(MemoryProvider):
    """Lists a missing container as empty instead of raising ContainerNotFound."""

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> Any:
        if not self.does_container_exist(container):
            return []
        return super().list_blobs(container, path, return_names, recursive)


class MemoryHungryUpload(FileProvider):
    """Reads the whole source file into memory before writing it."""

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: ProgressCallback | None = None) -> None:
        with open(source_fn, "rb") as source:
            self.create_blob(container, blob_path, source.read())


class LiveSnapshots(MemoryProvider):
    """A snapshot id that reads whatever the blob holds now, not what it held then."""

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        info = super().snapshot_blob(container, blob_path)
        return SnapshotInfo(container, blob_path, "live-" + info.snapshot, info.created)

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None) -> None:
        live = snapshot is not None and snapshot.startswith("live-")
        super().get_blob_to_path(container, blob_path, dest_fn, None if live else snapshot,
                                 progress_callback)


class SizeEtag(MemoryProvider):
    """Derives the etag from the size only, so a same-size write keeps the etag."""

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        info = super().get_blob_properties(container, blob_path)
        assert info.properties is not None
        props = info.properties
        return BlobInfo(info.name, False, BlobProperties.from_ns(
            props.content_length, props.modified_ns, f'"{props.content_length}"',
            metadata=props.metadata))


class CopyKeepsDestination(MemoryProvider):
    """copy_blob silently keeps an existing destination."""

    def copy_blob(self, source_container: str, source_blob_path: str, dest_container: str,
                  dest_blob_path: str) -> None:
        if not self.does_blob_exist(dest_container, dest_blob_path):
            super().copy_blob(source_container, source_blob_path, dest_container,
                              dest_blob_path)


class NoParentFolders(MemoryProvider):
    """get_blob_to_path expects dest_fn's folder to exist."""

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None) -> None:
        data = self.get_blob_bytes(container, blob_path, snapshot=snapshot)
        with open(dest_fn, "wb") as out:
            out.write(data)


class UnsortedContainers(MemoryProvider):
    """list_containers in creation order, newest first."""

    def list_containers(self) -> list[str]:
        return list(reversed(list(self._containers)))


class NoProgress(MemoryProvider):
    """Never calls progress_callback (``Store`` then ends the sequence for it, which must not
    hide that the provider reports nothing)."""

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: ProgressCallback | None = None) -> None:
        super().create_blob_from_path(container, blob_path, source_fn)

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None) -> None:
        super().get_blob_to_path(container, blob_path, dest_fn, snapshot)


class CopyIntoPlace(FileProvider):
    """Uploads as XT's FileStore does, copying straight over the blob's file (and never
    calling progress_callback): an upload that fails part-way leaves a partial blob."""

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: ProgressCallback | None = None) -> None:
        self._layout.require_container(container)
        target = self._layout.blob_file(container, blob_path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source_fn, target)


class WithXtLimits(FileProvider):
    """A correct store with XT FileStore's limits: ``create_blob`` takes only str (XT opens
    the file with "wt"), and ``get_blob_to_path`` needs dest_fn's folder to exist."""

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        super().create_blob(container, blob_path, text, fail_if_exists)

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None) -> None:
        if not os.path.isdir(os.path.dirname(dest_fn)):
            raise FileNotFoundError(2, "No such file or directory", dest_fn)
        super().get_blob_to_path(container, blob_path, dest_fn, snapshot, progress_callback)


class UntypedLosers(FileProvider):
    """Atomic create-only, but the losers raise a plain RuntimeError (as XT's ServiceError)."""

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        try:
            super().create_blob(container, blob_path, text, fail_if_exists)
        except BlobAlreadyExists:
            raise RuntimeError("blob already exists: " + blob_path) from None


class CheckThenWriteUntyped(FileProvider):
    """Check-then-write whose losers raise a plain RuntimeError, as XT's FileStore does."""

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        if fail_if_exists and self.does_blob_exist(container, blob_path):
            raise RuntimeError("blob already exists: " + blob_path)
        super().create_blob(container, blob_path, text)


class BrokenUpload(MemoryProvider):
    """create_blob_from_path always fails: clauses that only use it to set up say so."""

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: ProgressCallback | None = None) -> None:
        raise TypeError("upload is not implemented yet")


class RangeOffByOne(MemoryProvider):
    """get_blob_range includes the byte at ``end`` (an inclusive HTTP Range header passed
    the exclusive end as it is)."""

    def get_blob_range(self, container: str, blob_path: str, start: int,
                       end: int | None = None, snapshot: str | None = None) -> bytes:
        data = self.get_blob_bytes(container, blob_path, snapshot)
        return data[start:] if end is None else data[start:end + 1]


class RangePastTheEndFails(MemoryProvider):
    """A range starting at or past the blob's end fails, as an unhandled HTTP 416 does."""

    def get_blob_range(self, container: str, blob_path: str, start: int,
                       end: int | None = None, snapshot: str | None = None) -> bytes:
        data = self.get_blob_bytes(container, blob_path, snapshot)
        if start >= len(data):
            raise OSError("416 Range Not Satisfiable")
        return data[start:end]


class _ForwardOnly(io.RawIOBase):
    """A stream that reads in order and cannot seek, like an HTTP body."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


class UnseekableStream(MemoryProvider):
    """open_blob returns a forward-only stream (seekable() False, seek raises)."""

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> Any:
        return io.BufferedReader(_ForwardOnly(self.get_blob_bytes(container, blob_path,
                                                                  snapshot)))


class _SeekCurFromStart(io.BytesIO):
    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return super().seek(offset, os.SEEK_SET if whence == os.SEEK_CUR else whence)


class SeekCurFromStart(MemoryProvider):
    """open_blob's stream takes seek(offset, SEEK_CUR) from the start, not from tell()."""

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> Any:
        return _SeekCurFromStart(self.get_blob_bytes(container, blob_path, snapshot))


class _LiveReads(io.RawIOBase):
    def __init__(self, provider: MemoryProvider, container: str, blob_path: str) -> None:
        self._read = lambda: provider.get_blob_bytes(container, blob_path)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = (0, self._position, len(self._read()))[whence]
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        data = self._read()[self._position:self._position + len(buffer)]
        buffer[:len(data)] = data
        self._position += len(data)
        return len(data)


class MixedVersions(MemoryProvider):
    """open_blob's reads fetch whatever the blob holds at each read (ranged GETs not pinned
    to the version first read)."""

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> Any:
        self.get_blob_bytes(container, blob_path, snapshot)
        return _LiveReads(self, container, blob_path)


class WholeBlobInMemory(FileProvider):
    """open_blob reads the whole blob into memory, then serves seeks from there."""

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> Any:
        with super().open_blob(container, blob_path, snapshot) as stream:
            return io.BytesIO(stream.read())


class _InPlaceSink:
    """Writes every part straight into the blob, visible at once (append as you go)."""

    part_size = 256 * 1024

    def __init__(self, provider: StoreInterface, container: str, blob_path: str) -> None:
        self._provider = provider
        self._where = (container, blob_path)

    def write_part(self, index: int, data: bytes) -> None:
        if index == 0:
            self._provider.create_blob_from_stream(*self._where, io.BytesIO(data))
        else:
            self._provider.append_blob(*self._where, data)

    def commit(self, parts: int, tail: bytes) -> None:
        if parts == 0:
            self._provider.create_blob_from_stream(*self._where, io.BytesIO(tail))
        elif tail:
            self._provider.append_blob(*self._where, tail)

    def abort(self) -> None:
        pass


class WritesInPlace(FileProvider):
    """open_blob(mode="wb") writes each part into the blob as it comes: readers see a
    growing blob, and a killed writer leaves a partial one."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        return BlobWriter(_InPlaceSink(self, container, blob_path))


class _CommitOnCollect(BlobWriter):
    def __del__(self) -> None:
        self.close()


class CommitsWhenCollected(MemoryProvider):
    """A writer collected unclosed commits (io.IOBase's own __del__ closes)."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        return _CommitOnCollect(_SpooledUpload(self, container, blob_path, None))


class _TailDropping:
    def __init__(self, sink: Any) -> None:
        self._sink = sink
        self.part_size = sink.part_size

    def write_part(self, index: int, data: bytes) -> None:
        self._sink.write_part(index, data)

    def commit(self, parts: int, tail: bytes) -> None:
        self._sink.commit(parts, b"")

    def abort(self) -> None:
        self._sink.abort()


class DropsTheTail(MemoryProvider):
    """The writer's commit forgets the last, partial part."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        return BlobWriter(_TailDropping(_SpooledUpload(self, container, blob_path, None)))


class _MetadataKeeping(_TailDropping):
    def __init__(self, sink: Any, provider: MemoryProvider, container: str,
                 blob_path: str) -> None:
        super().__init__(sink)
        self._restore = (provider, container, blob_path)

    def commit(self, parts: int, tail: bytes) -> None:
        provider, container, blob_path = self._restore
        old = provider.get_blob_metadata(container, blob_path) if provider.does_blob_exist(
            container, blob_path) else {}
        self._sink.commit(parts, tail)
        if old:
            provider.set_blob_metadata(container, blob_path, old)


class WriterKeepsMetadata(MemoryProvider):
    """A written blob keeps the old blob's metadata (a rewrite that copies it over)."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        sink = _SpooledUpload(self, container, blob_path, None)
        return BlobWriter(_MetadataKeeping(sink, self, container, blob_path))


class WriterChecksContainerOnClose(MemoryProvider):
    """open_blob(mode="wb") on a missing container fails only when the writer closes."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        return BlobWriter(_SpooledUpload(self, container, blob_path, content_type))


class _Hoarding:
    """Keeps every part in memory until the commit."""

    part_size = 256 * 1024

    def __init__(self, provider: StoreInterface, container: str, blob_path: str) -> None:
        self._provider = provider
        self._where = (container, blob_path)
        self._parts: dict[int, bytes] = {}

    def write_part(self, index: int, data: bytes) -> None:
        self._parts[index] = data

    def commit(self, parts: int, tail: bytes) -> None:
        content = b"".join(self._parts[n] for n in range(parts)) + tail
        self._provider.create_blob_from_stream(*self._where, io.BytesIO(content))

    def abort(self) -> None:
        self._parts.clear()


class MemoryHungryWriter(FileProvider):
    """open_blob(mode="wb") holds the whole content in memory until close."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        return BlobWriter(_Hoarding(self, container, blob_path))


class WriterCannotOpen(FileProvider):
    """open_blob(mode="wb") always fails: the killed-writer clause reports the worker's error."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        raise RuntimeError("no writer here")


class _CommitEveryClose(BlobWriter):
    def close(self) -> None:
        tail = bytes(self._buffer)
        if not self.closed:
            super().close()
        self._sink.commit(self._parts, tail)


class _ReusableSpool:
    """A spool sink whose commit can run again (it keeps the spooled content)."""

    part_size = 256 * 1024

    def __init__(self, provider: StoreInterface, container: str, blob_path: str) -> None:
        self._provider = provider
        self._where = (container, blob_path)
        self._content = b""

    def write_part(self, index: int, data: bytes) -> None:
        self._content = self._content[:index * self.part_size] + data

    def commit(self, parts: int, tail: bytes) -> None:
        if tail:
            self._content = self._content[:parts * self.part_size] + tail
        self._provider.create_blob_from_stream(*self._where, io.BytesIO(self._content))

    def abort(self) -> None:
        self._content = b""


class CommitsOnEveryClose(MemoryProvider):
    """Every close() of a writer commits again, also after the first."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        return _CommitEveryClose(_ReusableSpool(self, container, blob_path))
