"""azure-blob's writable blobs (open_blob(mode="wb"): staged blocks and one Put Block List),
its get_blob_range (one ranged Get Blob) and its content types, on Azurite (block size 128 KiB
from SMALL_SIZES); blocks retried under injected faults through the fault proxy."""

from __future__ import annotations

import random
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.providers.azure.counting import RequestCounter
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import Fault, running_proxy
from xtstore.errors import BlobNotFound, ContainerNotFound, PreconditionFailed

KiB = 1024
BLOCK = 128 * KiB
BIG = random.Random(43).randbytes(3 * BLOCK + 777)


def _write(store: Any, container: str, blob: str, data: bytes, piece: int = 10_000,
           **kwargs: Any) -> None:
    with store.open_blob(container, blob, mode="wb", **kwargs) as writer:
        for start in range(0, len(data), piece):
            writer.write(data[start:start + piece])


def _uncommitted(store: Any, container: str, blob: str) -> int:
    client = store.provider.service_client.get_blob_client(container, blob)
    return len(client.get_block_list("uncommitted")[1])


@pytest.fixture
def counted(make_store: Callable[..., Any]) -> tuple[Any, RequestCounter]:
    counter = RequestCounter()
    return make_store(**{"client-options": {"raw_request_hook": counter}}), counter


def test_a_writer_stages_a_block_per_part_and_the_blob_appears_whole_on_close(
    counted: tuple[Any, RequestCounter], container: str
) -> None:
    store, counter = counted
    store.create_blob(container, "w.bin", b"old")
    store.set_blob_metadata(container, "w.bin", {"k": "v"})
    counter.reset()
    writer = store.open_blob(container, "w.bin", mode="wb")
    for start in range(0, len(BIG), 10_000):
        writer.write(BIG[start:start + 10_000])
        if start == 2 * BLOCK:
            assert store.get_blob_bytes(container, "w.bin") == b"old"  # two blocks staged
    writer.close()
    assert counter.methods.count("PUT comp=block") == 4  # 3 full parts and the tail
    assert counter.methods.count("PUT comp=blocklist") == 1
    assert store.get_blob_bytes(container, "w.bin") == BIG  # checked against its MD5
    assert store.get_blob_metadata(container, "w.bin") == {}  # cleared, as create_blob


def test_a_small_writer_is_one_put_blob(counted: tuple[Any, RequestCounter],
                                        container: str) -> None:
    store, counter = counted
    counter.reset()
    _write(store, container, "small.bin", b"hello world", piece=3)
    assert [m for m in counter.methods if m.startswith("PUT")] == ["PUT"]
    assert store.get_blob_bytes(container, "small.bin") == b"hello world"
    _write(store, container, "empty.bin", b"")
    assert store.get_blob_bytes(container, "empty.bin") == b""


def test_an_aborted_or_failed_writer_leaves_nothing(make_store: Callable[..., Any],
                                                    container: str) -> None:
    store = make_store()
    with pytest.raises(RuntimeError), store.open_blob(container, "gone.bin", mode="wb") as w:
        w.write(BIG)
        raise RuntimeError("the caller failed")
    assert not store.does_blob_exist(container, "gone.bin")
    store.create_blob(container, "kept.bin", b"old")
    writer = store.open_blob(container, "kept.bin", mode="wb")
    writer.write(BIG)
    writer.abort()
    assert store.get_blob_bytes(container, "kept.bin") == b"old"


def test_a_writer_for_a_missing_container_fails_at_the_call(
    make_store: Callable[..., Any]
) -> None:
    with pytest.raises(ContainerNotFound):
        make_store().open_blob("missing-" + uuid.uuid4().hex[:8], "a.bin", mode="wb")


def test_blocks_and_the_commit_are_retried_under_faults_without_duplicating_bytes(
    azurite: Azurite, make_store: Callable[..., Any], container: str
) -> None:
    with running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=5.0,
                       lifetime=120.0) as proxy:
        store = make_store(
            "wp", **{"connection-string": azurite.connection_string.replace(
                azurite.endpoint, proxy.endpoint(azurite.endpoint)),
                "timeout": 5, "retry": {"attempts": 4, "base-delay": 0.01, "max-delay": 0.05}})
        proxy.inject(Fault.reset_after(), method="PUT", path=r"comp=block&", nth=2)
        proxy.inject(Fault.reset_during_body(1000), method="PUT", path=r"comp=block&", nth=3)
        proxy.inject(Fault.reset_after(), method="PUT", path=r"comp=blocklist")
        _write(store, container, "f.bin", BIG)
        fired = [entry.fault for entry in proxy.log if entry.fault]
    assert fired == ["reset-after", "reset-during-body", "reset-after"]
    direct = make_store()
    assert direct.get_blob_bytes(container, "f.bin") == BIG
    assert _uncommitted(direct, container, "f.bin") == 0


