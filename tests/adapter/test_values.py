"""Foreign providers' results become the library's value types (docs/contract.md §1, "Value types"):
XT's bags, ``os.stat_result``, azure-storage 2.1's models; anything else is a clear
``StoreError`` naming the provider class and method, never a raw ``AttributeError``."""

from __future__ import annotations

import datetime
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.adapter.xt_style import Azure21ShapedStore, Bag, XTStyleFileStore
from xtstore.adapter import ForeignProvider
from xtstore.errors import BlobNotFound, ContainerNotFound, StoreError
from xtstore.store import Store
from xtstore.values import BlobInfo, BlobProperties, ContainerInfo, SnapshotInfo


@pytest.fixture
def xt_file(tmp_path: Path) -> Store:
    provider = ForeignProvider(XTStyleFileStore({"path": str(tmp_path / "root")}), "xtfs")
    store = Store(provider, "xtfs")
    store.create_container("runs")
    return store


@pytest.fixture
def azure21() -> Store:
    store = Store(ForeignProvider(Azure21ShapedStore({"name": "az"}), "az"), "az")
    store.create_container("runs")
    return store


def test_xt_bags_become_blob_infos_with_utc_times_from_naive_local_ones(xt_file: Store) -> None:
    xt_file.create_blob("runs", "logs/a.txt", "hello")
    before = time.time_ns()
    [entry] = xt_file.list_blobs("runs", "logs", return_names=False)
    assert isinstance(entry, BlobInfo) and entry.name == "logs/a.txt"
    assert isinstance(entry.properties, BlobProperties)
    assert entry.properties.content_length == 5
    # XT's naive datetime.fromtimestamp() is local time: the UTC instant is the file's mtime.
    assert entry.properties.last_modified.tzinfo is not None
    assert abs(entry.properties.modified_ns - before) < 5 * 10**9
    assert entry.properties.last_modified.utcoffset() == datetime.timedelta(0)


def test_a_missing_etag_is_synthesised_stable_and_changes_with_the_content(
    xt_file: Store, tmp_path: Path
) -> None:
    xt_file.create_blob("runs", "a.txt", "one")
    first = xt_file.get_blob_properties("runs", "a.txt").properties
    again = xt_file.get_blob_properties("runs", "a.txt").properties
    assert first is not None and again is not None
    assert first.etag and first.etag == again.etag
    xt_file.create_blob("runs", "a.txt", "longer content")
    changed = xt_file.get_blob_properties("runs", "a.txt").properties
    assert changed is not None and changed.etag != first.etag


def test_ls_and_props_values_from_xt_bags(xt_file: Store) -> None:
    xt_file.create_blob("runs", "d/sub/b.txt", "b")
    xt_file.create_blob("runs", "d/a.txt", "a")
    xt_file.create_blob("runs", "top.txt", "t")
    level = xt_file.list_blobs("runs", "d", return_names=False, recursive=False)
    assert [(entry.name, entry.is_dir) for entry in level] == [("d/a.txt", False),
                                                                ("d/sub/", True)]
    assert xt_file.list_blobs("runs") == ["d/a.txt", "d/sub/b.txt", "top.txt"]
    assert xt_file.list_blobs("runs", "d/s*") == ["d/sub/b.txt"]
    info = xt_file.get_blob_properties("runs", "d/a.txt")
    assert info.name == "d/a.txt" and dict(info.metadata) == {}
    json.dumps(dict(info.metadata))


def test_a_folder_is_not_reported_as_a_blob_by_a_file_system_like_provider(
    xt_file: Store,
) -> None:
    xt_file.create_blob("runs", "d/a.txt", "a")
    with pytest.raises(BlobNotFound, match="it is a folder"):
        xt_file.get_blob_properties("runs", "d")


def test_a_stat_result_becomes_the_containers_properties(xt_file: Store, tmp_path: Path) -> None:
    info = xt_file.get_container_properties("runs")
    assert isinstance(info, ContainerInfo) and info.name == "runs"
    expected = os.stat(tmp_path / "root" / "runs").st_mtime_ns
    assert abs(info.last_modified.timestamp() * 1e9 - expected) < 1e6
    assert dict(info.metadata) == {}
    assert xt_file.get_container_metadata("runs") == {}  # XT-style None


def test_a_bag_with_only_a_snapshot_id_becomes_a_snapshot_info(xt_file: Store) -> None:
    xt_file.create_blob("runs", "a.txt", "v1")
    before = datetime.datetime.now(datetime.timezone.utc)
    info = xt_file.snapshot_blob("runs", "a.txt")
    assert isinstance(info, SnapshotInfo)
    assert (info.container, info.blob, info.snapshot) == ("runs", "a.txt", "__ss1__")
    assert info.created >= before - datetime.timedelta(seconds=1)
    xt_file.create_blob("runs", "a.txt", "v2")
    assert xt_file.get_blob_bytes("runs", "a.txt", snapshot=info.snapshot) == b"v1"


