"""store-s3's writable blobs (open_blob(mode="wb"): a multipart upload underneath), its
get_blob_range (one ranged GetObject) and its content types, on moto; parts retried under
injected faults through the fault proxy."""

from __future__ import annotations

import random
import tracemalloc
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, running_proxy
from tests.servers.s3_server import MotoServer
from xtstore.errors import BlobNotFound, ContainerNotFound
from xtstore.store import Store

from .helpers import count_requests

MiB = 2**20
PART = 5 * MiB
BIG = random.Random(41).randbytes(2 * PART + 12345)


@pytest.fixture
def container(s3_store: Store) -> Iterator[str]:
    name = "xtw-" + uuid.uuid4().hex[:12]
    s3_store.create_container(name)
    yield name
    s3_store.delete_container(name)


def _uploads(store: Store, container: str) -> list[str]:
    listed = store.provider.client.list_multipart_uploads(Bucket=container)  # type: ignore[attr-defined]
    return [upload["Key"] for upload in listed.get("Uploads", ())]


def _write(store: Store, container: str, blob: str, data: bytes, piece: int = 64 * 1024,
           **kwargs: Any) -> None:
    with store.open_blob(container, blob, mode="wb", **kwargs) as writer:
        for start in range(0, len(data), piece):
            writer.write(data[start:start + piece])


def test_a_writer_uploads_parts_as_they_fill_and_the_blob_appears_whole_on_close(
    s3_store: Store, container: str
) -> None:
    s3_store.create_blob(container, "w.bin", b"old")
    s3_store.set_blob_metadata(container, "w.bin", {"k": "v"})
    client = s3_store.provider.client  # type: ignore[attr-defined]
    with count_requests(client) as log:
        writer = s3_store.open_blob(container, "w.bin", mode="wb")
        for start in range(0, len(BIG), 100_000):
            writer.write(BIG[start:start + 100_000])
            if start == PART + 100_000:
                # Two parts are up; readers still see the old content.
                assert s3_store.get_blob_bytes(container, "w.bin") == b"old"
        writer.close()
    assert s3_store.get_blob_bytes(container, "w.bin") == BIG
    assert s3_store.get_blob_metadata(container, "w.bin") == {}  # cleared, as create_blob
    assert log.counts["CreateMultipartUpload"] == 1
    assert log.counts["UploadPart"] == 3
    assert log.counts["CompleteMultipartUpload"] == 1
    assert _uploads(s3_store, container) == []


def test_a_small_writer_is_one_put_object(s3_store: Store, container: str) -> None:
    client = s3_store.provider.client  # type: ignore[attr-defined]
    with count_requests(client) as log:
        _write(s3_store, container, "small.bin", b"hello world", piece=3)
    assert s3_store.get_blob_bytes(container, "small.bin") == b"hello world"
    assert log.counts == {"HeadBucket": 1, "PutObject": 1}
    _write(s3_store, container, "empty.bin", b"")
    assert s3_store.get_blob_bytes(container, "empty.bin") == b""


def test_an_aborted_or_failed_writer_leaves_nothing(s3_store: Store, container: str) -> None:
    with pytest.raises(RuntimeError), \
            s3_store.open_blob(container, "gone.bin", mode="wb") as writer:
        writer.write(BIG[:PART + 10])
        raise RuntimeError("the caller failed")
    writer = s3_store.open_blob(container, "gone.bin", mode="wb")
    writer.write(BIG)
    writer.abort()  # type: ignore[attr-defined]
    assert not s3_store.does_blob_exist(container, "gone.bin")
    assert _uploads(s3_store, container) == []  # both multipart uploads aborted


def test_a_writer_for_a_missing_container_fails_at_the_call(s3_store: Store) -> None:
    with pytest.raises(ContainerNotFound):
        s3_store.open_blob("xtw-missing-" + uuid.uuid4().hex[:8], "a.bin", mode="wb")


