"""User provider classes as XT users write them: a ``StoreInterface`` subclass with only XT's
methods is complete (every addition has a default), and a provider that delegates to another
xtstore store reports errors under the service its caller used."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

import xtstore
from xtstore.errors import BlobNotFound, ContainerNotFound, Unsupported
from xtstore.interface import StoreInterface
from xtstore.values import BlobInfo, BlobProperties, Capabilities, ContainerInfo, Support


class XtOnlyStore(StoreInterface):
    """Only XT's container and blob methods, over a folder, the way XT's own FileStore does
    it: no get_service_name, no capabilities, no additions."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.name = settings["name"]
        self.root = settings["path"]

    def _path(self, container: str, blob_path: str = "") -> str:
        return os.path.join(self.root, container, blob_path)

    def does_container_exist(self, container: str) -> bool:
        return os.path.isdir(self._path(container))

    def create_container(self, container: str) -> None:  # type: ignore[override]
        os.makedirs(self._path(container))

    def list_containers(self) -> list[str]:
        return sorted(os.listdir(self.root))

    def delete_container(self, container: str) -> None:  # type: ignore[override]
        shutil.rmtree(self._path(container))

    def get_container_properties(self, container: str) -> ContainerInfo:
        st = os.stat(self._path(container))
        return ContainerInfo(container, BlobProperties.from_ns(0, st.st_mtime_ns, "").last_modified)

    def get_container_metadata(self, container: str) -> dict[str, str]:
        return {}

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return os.path.isfile(self._path(container, blob_path))

    def create_blob(self, container: str, blob_path: str, text: Any,
                    fail_if_exists: bool = False) -> None:
        path = self._path(container, blob_path)
        if not self.does_container_exist(container):
            raise FileNotFoundError(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb" if fail_if_exists else "wb") as out:
            out.write(text.encode() if isinstance(text, str) else text)

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: Any = None) -> None:
        with open(source_fn, "rb") as source:
            self.create_blob(container, blob_path, source.read())

    def append_blob(self, container: str, blob_path: str, text: Any,
                    append_with_rewrite: bool = False) -> None:
        with open(self._path(container, blob_path), "ab") as out:
            out.write(text.encode() if isinstance(text, str) else text)

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> list[str] | list[BlobInfo]:
        top = self._path(container)
        if not os.path.isdir(top):
            raise FileNotFoundError(top)
        names = sorted(
            os.path.relpath(os.path.join(folder, name), top).replace(os.sep, "/")
            for folder, _, files in os.walk(top) for name in files
        )
        prefix = (path or "").rstrip("*")
        chosen = [name for name in names if name.startswith(prefix)]
        if return_names:
            return chosen
        return [self.get_blob_properties(container, name) for name in chosen]

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        os.remove(self._path(container, blob_path))

    def get_blob_text(self, container: str, blob_path: str) -> str:
        with open(self._path(container, blob_path), encoding="utf-8") as source:
            return source.read()

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None, progress_callback: Any = None) -> None:
        shutil.copyfile(self._path(container, blob_path), dest_fn)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        st = os.stat(self._path(container, blob_path))
        return BlobInfo(blob_path, properties=BlobProperties.from_ns(
            st.st_size, st.st_mtime_ns, f'"{st.st_mtime_ns}"'))

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        return {}

    def copy_blob(self, source_container: str, source_blob_path: str, dest_container: str,
                  dest_blob_path: str) -> None:
        shutil.copyfile(self._path(source_container, source_blob_path),
                        self._path(dest_container, dest_blob_path))

    def snapshot_blob(self, container: str, blob_path: str) -> Any:
        raise NotImplementedError


def xt_only_store(tmp_path: Any) -> Any:
    config = {"external-services": {"xtonly": {
        "type": "storage", "provider": "tests.test_interface_defaults.XtOnlyStore",
        "path": str(tmp_path)}}}
    return xtstore.get_storage("xtonly", config=config)


def test_a_subclass_with_only_xts_methods_loads_and_works(tmp_path: Any) -> None:
    store = xt_only_store(tmp_path)
    assert store.create_container("runs") is True
    store.create_blob("runs", "/logs/a.txt", "hello")
    store.append_blob("runs", "logs/a.txt", " world")
    assert store.get_blob_text("runs", "logs/a.txt") == "hello world"
    assert store.get_blob_bytes("runs", "logs/a.txt") == b"hello world"
    assert store.list_blobs("runs", "logs") == ["logs/a.txt"]
    assert [entry.name for entry in store.iter_blobs("runs")] == ["logs/a.txt"]
    with pytest.raises(BlobNotFound) as caught:
        store.get_blob_text("runs", "missing.txt")
    assert caught.value.service == "xtonly"
    assert store.delete_container("runs") is True