def test_azure_21_models_become_value_types(azure21: Store) -> None:
    azure21.create_blob("runs", "x/y.txt", "data")
    azure21.set_retry(1)
    [entry] = azure21.list_blobs("runs", "x", return_names=False)
    assert entry.properties is not None and entry.properties.etag.startswith('"')
    info = azure21.get_blob_properties("runs", "x/y.txt")
    assert info.properties is not None and info.properties.content_type == "text/plain"
    assert info.properties.content_length == 4
    container = azure21.get_container_properties("runs")
    assert container.name == "runs" and dict(container.metadata) == {}
    snapshot = azure21.snapshot_blob("runs", "x/y.txt")
    assert isinstance(snapshot, SnapshotInfo) and snapshot.snapshot
    level = azure21.list_blobs("runs", return_names=False, recursive=False)
    assert [(item.name, item.is_dir) for item in level] == [("x/", True)]


def test_azure_21_false_results_become_typed_errors(azure21: Store) -> None:
    from xtstore.errors import ContainerAlreadyExists

    with pytest.raises(ContainerAlreadyExists):
        azure21.create_container("runs")
    assert azure21.provider.delete_container("runs") is True
    with pytest.raises(ContainerNotFound):
        azure21.provider.delete_container("runs")


def test_xt_results_of_container_calls_are_normalised_to_true(tmp_path: Path) -> None:
    provider = ForeignProvider(XTStyleFileStore({"path": str(tmp_path)}), "xtfs")
    assert provider.create_container("runs") is True
    assert provider.delete_container("runs") is True  # XT's delete returns None
    with pytest.raises(ContainerNotFound):
        provider.delete_container("runs")


class _Broken(XTStyleFileStore):
    result: Any = None

    def get_blob_properties(self, container: str, blob_path: str) -> Any:
        return self.result

    def get_container_properties(self, container: str) -> Any:
        return self.result

    def snapshot_blob(self, container: str, blob_path: str) -> Any:
        return self.result

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> list[Any]:
        return [self.result]


@pytest.mark.parametrize(
    ("result", "method", "missing"),
    [
        (Bag(name="a"), "get_blob_properties", "'properties'"),
        (Bag(properties=Bag(last_modified=datetime.datetime.now())), "get_blob_properties",
         "content_length"),
        (Bag(properties=Bag(content_length=3)), "get_blob_properties", "modification time"),
        (Bag(), "get_container_properties", "modification time"),
        (Bag(), "snapshot_blob", "snapshot id"),
        (Bag(properties=Bag(content_length=1, last_modified=0.0)), "list_blobs", "'name'"),
        ("a.txt", "list_blobs", "a name where an object"),
        (Bag(name="a", properties=Bag(content_length=1, modified_ns=1), metadata=["x"]),
         "get_blob_properties", "not a mapping"),
    ],
)
def test_a_value_that_cannot_be_converted_is_a_store_error_naming_provider_and_method(
    tmp_path: Path, result: Any, method: str, missing: str
) -> None:
    inner = _Broken({"path": str(tmp_path)})
    inner.result = result
    store = Store(ForeignProvider(inner, "broken"), "broken")
    store.create_container("runs")
    calls = {
        "get_blob_properties": lambda: store.get_blob_properties("runs", "a"),
        "get_container_properties": lambda: store.get_container_properties("runs"),
        "snapshot_blob": lambda: store.snapshot_blob("runs", "a"),
        "list_blobs": lambda: store.list_blobs("runs", return_names=False),
    }
    with pytest.raises(StoreError) as caught:
        calls[method]()
    message = str(caught.value)
    assert f"_Broken.{method} returned" in message and missing in message
    assert "service 'broken', container 'runs'" in message
    assert not isinstance(caught.value, (AttributeError, TypeError))


class _OwnAdditions(XTStyleFileStore):
    """Has its own iterator listing and bytes read, returning XT-style values."""

    def iter_blobs(self, container: str, path: str | None = None, recursive: bool = True
                   ) -> Any:
        yield from self.list_blobs(container, path, return_names=False, recursive=recursive)

    def get_blob_bytes(self, container: str, blob_path: str, snapshot: str | None = None
                       ) -> bytearray:
        with open(self._path(container, blob_path, snapshot), "rb") as source:
            return bytearray(source.read())


def test_a_providers_own_additions_are_used_and_their_results_converted(
    tmp_path: Path,
) -> None:
    store = Store(ForeignProvider(_OwnAdditions({"path": str(tmp_path)}), "own"), "own")
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "abc")
    [entry] = list(store.iter_blobs("runs"))
    assert isinstance(entry, BlobInfo) and entry.properties is not None
    assert entry.properties.content_length == 3
    assert store.get_blob_bytes("runs", "a.txt") == b"abc"
    assert type(store.get_blob_bytes("runs", "a.txt")) is bytes