def test_parts_and_the_commit_are_retried_under_faults_without_duplicating_bytes(
    moto_server: MotoServer, s3_store: Store, container: str
) -> None:
    with running_proxy(moto_server.endpoint_url, hold_limit=5.0, lifetime=120.0) as proxy:
        entry = moto_server.service_config(**{
            "endpoint-url": proxy.url, "read-timeout": 5,
            "retry": {"attempts": 4, "base-delay": 0.01, "max-delay": 0.05}})
        store = xtstore.get_storage("w", config={"external-services": {"w": entry}})
        # The second part's response is lost after S3 stored it, the third part's body is
        # cut on its way, and the complete's response is lost: the complete's repeat meets
        # NoSuchUpload and finds the object made of these very parts.
        proxy.inject(Fault.reset_after(), method="PUT", path=r"partNumber=2")
        proxy.inject(Fault.reset_during_body(1000), method="PUT", path=r"partNumber=3")
        proxy.inject(Fault.reset_after(), method="POST", path=r"uploadId=")
        _write(store, container, "f.bin", BIG)
        fired = [entry.fault for entry in proxy.log if entry.fault]
    assert fired == ["reset-after", "reset-during-body", "reset-after"]
    assert s3_store.get_blob_bytes(container, "f.bin") == BIG
    assert _uploads(s3_store, container) == []


def test_a_large_write_in_small_chunks_holds_a_few_parts_at_most(
    s3_store: Store, container: str
) -> None:
    chunk = random.Random(3).randbytes(64 * 1024)
    total = 8 * PART
    tracemalloc.start()
    try:
        with s3_store.open_blob(container, "mem.bin", mode="wb") as writer:
            for _ in range(total // len(chunk)):
                writer.write(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s3_store.get_blob_properties(container, "mem.bin").properties.content_length == total
    assert peak < 3 * PART, f"peak {peak / MiB:.1f} MiB for a {total / MiB:.0f} MiB write"


def test_get_blob_range_is_one_ranged_get(s3_store: Store, container: str) -> None:
    data = BIG[:100_000]
    s3_store.create_blob(container, "r.bin", data)
    snapshot = s3_store.snapshot_blob(container, "r.bin").snapshot
    s3_store.create_blob(container, "r.bin", b"new")
    client = s3_store.provider.client  # type: ignore[attr-defined]
    with count_requests(client) as log:
        assert s3_store.get_blob_range(container, "r.bin", 1, 3) == b"ew"
        assert s3_store.get_blob_range(container, "r.bin", 1) == b"ew"
        assert s3_store.get_blob_range(container, "r.bin", 3, 10) == b""
        assert s3_store.get_blob_range(container, "r.bin", 50, 60) == b""
        assert s3_store.get_blob_range(container, "r.bin", 2, 2) == b""
        assert s3_store.get_blob_range(container, "r.bin", 0) == b"new"
        assert s3_store.get_blob_range(container, "r.bin", 500, 90_000,
                                       snapshot=snapshot) == data[500:90_000]
        assert s3_store.get_blob_range(container, "r.bin", 99_990, 200_000,
                                       snapshot=snapshot) == data[99_990:]
    assert log.counts == {"GetObject": 8}
    with pytest.raises(BlobNotFound):
        s3_store.get_blob_range(container, "missing.bin", 0, 10)
    with pytest.raises(BlobNotFound):
        s3_store.get_blob_range(container, "missing.bin", 5, 5)
    with pytest.raises(BlobNotFound):
        s3_store.get_blob_range(container, "r.bin", 0, 10, snapshot="20200101T000000.000000Z")
    s3_store.create_blob(container, "empty.bin", b"")
    assert s3_store.get_blob_range(container, "empty.bin", 0, 10) == b""
    assert s3_store.get_blob_range(container, "empty.bin", 0) == b""


def test_content_types_are_stored_read_back_and_kept_by_copy(
    s3_store: Store, container: str, tmp_path: Any
) -> None:
    provider = s3_store.provider
    assert provider.capabilities().content_types
    source = tmp_path / "t.csv"
    source.write_bytes(b"a,b\n")
    provider.create_blob(container, "a.json", b"{}", content_type="application/json")
    provider.create_blob_from_path(container, "b.csv", str(source), content_type="text/csv")
    with open(source, "rb") as stream:
        provider.create_blob_from_stream(container, "c.txt", stream, content_type="text/plain")
    with provider.open_blob_writer(container, "d.parquet",
                                   content_type="application/vnd.apache.parquet") as writer:
        writer.write(BIG[:PART + 1])  # a multipart upload
    with provider.open_blob_writer(container, "e.bin", content_type="image/png") as writer:
        writer.write(b"tiny")  # one PutObject
    s3_store.copy_blob(container, "a.json", container, "copy.json")

    def content_type(blob: str) -> str | None:
        return s3_store.get_blob_properties(container, blob).properties.content_type

    assert [content_type(name) for name in ("a.json", "b.csv", "c.txt", "d.parquet",
                                            "e.bin", "copy.json")] == [
        "application/json", "text/csv", "text/plain", "application/vnd.apache.parquet",
        "image/png", "application/json"]