def test_a_large_write_in_small_chunks_holds_a_few_blocks_at_most(
    make_store: Callable[..., Any], container: str
) -> None:
    store = make_store(**{"max-block-size": 1024 * KiB})
    chunk = random.Random(3).randbytes(16 * KiB)
    total = 16 * 1024 * KiB
    tracemalloc.start()
    try:
        with store.open_blob(container, "mem.bin", mode="wb") as writer:
            for _ in range(total // len(chunk)):
                writer.write(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert store.get_blob_properties(container, "mem.bin").properties.content_length == total
    assert peak < 4 * 1024 * KiB, f"peak {peak / 2**20:.1f} MiB for a 16 MiB write"


def test_get_blob_range_is_one_ranged_get(counted: tuple[Any, RequestCounter],
                                          container: str) -> None:
    store, counter = counted
    data = BIG[:100_000]
    store.create_blob(container, "r.bin", data)
    snapshot = store.snapshot_blob(container, "r.bin").snapshot
    store.create_blob(container, "r.bin", b"new")
    counter.reset()
    assert store.get_blob_range(container, "r.bin", 1, 3) == b"ew"
    assert store.get_blob_range(container, "r.bin", 1) == b"ew"
    assert store.get_blob_range(container, "r.bin", 3, 10) == b""
    assert store.get_blob_range(container, "r.bin", 50, 60) == b""
    assert store.get_blob_range(container, "r.bin", 2, 2) == b""
    assert store.get_blob_range(container, "r.bin", 0) == b"new"
    assert store.get_blob_range(container, "r.bin", 500, 90_000,
                                snapshot=snapshot) == data[500:90_000]
    assert store.get_blob_range(container, "r.bin", 99_990, 200_000,
                                snapshot=snapshot) == data[99_990:]
    assert counter.methods == ["GET"] * 8
    with pytest.raises(BlobNotFound):
        store.get_blob_range(container, "missing.bin", 0, 10)
    with pytest.raises(BlobNotFound):
        store.get_blob_range(container, "missing.bin", 5, 5)
    with pytest.raises(BlobNotFound):
        store.get_blob_range(container, "r.bin", 0, 10, snapshot="2020-01-01T00:00:00.0000000Z")
    store.create_blob(container, "empty.bin", b"")
    assert store.get_blob_range(container, "empty.bin", 0, 10) == b""
    assert store.get_blob_range(container, "empty.bin", 0) == b""


def test_content_types_are_stored_read_back_and_kept_by_copy(
    make_store: Callable[..., Any], container: str, tmp_path: Any
) -> None:
    store = make_store()
    provider = store.provider
    assert provider.capabilities().content_types
    source = tmp_path / "t.csv"
    source.write_bytes(b"a,b\n" * 100_000)  # staged blocks
    provider.create_blob(container, "a.json", b"{}", content_type="application/json")
    provider.create_blob_from_path(container, "b.csv", str(source), content_type="text/csv")
    with open(source, "rb") as stream:
        provider.create_blob_from_stream(container, "c.txt", stream, content_type="text/plain")
    with provider.open_blob_writer(container, "d.parquet",
                                   content_type="application/vnd.apache.parquet") as writer:
        writer.write(BIG)  # staged blocks
    with provider.open_blob_writer(container, "e.bin", content_type="image/png") as writer:
        writer.write(b"tiny")  # one Put Blob
    store.copy_blob(container, "a.json", container, "copy.json")

    def content_type(blob: str) -> str | None:
        return store.get_blob_properties(container, blob).properties.content_type

    assert [content_type(name) for name in ("a.json", "b.csv", "c.txt", "d.parquet",
                                            "e.bin", "copy.json")] == [
        "application/json", "text/csv", "text/plain", "application/vnd.apache.parquet",
        "image/png", "application/json"]


def test_an_append_that_rewrites_keeps_the_content_type_and_metadata(
    make_store: Callable[..., Any], container: str
) -> None:
    store = make_store()
    store.provider.create_blob(container, "log.txt", b"head", content_type="text/plain")
    store.set_blob_metadata(container, "log.txt", {"k": "v"})
    store.append_blob(container, "log.txt", "tail")  # a block blob: read-modify-write
    store.append_blob(container, "log.txt", "more", append_with_rewrite=True)
    info = store.get_blob_properties(container, "log.txt").properties
    assert store.get_blob_bytes(container, "log.txt") == b"headtailmore"
    assert (info.content_type, store.get_blob_metadata(container, "log.txt")) == (
        "text/plain", {"k": "v"})


def test_a_writer_whose_blocks_another_commit_dropped_fails_and_stores_nothing_of_its_own(
    make_store: Callable[..., Any], container: str
) -> None:
    store = make_store()
    first = store.open_blob(container, "race.bin", mode="wb")
    first.write(BIG)  # three blocks staged
    second = BIG[::-1]
    _write(store, container, "race.bin", second)  # its block list drops the staged blocks
    with pytest.raises(PreconditionFailed, match="another upload"):
        first.close()
    assert store.get_blob_bytes(container, "race.bin") == second
