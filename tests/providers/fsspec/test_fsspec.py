"""store-fsspec: the conformance suite over fsspec's in-process memory filesystem and its local
filesystem, plus what is specific to the bridge."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import xtstore
from xtstore.errors import ConfigError
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


def fsspec_store(url: str) -> Store:
    config = {"external-services": {"fs": {"type": "storage", "provider": "store-fsspec",
                                           "url": url}}}
    store: Store = xtstore.get_storage("fs", config=config)
    return store


class TestFsspecMemoryConformance(ConformanceSuite):
    options = SuiteOptions(bounded_memory=False, large_blob_size=16 * 1024 * 1024)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory: pytest.TempPathFactory) -> Store:
        return fsspec_store(f"memory://{tmp_path_factory.mktemp('mem').name}")


class TestFsspecLocalConformance(ConformanceSuite):
    options = SuiteOptions(large_blob_size=64 * 1024 * 1024)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory: pytest.TempPathFactory) -> Store:
        return fsspec_store(f"file://{tmp_path_factory.mktemp('fsspec')}")


def test_blobs_are_plain_files_and_bookkeeping_stays_out_of_the_container(
    tmp_path: Path,
) -> None:
    store = fsspec_store(f"file://{tmp_path}")
    store.create_container("runs")
    store.create_blob("runs", "exp/log.txt", "hello")
    store.snapshot_blob("runs", "exp/log.txt")
    store.set_blob_metadata("runs", "exp/log.txt", {"owner": "me"})
    assert (tmp_path / "runs" / "exp" / "log.txt").read_text() == "hello"
    in_container = sorted(
        path.relative_to(tmp_path).as_posix() for path in (tmp_path / "runs").rglob("*")
    )
    assert in_container == ["runs/exp", "runs/exp/log.txt"]
    assert store.list_blobs("runs") == ["exp/log.txt"]


def test_a_lock_left_by_a_dead_writer_is_broken_after_the_timeout(tmp_path: Path) -> None:
    config = {"external-services": {"fs": {"type": "storage", "provider": "store-fsspec",
                                           "url": f"file://{tmp_path}", "lock-timeout": 0.2}}}
    store = xtstore.get_storage("fs", config=config)
    store.create_container("runs")
    lock = tmp_path / ".xtstore" / "locks" / "runs" / "log.txt.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("0")
    store.append_blob("runs", "log.txt", "line\n")
    assert store.get_blob_text("runs", "log.txt") == "line\n"
    assert not lock.exists()


def test_missing_url_is_a_config_error() -> None:
    config = {"external-services": {"fs": {"type": "storage", "provider": "store-fsspec"}}}
    with pytest.raises(ConfigError, match="url"):
        xtstore.get_storage("fs", config=config)


def test_readers_of_one_memory_blob_do_not_share_a_position(tmp_path: Path) -> None:
    # memory:// hands every reader the same stored file object: a second reader, or a
    # get_blob_bytes, moved the first one's position (threads reading at once got b"").
    store = fsspec_store(f"memory://{tmp_path.name}-readers")
    store.create_container("box")
    data = os.urandom(256 * 1024)
    store.create_blob("box", "blob.bin", data)
    with store.open_blob("box", "blob.bin") as first, \
            store.open_blob("box", "blob.bin") as second:
        head = first.read(10)
        assert second.read() == data
        assert store.get_blob_bytes("box", "blob.bin") == data
        assert head + first.read() == data


def test_a_record_read_while_its_writer_fills_it_waits_for_it(tmp_path: Path) -> None:
    # Create-only records are opened "xb" and then written: empty for a moment.
    store = fsspec_store(f"file://{tmp_path}")
    store.create_container("box")
    store.set_container_metadata("box", {"k": "v"})
    record = next(tmp_path.rglob("box.json"))
    body = record.read_bytes()
    record.write_bytes(b"")
    refill = threading.Timer(0.05, record.write_bytes, args=(body,))
    refill.start()
    try:
        assert store.get_container_metadata("box") == {"k": "v"}
    finally:
        refill.join()
