"""store-memory: the conformance suite, plus what is specific to an in-process store."""

from __future__ import annotations

import io
import pickle
import threading
from pathlib import Path

import pytest

import xtstore
from xtstore.errors import BlobNotFound, ContainerNotFound, Unsupported
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions
from xtstore.values import BlobInfo


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


def test_a_range_is_the_slice_of_the_blob_or_snapshot(store: Store) -> None:
    content = bytes(range(256)) * 10
    store.create_blob("box", "data.bin", content)
    snapshot = store.snapshot_blob("box", "data.bin").snapshot
    store.create_blob("box", "data.bin", b"new")
    assert store.get_blob_range("box", "data.bin", 0, 2) == b"ne"
    assert store.get_blob_range("box", "data.bin", 5) == b""
    assert store.get_blob_range("box", "data.bin", 100, 300, snapshot=snapshot) == content[100:300]
    assert store.get_blob_range("box", "data.bin", 2500, None, snapshot=snapshot) == content[2500:]
    with pytest.raises(BlobNotFound):
        store.get_blob_range("box", "missing", 0, 1)


def test_a_written_blob_appears_whole_on_close_only(store: Store) -> None:
    store.create_blob("box", "model.pt", b"old")
    store.set_blob_metadata("box", "model.pt", {"epoch": "1"})
    pieces = [b"a" * (4 * 1024 * 1024 + 1), b"b" * 3, b"c" * (5 * 1024 * 1024)]
    with store.open_blob("box", "model.pt", mode="wb") as writer:
        for piece in pieces:
            writer.write(piece)
            assert store.get_blob_bytes("box", "model.pt") == b"old"
    assert store.get_blob_bytes("box", "model.pt") == b"".join(pieces)
    assert store.get_blob_metadata("box", "model.pt") == {}


def test_an_aborted_writer_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.open_blob("box", "model.pt", mode="wb") as writer:
        writer.write(b"x" * (5 * 1024 * 1024))
        raise RuntimeError("training crashed")
    writer = store.open_blob("box", "other.pt", mode="wb")
    writer.write(b"y" * 10)
    writer.abort()  # type: ignore[attr-defined]
    assert store.list_blobs("box") == []
    with pytest.raises(ContainerNotFound):
        store.open_blob("nobox", "x", mode="wb")


def content_type(store: Store, blob: str) -> str | None:
    properties = store.get_blob_properties("box", blob).properties
    assert properties is not None
    return properties.content_type


def test_content_types_are_kept_listed_and_carried_over(store: Store) -> None:
    store.create_blob("box", "a.parquet", b"PAR1")
    with store.open_blob("box", "b.jsonl", mode="wb") as writer:
        writer.write(b"{}\n")
    store.create_blob("box", "log", "x", content_type="text/plain; charset=utf-8")
    store.copy_blob("box", "log", "box", "copy")
    store.append_blob("box", "log", "y")
    assert [content_type(store, name) for name in ("a.parquet", "b.jsonl", "log", "copy")] == [
        "application/vnd.apache.parquet", "application/jsonl", "text/plain; charset=utf-8",
        "text/plain; charset=utf-8"]
    listed = store.list_blobs("box", return_names=False)
    assert [(entry.name, entry.properties and entry.properties.content_type)
            for entry in listed if isinstance(entry, BlobInfo)] == [
        ("a.parquet", "application/vnd.apache.parquet"), ("b.jsonl", "application/jsonl"),
        ("copy", "text/plain; charset=utf-8"), ("log", "text/plain; charset=utf-8")]


def test_the_provider_itself_stores_metadata_given_to_each_upload(tmp_path: Path) -> None:
    # At 26bebe7 the three create methods took no metadata (TypeError) and the writer dropped it.
    provider = memory_store().provider
    assert provider.capabilities().create_metadata
    provider.create_container("box")
    tags = {"mtime": "1764633600.123456789", "stage": "train"}
    source = tmp_path / "source.bin"
    source.write_bytes(b"from a path")
    provider.create_blob("box", "text.txt", "text", metadata=tags)
    provider.create_blob_from_path("box", "path.bin", str(source), metadata=tags)
    provider.create_blob_from_stream("box", "stream.bin", io.BytesIO(b"streamed"),
                                     metadata=tags)
    writer = provider.open_blob_writer("box", "writer.bin", metadata=tags)
    writer.write(b"written")
    assert not provider.does_blob_exist("box", "writer.bin")
    writer.close()
    for blob in ("text.txt", "path.bin", "stream.bin", "writer.bin"):
        assert provider.get_blob_metadata("box", blob) == tags, blob
        props = provider.get_blob_properties("box", blob).properties
        assert props is not None and props.metadata == tags, blob
        assert props.checksums == {}, blob  # no content hash kept (docs/providers/memory.md)
    provider.create_blob("box", "text.txt", "again")  # none given: none kept
    assert provider.get_blob_metadata("box", "text.txt") == {}
