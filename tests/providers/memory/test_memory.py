"""store-memory: the conformance suite, plus what is specific to an in-process store."""

from __future__ import annotations

import pickle
import threading

import pytest

import xtstore
from xtstore.errors import Unsupported
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


def memory_store() -> Store:
    config = {"external-services": {"mem": {"type": "storage", "provider": "store-memory"}}}
    store: Store = xtstore.get_storage("mem", config=config)
    return store


class TestMemoryConformance(ConformanceSuite):
    options = SuiteOptions(bounded_memory=False, large_blob_size=32 * 1024 * 1024)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls) -> Store:
        return memory_store()


@pytest.fixture
def store() -> Store:
    store = memory_store()
    store.create_container("box")
    return store


def test_store_lives_in_one_process(store: Store) -> None:
    assert store.capabilities().shared_between_processes is False
    with pytest.raises(Unsupported):
        pickle.dumps(store)


def test_two_services_do_not_share_blobs(store: Store) -> None:
    other = memory_store()
    assert other.list_containers() == []
    assert store.list_containers() == ["box"]


def etag_of(store: Store, blob: str) -> str:
    properties = store.get_blob_properties("box", blob).properties
    assert properties is not None
    return properties.etag


def test_etag_changes_on_every_write_even_with_the_same_content(store: Store) -> None:
    etags = set()
    for _ in range(50):
        store.create_blob("box", "same", "content")
        etags.add(etag_of(store, "same"))
    store.append_blob("box", "same", "")
    etags.add(etag_of(store, "same"))
    assert len(etags) == 51


def test_metadata_follows_azure_rules(store: Store) -> None:
    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "v"})
    store.append_blob("box", "a", "2")
    assert store.get_blob_metadata("box", "a") == {"k": "v"}  # append keeps it
    store.copy_blob("box", "a", "box", "b")
    assert store.get_blob_metadata("box", "b") == {"k": "v"}  # copy carries it
    store.create_blob("box", "a", "3")
    assert store.get_blob_metadata("box", "a") == {}  # a rewrite clears it


def test_snapshots_stay_out_of_the_namespace(store: Store) -> None:
    store.create_blob("box", "dir/a", "old")
    snap = store.snapshot_blob("box", "dir/a")
    store.create_blob("box", "dir/a", "new")
    assert store.list_blobs("box") == ["dir/a"]
    assert store.list_blobs("box", "dir", recursive=False) == ["dir/a"]
    assert store.get_blob_bytes("box", "dir/a", snapshot=snap.snapshot) == b"old"
    assert [s.snapshot for s in store.list_snapshots("box", "dir/a")] == [snap.snapshot]


def test_threads_appending_lose_nothing_and_never_interleave(store: Store) -> None:
    def work(worker: int) -> None:
        for i in range(200):
            store.append_blob("box", "log", f"<{worker}:{i}:{'x' * 50}>\n",
                              append_with_rewrite=bool(i % 2))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    lines = store.get_blob_text("box", "log").splitlines()
    assert sorted(lines) == sorted(
        f"<{w}:{i}:{'x' * 50}>" for w in range(6) for i in range(200)
    )
