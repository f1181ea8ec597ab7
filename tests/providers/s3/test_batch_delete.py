"""store-s3's ``delete_blobs``: DeleteObjects for many names at once, each name's outcome its
own (S3 reports a missing key as deleted, so existence comes from a listing of the names'
range), safe to repeat after a fault on any of its requests. At 7b3926e there was no
``delete_blobs``: ``rm -r`` sent a HeadObject, a ListObjectsV2 and a DeleteObject per blob."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, FaultProxy
from tests.servers.s3_server import MotoServer
from xtstore.errors import BlobNotFound, ContainerNotFound
from xtstore.providers.s3 import store as s3_store

from .helpers import count_requests


def _store(moto_server: MotoServer, endpoint: str | None = None) -> Any:
    entry = moto_server.service_config(**{
        "endpoint-url": endpoint or moto_server.endpoint_url, "read-timeout": 0.5,
        "retry": {"attempts": 4, "base-delay": 0.02, "max-delay": 0.1, "total-timeout": 15}})
    return xtstore.get_storage("batch", config={"external-services": {"batch": entry}})


@pytest.fixture
def direct(moto_server: MotoServer) -> Any:
    return _store(moto_server)


@pytest.fixture
def container(direct: Any) -> Iterator[str]:
    name = "xtbatch-" + uuid.uuid4().hex[:12]
    direct.create_container(name)
    yield name
    direct.delete_container(name)


def _put(store: Any, container: str, names: list[str]) -> None:
    client = store.provider.client
    for name in names:
        client.put_object(Bucket=container, Key=name, Body=name.encode())


def test_many_blobs_go_in_a_few_requests_and_a_missing_one_fails_alone(
    direct: Any, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_store, "_DELETE_BATCH", 4)  # 10 names: three DeleteObjects
    names = [f"run/{index:02d}.bin" for index in range(10)]
    _put(direct, container, [*names, "run/zz-stays.bin", "other.bin"])
    direct.snapshot_blob(container, names[2])
    asked = [*names[:5], "run/missing.bin", *names[5:]]
    with count_requests(direct.provider.client) as log:
        outcomes = direct.delete_blobs(container, asked)
    assert list(outcomes) == asked
    missing = outcomes.pop("run/missing.bin")
    assert isinstance(missing, BlobNotFound)
    assert (missing.service, missing.container, missing.blob) == (
        "batch", container, "run/missing.bin")
    assert set(outcomes.values()) == {None}
    # One listing of the names' range, one of the snapshot folders and one of the one blob
    # that has snapshots, three DeleteObjects, one DeleteObjects of its snapshot.
    assert log.counts == {"ListObjectsV2": 3, "DeleteObjects": 4}, log.operations
    assert direct.list_blobs(container) == ["other.bin", "run/zz-stays.bin"]
    assert direct.provider.client.list_objects_v2(
        Bucket=container, Prefix=".xtstore/snapshots/").get("KeyCount") == 0


def test_names_spread_over_a_large_range_cost_at_most_one_request_each(
    direct: Any, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_store, "_EXISTENCE_PAGE", 5)  # budget: 2 * 3 + 5 keys scanned
    _put(direct, container, ["a", *(f"b/{index:02d}" for index in range(30)), "c"])
    with count_requests(direct.provider.client) as log:
        outcomes = direct.delete_blobs(container, ["a", "b/29", "c", "d"])
    assert [type(error) for error in outcomes.values()] == [
        type(None), type(None), type(None), BlobNotFound]
    # Three pages (15 keys scanned), then a HeadObject for each name past them.
    assert log.counts["ListObjectsV2"] == 3 + 1, log.operations
    assert log.counts["HeadObject"] == 3, log.operations
    assert len(direct.list_blobs(container)) == 29


def test_a_missing_container_fails_the_call(direct: Any) -> None:
    with pytest.raises(ContainerNotFound):
        direct.delete_blobs("xtbatch-never-" + uuid.uuid4().hex[:8], ["a", "b"])


def test_a_fault_on_any_request_is_repeated_without_a_false_not_found(
    moto_server: MotoServer, moto_proxy: FaultProxy, direct: Any, container: str
) -> None:
    store = _store(moto_server, moto_proxy.url)
    # LIST the names, LIST the snapshot folders, LIST x/1's, DELETE blobs, DELETE snapshots
    for position in (1, 2, 3, 4, 5):
        for fault in (Fault.reset_after(), Fault.error_status(503)):
            _put(direct, container, ["x/1", "x/2"])
            direct.snapshot_blob(container, "x/1")
            moto_proxy.clear()
            moto_proxy.inject(fault, nth=position)
            outcomes = store.delete_blobs(container, ["x/1", "x/2", "x/3"])
            cell = f"{fault}@{position}"
            assert any(entry.fault for entry in moto_proxy.log), cell
            assert outcomes["x/1"] is None and outcomes["x/2"] is None, (cell, outcomes)
            assert isinstance(outcomes["x/3"], BlobNotFound), cell
            assert direct.list_blobs(container) == [], cell
            assert direct.list_snapshots(container, "x/1") == [], cell