def test_its_capabilities_and_service_name_have_defaults(tmp_path: Any) -> None:
    store = xt_only_store(tmp_path)
    provider = store.provider
    assert provider.get_service_name() == "xtonly"
    capabilities = store.capabilities()
    assert isinstance(capabilities, Capabilities)
    assert capabilities.metadata is Support.UNSUPPORTED  # XT's interface cannot write it
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "x")
    with pytest.raises(Unsupported):
        store.set_blob_metadata("runs", "a.txt", {"k": "v"})


class WithMetadataSetters(XtOnlyStore):
    def set_blob_metadata(self, container: str, blob_path: str, metadata: Any) -> None:
        raise NotImplementedError

    def set_container_metadata(self, container: str, metadata: Any) -> None:
        raise NotImplementedError


class Nameless(XtOnlyStore):
    def __init__(self, settings: dict[str, Any]) -> None:
        self.root = settings["path"]


def test_default_capabilities_see_a_classs_own_metadata_setters(tmp_path: Any) -> None:
    settings = {"name": "x", "path": str(tmp_path)}
    assert WithMetadataSetters(settings).capabilities().metadata is Support.EMULATED
    assert Nameless(settings).get_service_name() == "Nameless"


class Relay(StoreInterface):
    """A provider that hands every call to another store opened with get_storage(), whose
    errors already name that inner service."""

    def __init__(self, settings: dict[str, Any]) -> None:
        inner = {"external-services": {"inner": {"type": "storage", "provider": "store-memory"}}}
        self.inner = xtstore.get_storage("inner", config=inner)

    def get_service_name(self) -> str:
        return "relay"

    def capabilities(self) -> Capabilities:
        return self.inner.capabilities()

    def does_container_exist(self, container: str) -> bool:
        return self.inner.does_container_exist(container)

    def create_container(self, container: str) -> bool:
        return self.inner.create_container(container)

    def list_containers(self) -> list[str]:
        return self.inner.list_containers()

    def delete_container(self, container: str) -> bool:
        return self.inner.delete_container(container)

    def get_container_properties(self, container: str) -> ContainerInfo:
        return self.inner.get_container_properties(container)

    def get_container_metadata(self, container: str) -> dict[str, str]:
        return self.inner.get_container_metadata(container)

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return self.inner.does_blob_exist(container, blob_path)

    def create_blob(self, container: str, blob_path: str, text: Any,
                    fail_if_exists: bool = False) -> None:
        self.inner.create_blob(container, blob_path, text, fail_if_exists)

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: Any = None) -> None:
        self.inner.create_blob_from_path(container, blob_path, source_fn, progress_callback)

    def append_blob(self, container: str, blob_path: str, text: Any,
                    append_with_rewrite: bool = False) -> None:
        self.inner.append_blob(container, blob_path, text, append_with_rewrite)

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> list[str] | list[BlobInfo]:
        return self.inner.list_blobs(container, path, return_names, recursive)

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        self.inner.delete_blob(container, blob_path, snapshot)

    def get_blob_text(self, container: str, blob_path: str) -> str:
        return self.inner.get_blob_text(container, blob_path)

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None, progress_callback: Any = None) -> None:
        self.inner.get_blob_to_path(container, blob_path, dest_fn, snapshot, progress_callback)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        return self.inner.get_blob_properties(container, blob_path)

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        return self.inner.get_blob_metadata(container, blob_path)

    def copy_blob(self, source_container: str, source_blob_path: str, dest_container: str,
                  dest_blob_path: str) -> None:
        self.inner.copy_blob(source_container, source_blob_path, dest_container,
                             dest_blob_path)

    def snapshot_blob(self, container: str, blob_path: str) -> Any:
        return self.inner.snapshot_blob(container, blob_path)


def test_errors_from_a_delegated_store_name_the_callers_service() -> None:
    config = {"external-services": {"outer": {
        "type": "storage", "provider": "tests.test_interface_defaults.Relay"}}}
    store = xtstore.get_storage("outer", config=config)
    store.create_container("runs")
    with pytest.raises(BlobNotFound) as missing_blob:
        store.get_blob_text("runs", "missing.txt")
    assert (missing_blob.value.service, missing_blob.value.container,
            missing_blob.value.blob) == ("outer", "runs", "missing.txt")
    assert str(missing_blob.value).startswith("service 'outer', container 'runs'")
    with pytest.raises(ContainerNotFound) as missing_container:
        list(store.iter_blobs("nothing-here"))
    assert missing_container.value.service == "outer"
