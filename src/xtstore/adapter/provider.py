"""``ForeignProvider``: makes a class that merely has XT's methods (no ``StoreInterface`` base,
e.g. XT's own ``FileStore`` or one written with the ``interface`` package as on XT's page) a
full ``StoreInterface``.

XT's methods are delegated; what they return becomes the library's value types
(:mod:`xtstore.adapter.convert`) and what they raise becomes typed errors
(:mod:`xtstore.adapter.translate`). The additions (bytes, streams, iterator listing, ...) are
the foreign object's own where it has them, else ``StoreInterface``'s defaults built from
XT's methods. The provider's own retry is switched off: the Store's one retry layer retries,
so attempts are never multiplied.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from datetime import datetime, timezone
from typing import IO, Any, TypeVar

from xtstore.adapter.convert import (
    Origin,
    blob_info,
    container_info,
    listing,
    metadata,
    snapshot_info,
    synthetic_etag,
)
from xtstore.adapter.translate import FailedCall, translate
from xtstore.errors import (
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    StoreError,
    Unsupported,
)
from xtstore.interface import (
    XT_METHODS,
    ProgressCallback,
    RetrySetting,
    StoreInterface,
    Text,
    unimplemented_methods,
)
from xtstore.values import BlobInfo, Capabilities, ContainerInfo, SnapshotInfo, Support

__all__ = ["ADDITION_METHODS", "ForeignProvider", "missing_methods", "never_retry"]

T = TypeVar("T")

ADDITION_METHODS: tuple[str, ...] = (
    "get_blob_bytes",
    "open_blob",
    "create_blob_from_stream",
    "iter_blobs",
    "set_blob_metadata",
    "set_container_metadata",
    "list_snapshots",
)


def missing_methods(cls: type) -> list[str]:
    """What ``cls`` lacks to be a storage provider: for a ``StoreInterface`` subclass, the
    methods it must still implement (:func:`~xtstore.interface.unimplemented_methods`; the
    others have defaults); for any other class, XT's interface methods it does not have as
    callables (the adapter calls each of them)."""
    if issubclass(cls, StoreInterface):
        return unimplemented_methods(cls)
    return [name for name in XT_METHODS if not callable(getattr(cls, name, None))]


def _as_text(text: Text) -> Text:
    """``text`` as ``str`` where it can be, which every XT-style provider can write (XT's own
    write text); bytes that are not UTF-8 stay bytes."""
    if isinstance(text, str):
        return text
    try:
        return bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return text


def never_retry(context: Any) -> None:
    """An XT / azure-storage 2.x retry function that never retries (``None``: give up)."""
    return None


class ForeignProvider(StoreInterface):
    """Wraps an object that has every method of :data:`XT_METHODS`."""

    def __init__(self, inner: Any, service_name: str) -> None:
        self.inner = inner
        self._service_name = service_name
        self._provider = type(inner).__name__
        self._own = frozenset(
            name for name in ADDITION_METHODS if callable(getattr(inner, name, None))
        )
        self._retry_setting: RetrySetting = 0
        # A provider with no retry of its own to switch off has nothing to do here.
        with suppress(Unsupported):
            self._switch_off_own_retry()

    # ---- helpers ----

    def _call(self, method: str, action: Callable[[], T], container: str | None = None,
              blob: str | None = None, **details: Any) -> T:
        try:
            return action()
        except Exception as error:
            typed = translate(error, FailedCall(self._provider, method, container, blob,
                                                **details), self._container_exists)
            if typed is error:
                raise
            raise typed from error

    def _container_exists(self, container: str) -> bool | None:
        try:
            return bool(self.inner.does_container_exist(container))
        except Exception:
            return None  # the diagnosis falls back to the call's own error

    def _origin(self, method: str) -> Origin:
        return Origin(self._provider, method)

    def _switch_off_own_retry(self) -> None:
        # XT's set_retries(count) reaches every client a provider keeps (XT's azure provider
        # has a second one for appends, which its set_retry never reaches). XT's FileStore's
        # set_retries fails on an attribute it never sets: it has no retry to switch off.
        set_retries = getattr(self.inner, "set_retries", None)
        if callable(set_retries):
            with suppress(AttributeError, TypeError):
                set_retries(0)
        current = self._call("get_retry", self.inner.get_retry)
        # Keep the provider's own kind of setting: XT's azure provider hands a callable to
        # azure-storage 2.x, an int-counting provider gets 0.
        off: Any = never_retry if current is None or callable(current) else 0
        self._call("set_retry", lambda: self.inner.set_retry(off))

    # ---- misc ----

    def get_service_name(self) -> str:
        own = getattr(self.inner, "get_service_name", None)
        return str(own()) if callable(own) else self._service_name

    def capabilities(self) -> Capabilities:
        own = getattr(self.inner, "capabilities", None)
        if callable(own):
            result = own()
            if isinstance(result, Capabilities):
                return result
        # XT's interface can read metadata but not write it: only a class with its own
        # setters supports metadata.
        setters = ("set_blob_metadata", "set_container_metadata")
        has_setters = all(name in self._own for name in setters)
        return Capabilities(metadata=Support.EMULATED if has_setters else Support.UNSUPPORTED)

    def get_retry(self) -> RetrySetting:
        """What :meth:`set_retry` was last given (the provider's own retry stays off)."""
        return self._retry_setting

    def set_retry(self, value: RetrySetting) -> None:
        self._retry_setting = value
        self._switch_off_own_retry()

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        return bool(self._call("does_container_exist",
                               lambda: self.inner.does_container_exist(container), container))

    def create_container(self, container: str) -> bool:
        result = self._call("create_container", lambda: self.inner.create_container(container),
                            container)
        if result is False:  # azure-storage 2.x's answer for a container that exists
            raise ContainerAlreadyExists("container already exists")
        return True

    def list_containers(self) -> list[str]:
        names = self._call("list_containers", self.inner.list_containers)
        origin = self._origin("list_containers")
        return sorted(blob_info(name, origin).name if not isinstance(name, str) else name
                      for name in names)

    def delete_container(self, container: str) -> bool:
        # XT's FileStore deletes a missing container without complaint; the contract says
        # ContainerNotFound.
        if self._container_exists(container) is False:
            raise ContainerNotFound("container not found")
        result = self._call("delete_container", lambda: self.inner.delete_container(container),
                            container)
        if result is False:  # azure-storage 2.x's answer for a missing container
            raise ContainerNotFound("container not found")
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        result = self._call("get_container_properties",
                            lambda: self.inner.get_container_properties(container), container)
        return container_info(result, container, self._origin("get_container_properties"))

    def get_container_metadata(self, container: str) -> dict[str, str]:
        result = self._call("get_container_metadata",
                            lambda: self.inner.get_container_metadata(container), container)
        return metadata(result, self._origin("get_container_metadata"))

    # ---- blobs ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return bool(self._call("does_blob_exist",
                               lambda: self.inner.does_blob_exist(container, blob_path),
                               container, blob_path))

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False
    ) -> None:
        content = _as_text(text)
        if not isinstance(content, str) and not fail_if_exists:
            # Binary content goes through a file, which XT's providers copy byte for byte
            # (XT's FileStore writes create_blob's text in text mode).
            self._create_from_bytes(container, blob_path, bytes(content))
            return
        self._write_text("create_blob",
                         lambda: self.inner.create_blob(container, blob_path, content,
                                                        fail_if_exists=fail_if_exists),
                         content, container, blob_path, create_only=fail_if_exists)

    def _write_text(self, method: str, action: Callable[[], Any], content: Text,
                    container: str, blob: str, **details: Any) -> None:
        try:
            self._call(method, action, container, blob, writes=True, **details)
        except TypeError as error:
            if isinstance(content, str):
                raise
            raise Unsupported(f"{self._provider}.{method} takes text only, and this content "
                              f"is not UTF-8 ({error})") from error

    def _create_from_bytes(self, container: str, blob_path: str, data: bytes) -> None:
        with tempfile.TemporaryDirectory(prefix="xtstore-") as folder:
            source = os.path.join(folder, "content")
            with open(source, "wb") as spool:
                spool.write(data)
            self.create_blob_from_path(container, blob_path, source)

    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        self._call("create_blob_from_path",
                   lambda: self.inner.create_blob_from_path(
                       container, blob_path, source_fn, progress_callback=progress_callback),
                   container, blob_path, writes=True, local_paths=(source_fn,))

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        content = _as_text(text)
        self._write_text("append_blob",
                         lambda: self.inner.append_blob(container, blob_path, content,
                                                        append_with_rewrite=append_with_rewrite),
                         content, container, blob_path)

    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        canonical = path or ""
        # A raw prefix ("a/fo*") is listed as its folder ("a/") and filtered here: XT's
        # FileStore would look for a folder named "fo*".
        asked = canonical[: canonical.rfind("/") + 1] if canonical.endswith("*") else canonical
        entries = self._call(
            "list_blobs",
            lambda: list(self.inner.list_blobs(container, path=asked or path,
                                               return_names=return_names,
                                               recursive=recursive)),
            container, path)
        infos = listing(entries, canonical, recursive, self._origin("list_blobs"),
                        objects=not return_names)
        # XT's FileStore lists a missing container as empty.
        if not infos and self._container_exists(container) is False:
            raise ContainerNotFound("container not found")
        if return_names:
            return [info.name for info in infos]
        return infos

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        self._call("delete_blob",
                   lambda: self.inner.delete_blob(container, blob_path, snapshot=snapshot),
                   container, blob_path, snapshot=snapshot)

    def get_blob_text(self, container: str, blob_path: str) -> str:
        result = self._call("get_blob_text",
                            lambda: self.inner.get_blob_text(container, blob_path),
                            container, blob_path)
        if isinstance(result, (bytes, bytearray)):
            return bytes(result).decode("utf-8")
        if not isinstance(result, str):
            raise self._origin("get_blob_text").error(result, "is not text")
        return result

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        # The contract's download creates dest_fn's folders and never leaves a partial file:
        # the provider writes a temporary file next to it, renamed over it on success.
        from xtstore.localfiles.atomic import atomic_local_path  # not at start-up: it loads libc

        dest = os.path.abspath(os.fspath(dest_fn))
        with atomic_local_path(dest) as temp:
            self._call("get_blob_to_path",
                       lambda: self.inner.get_blob_to_path(
                           container, blob_path, temp, snapshot=snapshot,
                           progress_callback=progress_callback),
                       container, blob_path, snapshot=snapshot, local_paths=(dest, temp))
            if not os.path.isfile(temp):
                raise StoreError(f"{self._provider}.get_blob_to_path wrote no file")

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        result = self._call("get_blob_properties",
                            lambda: self.inner.get_blob_properties(container, blob_path),
                            container, blob_path)
        info = blob_info(result, self._origin("get_blob_properties"), name=blob_path,
                         with_metadata=True)
        if info.properties is not None and self._is_folder(container, blob_path, info):
            raise BlobNotFound("no blob by this name: it is a folder")
        return info

    def _is_folder(self, container: str, blob_path: str, info: BlobInfo) -> bool:
        """True if a file-system-like provider (one that reports no etag) described a folder:
        XT's FileStore stats a folder like a file. Cloud SDKs report etags and skip this."""
        properties = info.properties
        assert properties is not None
        if properties.etag != synthetic_etag(properties.content_length, properties.modified_ns):
            return False
        try:
            return bool(self.inner.does_blob_exist(container, blob_path + "/"))
        except Exception:
            return False

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        result = self._call("get_blob_metadata",
                            lambda: self.inner.get_blob_metadata(container, blob_path),
                            container, blob_path)
        return metadata(result, self._origin("get_blob_metadata"))

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        try:
            self._call("copy_blob",
                       lambda: self.inner.copy_blob(source_container, source_blob_path,
                                                    dest_container, dest_blob_path),
                       source_container, source_blob_path)
        except (BlobNotFound, ContainerNotFound):
            # Which end is missing? A missing destination folder is not a missing source.
            self._copy_after_not_found(source_container, source_blob_path, dest_container,
                                       dest_blob_path)

    def _copy_after_not_found(self, source_container: str, source_blob: str,
                              dest_container: str, dest_blob: str) -> None:
        if not self.does_blob_exist(source_container, source_blob):
            if self._container_exists(source_container) is False:
                raise ContainerNotFound("container not found") from None
            raise BlobNotFound("blob not found") from None
        if self._container_exists(dest_container) is False:
            raise ContainerNotFound("destination container not found",
                                    container=dest_container, blob=dest_blob) from None
        # The source is there: the provider's copy could not create the destination's
        # folders (XT's FileStore). Its own download and upload can.
        with tempfile.TemporaryDirectory(prefix="xtstore-") as folder:
            local = os.path.join(folder, "content")
            self.get_blob_to_path(source_container, source_blob, local)
            try:
                self.create_blob_from_path(dest_container, dest_blob, local)
            except StoreError as error:
                raise error.add_context(container=dest_container, blob=dest_blob) from None

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        taken = datetime.now(timezone.utc)
        result = self._call("snapshot_blob",
                            lambda: self.inner.snapshot_blob(container, blob_path),
                            container, blob_path)
        return snapshot_info(result, container, blob_path, self._origin("snapshot_blob"), taken)

    # ---- additions: the provider's own where it has them, else the defaults ----

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        if "get_blob_bytes" not in self._own:
            return super().get_blob_bytes(container, blob_path, snapshot=snapshot)
        result = self._call("get_blob_bytes",
                            lambda: self.inner.get_blob_bytes(container, blob_path,
                                                              snapshot=snapshot),
                            container, blob_path, snapshot=snapshot)
        if not isinstance(result, (bytes, bytearray, memoryview)):
            raise self._origin("get_blob_bytes").error(result, "is not bytes")
        return bytes(result)

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        if "open_blob" not in self._own:
            return super().open_blob(container, blob_path, snapshot=snapshot)
        stream: IO[bytes] = self._call(
            "open_blob", lambda: self.inner.open_blob(container, blob_path, snapshot=snapshot),
            container, blob_path, snapshot=snapshot)
        return stream

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        if "create_blob_from_stream" not in self._own:
            super().create_blob_from_stream(container, blob_path, stream, length=length,
                                            progress_callback=progress_callback)
            return
        self._call("create_blob_from_stream",
                   lambda: self.inner.create_blob_from_stream(
                       container, blob_path, stream, length=length,
                       progress_callback=progress_callback),
                   container, blob_path, writes=True)

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        if "iter_blobs" not in self._own:
            return super().iter_blobs(container, path, recursive=recursive)
        entries = self._call("iter_blobs",
                             lambda: iter(self.inner.iter_blobs(container, path,
                                                                recursive=recursive)),
                             container, path)
        return self._converted(entries, container, path)

    def _converted(self, entries: Iterator[Any], container: str, path: str | None
                   ) -> Iterator[BlobInfo]:
        origin = self._origin("iter_blobs")
        while True:
            entry = self._call("iter_blobs", lambda: next(entries, None), container, path)
            if entry is None:
                return
            yield blob_info(entry, origin)

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        if "set_blob_metadata" not in self._own:
            super().set_blob_metadata(container, blob_path, metadata)
            return
        self._call("set_blob_metadata",
                   lambda: self.inner.set_blob_metadata(container, blob_path, dict(metadata)),
                   container, blob_path)

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        if "set_container_metadata" not in self._own:
            super().set_container_metadata(container, metadata)
            return
        self._call("set_container_metadata",
                   lambda: self.inner.set_container_metadata(container, dict(metadata)),
                   container)

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        if "list_snapshots" not in self._own:
            return super().list_snapshots(container, blob_path)
        result = self._call("list_snapshots",
                            lambda: list(self.inner.list_snapshots(container, blob_path)),
                            container, blob_path)
        origin = self._origin("list_snapshots")
        taken = datetime.now(timezone.utc)
        return [snapshot_info(item, container, blob_path, origin, taken) for item in result]
