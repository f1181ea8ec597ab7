"""``ForeignProvider``: makes a class that merely has XT's methods (no ``StoreInterface`` base,
e.g. one written with the ``interface`` package as on XT's page) a full ``StoreInterface``.

XT's methods are delegated; the additions (bytes, streams, iterator listing, ...) come from
``StoreInterface``'s defaults unless the foreign object has its own.
"""

from __future__ import annotations

from typing import Any

from xtstore.interface import XT_METHODS, ProgressCallback, RetrySetting, StoreInterface, Text
from xtstore.values import BlobInfo, Capabilities, ContainerInfo, SnapshotInfo, Support

__all__ = ["ADDITION_METHODS", "ForeignProvider", "missing_methods"]

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
    """XT's interface methods that ``cls`` does not have as callables."""
    return [name for name in XT_METHODS if not callable(getattr(cls, name, None))]


class ForeignProvider(StoreInterface):
    """Wraps an object that has every method of :data:`XT_METHODS`."""

    def __init__(self, inner: Any, service_name: str) -> None:
        self.inner = inner
        self._service_name = service_name
        # The foreign object's own additions win over the defaults built from XT's methods.
        for name in ADDITION_METHODS:
            own = getattr(inner, name, None)
            if callable(own):
                setattr(self, name, own)

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
        has_setters = all(callable(getattr(self.inner, name, None)) for name in setters)
        return Capabilities(metadata=Support.EMULATED if has_setters else Support.UNSUPPORTED)

    def get_retry(self) -> int:
        return int(self.inner.get_retry() or 0)

    def set_retry(self, value: RetrySetting) -> None:
        self.inner.set_retry(value)

    def does_container_exist(self, container: str) -> bool:
        return bool(self.inner.does_container_exist(container))

    def create_container(self, container: str) -> bool:
        self.inner.create_container(container)
        return True

    def list_containers(self) -> list[str]:
        return list(self.inner.list_containers())

    def delete_container(self, container: str) -> bool:
        self.inner.delete_container(container)
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        result: ContainerInfo = self.inner.get_container_properties(container)
        return result

    def get_container_metadata(self, container: str) -> dict[str, str]:
        return dict(self.inner.get_container_metadata(container) or {})

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return bool(self.inner.does_blob_exist(container, blob_path))

    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False
    ) -> None:
        self.inner.create_blob(container, blob_path, text, fail_if_exists=fail_if_exists)

    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        self.inner.create_blob_from_path(
            container, blob_path, source_fn, progress_callback=progress_callback
        )

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        self.inner.append_blob(container, blob_path, text, append_with_rewrite=append_with_rewrite)

    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        return list(
            self.inner.list_blobs(
                container, path=path, return_names=return_names, recursive=recursive
            )
        )

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        self.inner.delete_blob(container, blob_path, snapshot=snapshot)

    def get_blob_text(self, container: str, blob_path: str) -> str:
        return str(self.inner.get_blob_text(container, blob_path))

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        self.inner.get_blob_to_path(
            container, blob_path, dest_fn, snapshot=snapshot, progress_callback=progress_callback
        )

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        result: BlobInfo = self.inner.get_blob_properties(container, blob_path)
        return result

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        return dict(self.inner.get_blob_metadata(container, blob_path) or {})

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        self.inner.copy_blob(source_container, source_blob_path, dest_container, dest_blob_path)

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        result: SnapshotInfo = self.inner.snapshot_blob(container, blob_path)
        return result
