"""Azure-native behaviour: append blobs and block blobs, snapshots, copy, listing, downloads."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from xtstore.errors import BlobNotFound, ContainerNotFound
from xtstore.providers.azure.store import APPEND_BLOCK_LIMIT


@pytest.fixture
def store(make_store: Callable[..., Any]) -> Any:
    return make_store()


def _blob_type(store: Any, container: str, blob: str) -> str:
    client = store.provider.service_client.get_blob_client(container, blob)
    return str(client.get_blob_properties().blob_type.value)


def test_append_creates_an_append_blob(store: Any, container: str) -> None:
    store.append_blob(container, "log.txt", "a")
    store.append_blob(container, "log.txt", b"b")
    store.append_blob(container, "log.txt", "")
    assert store.get_blob_text(container, "log.txt") == "ab"
    assert "Append" in _blob_type(store, container, "log.txt")
    store.append_blob(container, "empty.txt", "")
    assert store.get_blob_text(container, "empty.txt") == ""


def test_concurrent_appends_to_a_block_blob_lose_nothing(store: Any, container: str) -> None:
    store.create_blob(container, "made.txt", "start\n")
    assert "Block" in _blob_type(store, container, "made.txt")

    def append(worker: int) -> None:
        for line in range(5):
            store.append_blob(container, "made.txt", f"w{worker}-{line}\n")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(append, range(6)))
    lines = store.get_blob_text(container, "made.txt").splitlines()
    assert lines[0] == "start"
    assert sorted(lines[1:]) == sorted(f"w{w}-{n}" for w in range(6) for n in range(5))
    for worker in range(6):  # each writer's lines stay in its order
        mine = [line for line in lines if line.startswith(f"w{worker}-")]
        assert mine == [f"w{worker}-{n}" for n in range(5)]


def test_append_with_rewrite_and_large_appends(store: Any, container: str) -> None:
    store.append_blob(container, "r.txt", "one\n", append_with_rewrite=True)
    store.append_blob(container, "r.txt", "two\n", append_with_rewrite=True)
    store.append_blob(container, "r.txt", "three\n")
    assert store.get_blob_text(container, "r.txt") == "one\ntwo\nthree\n"
    big = os.urandom(APPEND_BLOCK_LIMIT + 1000)
    store.append_blob(container, "r.txt", big)
    assert store.get_blob_bytes(container, "r.txt") == b"one\ntwo\nthree\n" + big


def test_append_to_missing_container(store: Any) -> None:
    with pytest.raises(ContainerNotFound):
        store.append_blob("no-such-container", "log.txt", "x")


def test_snapshots(store: Any, container: str, tmp_path: Path) -> None:
    store.create_blob(container, "s.txt", "v1")
    first = store.snapshot_blob(container, "s.txt")
    store.create_blob(container, "s.txt", "v2")
    second = store.snapshot_blob(container, "s.txt")
    assert first.snapshot != second.snapshot
    assert store.list_blobs(container) == ["s.txt"]
    assert [s.snapshot for s in store.list_snapshots(container, "s.txt")] == [
        first.snapshot, second.snapshot]
    store.get_blob_to_path(container, "s.txt", str(tmp_path / "old.txt"),
                           snapshot=first.snapshot)
    assert (tmp_path / "old.txt").read_text() == "v1"
    with store.open_blob(container, "s.txt", snapshot=second.snapshot) as stream:
        assert stream.read() == b"v2"
    store.delete_blob(container, "s.txt", snapshot=first.snapshot)
    with pytest.raises(BlobNotFound):
        store.get_blob_bytes(container, "s.txt", snapshot=first.snapshot)
    with pytest.raises(BlobNotFound):
        store.get_blob_bytes(container, "s.txt", snapshot="not-a-snapshot")
    store.delete_blob(container, "s.txt")
    assert store.list_blobs(container) == []
    store.create_blob(container, "s.txt", "v3")
    assert store.list_snapshots(container, "s.txt") == []


def test_copy_across_containers_keeps_metadata(
    store: Any, container: str, make_store: Callable[..., Any]
) -> None:
    other = container + "-b"
    store.create_container(other)
    try:
        store.create_blob(container, "src.txt", "payload")
        store.set_blob_metadata(container, "src.txt", {"run": "7"})
        store.copy_blob(container, "src.txt", other, "dst.txt")
        assert store.get_blob_text(other, "dst.txt") == "payload"
        assert store.get_blob_metadata(other, "dst.txt") == {"run": "7"}
        with pytest.raises(BlobNotFound) as caught:
            store.copy_blob(container, "missing.txt", other, "dst.txt")
        assert caught.value.blob == "missing.txt"
        with pytest.raises(ContainerNotFound) as missing:
            store.copy_blob(container, "src.txt", "no-such-container", "dst.txt")
        assert missing.value.container == "no-such-container"
    finally:
        store.delete_container(other)


def test_listing_shapes(store: Any, container: str) -> None:
    for name in ("foo/a.txt", "foo/sub/b.txt", "foobar.txt", "foobaz/c.txt", "top.txt"):
        store.create_blob(container, name, "x")
    assert store.list_blobs(container, "foo") == ["foo/a.txt", "foo/sub/b.txt"]
    assert store.list_blobs(container, "foo", recursive=False) == ["foo/a.txt", "foo/sub/"]
    assert store.list_blobs(container, "foo*") == [
        "foo/a.txt", "foo/sub/b.txt", "foobar.txt", "foobaz/c.txt"]
    assert store.list_blobs(container, "foo*", recursive=False) == [
        "foo/", "foobar.txt", "foobaz/"]
    assert store.list_blobs(container, recursive=False) == ["foo/", "foobar.txt", "foobaz/",
                                                           "top.txt"]
    assert store.list_blobs(container, "nothing") == []
    entries = store.list_blobs(container, "foo", return_names=False, recursive=False)
    assert [(e.name, e.is_dir) for e in entries] == [("foo/a.txt", False), ("foo/sub/", True)]
    props = entries[0].properties
    assert props.content_length == 1 and props.last_modified.tzinfo is not None
    assert props.etag == store.get_blob_properties(container, "foo/a.txt").properties.etag
    with pytest.raises(ContainerNotFound):
        store.list_blobs("no-such-container")


def test_download_failure_leaves_nothing(store: Any, container: str, tmp_path: Path) -> None:
    dest = tmp_path / "deep" / "out.txt"
    with pytest.raises(BlobNotFound):
        store.get_blob_to_path(container, "missing.txt", str(dest))
    assert list((tmp_path / "deep").iterdir()) == []


def test_large_transfer_progress(store: Any, container: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    size = source.stat().st_size
    seen: list[tuple[int, int]] = []
    store.create_blob_from_path(container, "big.bin", str(source),
                                progress_callback=lambda c, t: seen.append((c, t)))
    assert len(seen) > 2 and seen[-1] == (size, size)
    assert [c for c, _ in seen] == sorted(c for c, _ in seen)
    seen.clear()
    store.get_blob_to_path(container, "big.bin", str(tmp_path / "copy.bin"),
                           progress_callback=lambda c, t: seen.append((c, t)))
    assert len(seen) > 2 and seen[-1] == (size, size)
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()
    with store.open_blob(container, "big.bin") as stream:
        assert stream.read(10) == source.read_bytes()[:10]
        assert stream.read() == source.read_bytes()[10:]
