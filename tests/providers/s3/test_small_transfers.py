"""Small-file transfers on store-s3 cost one request each, sent from the calling thread (no
transfer manager, no thread hand-off); downloads above ``single_get_limit`` still fetch
parallel ranges pinned with ``If-Match``. At 7b3926e a small download sent a HeadObject
before its GetObject, and every transfer went through a new TransferManager's threads."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest

from tests.servers.s3_server import MiB
from xtstore.store import Store


class _Sent:
    """Each request's operation, sending thread and headers (botocore's ``before-send``)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, int, dict[str, str]]] = []

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> None:
        headers = {key.lower(): value.decode() if isinstance(value, bytes) else str(value)
                   for key, value in request.headers.items()}
        self.requests.append((event_name.rsplit(".", 1)[-1], threading.get_ident(), headers))

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _, _ in self.requests]


@pytest.fixture
def sent(s3_store: Store) -> Iterator[_Sent]:
    log = _Sent()
    events = s3_store.provider.client.meta.events  # type: ignore[attr-defined]
    events.register("before-send.s3", log)
    yield log
    events.unregister("before-send.s3", log)


@pytest.fixture
def bucket(s3_store: Store) -> Iterator[str]:
    name = "xtsmall-" + uuid.uuid4().hex[:12]
    s3_store.create_container(name)
    yield name
    s3_store.delete_container(name)


def test_a_small_download_is_one_get_from_the_calling_thread(
    s3_store: Store, bucket: str, sent: _Sent, tmp_path: Path
) -> None:
    data = os.urandom(4096)
    s3_store.create_blob(bucket, "small.bin", data)
    sent.requests.clear()
    progress: list[tuple[int, int]] = []
    s3_store.get_blob_to_path(bucket, "small.bin", str(tmp_path / "small.bin"),
                              progress_callback=lambda done, total: progress.append((done, total)))
    assert sent.operations == ["GetObject"]
    assert sent.requests[0][1] == threading.get_ident()
    assert (tmp_path / "small.bin").read_bytes() == data
    assert progress[-1] == (4096, 4096)
    assert os.listdir(tmp_path) == ["small.bin"]


def test_a_small_upload_is_one_put_with_its_metadata_from_the_calling_thread(
    s3_store: Store, bucket: str, sent: _Sent, tmp_path: Path
) -> None:
    source = tmp_path / "up.csv"
    source.write_bytes(b"a,b\n" * 1024)
    s3_store.create_blob_from_path(bucket, "up.csv", str(source), metadata={"mtime": "1.5"})
    assert sent.operations == ["PutObject"]
    _, thread, headers = sent.requests[0]
    assert thread == threading.get_ident()
    assert headers["x-amz-meta-mtime"] == "1.5"
    assert headers["content-type"] == "text/csv"
    assert "x-amz-checksum-crc32" in headers  # S3 verifies what it stores
    properties = s3_store.get_blob_properties(bucket, "up.csv").properties
    assert properties is not None
    assert (properties.content_length, properties.metadata) == (4096, {"mtime": "1.5"})
    assert s3_store.get_blob_bytes(bucket, "up.csv") == source.read_bytes()


def test_above_the_single_get_limit_ranges_are_pinned_to_the_first_get(
    s3_store: Store, bucket: str, sent: _Sent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(12 * MiB)  # 5 MiB ranges: three
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    s3_store.create_blob_from_path(bucket, "big.bin", str(source))
    transfers = s3_store.provider._transfers  # type: ignore[attr-defined]
    monkeypatch.setattr(transfers, "single_get_limit", 10 * MiB)
    sent.requests.clear()
    s3_store.get_blob_to_path(bucket, "big.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data
    first, *ranges = sent.requests
    assert first[0] == "GetObject" and "range" not in first[2]
    assert len(ranges) == 3 and all(operation == "GetObject" for operation, _, _ in ranges)
    etag = s3_store.get_blob_properties(bucket, "big.bin").properties.etag  # type: ignore[union-attr]
    assert {headers["if-match"] for _, _, headers in ranges} == {etag}
    assert {headers["range"] for _, _, headers in ranges} == {
        f"bytes=0-{5 * MiB - 1}", f"bytes={5 * MiB}-{10 * MiB - 1}", f"bytes={10 * MiB}-"}


@pytest.mark.parametrize("value", [
    "Wed, 02 Dec 2026 02:00:51 GMT", "Thu, 03 Dec 2026 13:59:31 GMT",
    "Tue, 29 Feb 2028 23:59:59 GMT", "2026-12-02T02:00:51.000Z", "2026-12-02T02:00:51Z",
    "2026-12-02T02:00:51.123456+01:00", "2026-12-02T02:00:51", 1_700_000_000, "1700000000",
    # not IMF-fixdate: left to botocore's parser
    "Wed, 02 Dec 2026 02:00:51 +0100", "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
])
def test_the_fast_timestamp_parser_reads_what_botocore_s_reads(value: object) -> None:
    from botocore.utils import parse_timestamp

    from xtstore.providers.s3.config import _parse_timestamp

    assert _parse_timestamp(value) == parse_timestamp(value)
    assert _parse_timestamp(value).tzinfo is not None or isinstance(value, str)


def test_the_client_parses_times_with_the_fast_parser(s3_store: Store, bucket: str) -> None:
    client = s3_store.provider.client  # type: ignore[attr-defined]
    from xtstore.providers.s3.config import _parse_timestamp

    # botocore's endpoint makes each response's parser from the session's factory.
    factory = client._endpoint._response_parser_factory
    assert factory.create_parser("rest-xml")._timestamp_parser is _parse_timestamp
    s3_store.create_blob(bucket, "t.txt", "x")
    listed = s3_store.list_blobs(bucket, return_names=False)[0]
    head = s3_store.get_blob_properties(bucket, "t.txt")
    assert listed.properties.last_modified == head.properties.last_modified  # type: ignore[union-attr]


def test_times_read_from_the_server_are_botocores_without_its_parser(
    s3_store: Store, s3_config: dict[str, Any], bucket: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the real server: a listing's ISO 8601 time and the HTTP date of a HeadObject's and
    a GetObject's ``Last-Modified`` are read by the standard library (botocore's dateutil
    parser is never asked), and are exactly what a bare boto3 client reads: UTC, to the
    second as the HTTP date says it."""
    import boto3

    import xtstore.providers.s3.config as s3_config_module

    s3_store.create_blob(bucket, "t.txt", "x")
    fallbacks: list[object] = []
    botocores = s3_config_module.parse_timestamp

    def recording(value: object) -> Any:
        fallbacks.append(value)
        return botocores(value)

    monkeypatch.setattr(s3_config_module, "parse_timestamp", recording)
    listed = s3_store.list_blobs(bucket, return_names=False)[0].properties
    head = s3_store.get_blob_properties(bucket, "t.txt").properties
    downloaded = s3_store.get_blob_to_path(bucket, "t.txt", str(tmp_path / "t.txt"))
    container = s3_store.get_container_properties(bucket)
    assert fallbacks == []
    assert listed is not None and head is not None and downloaded is not None

    bare = boto3.session.Session().client(
        "s3", endpoint_url=s3_config["endpoint-url"], region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test")
    bare_listed = bare.list_objects_v2(Bucket=bucket, Prefix="t.txt")["Contents"][0]
    bare_head = bare.head_object(Bucket=bucket, Key="t.txt")
    assert listed.last_modified == bare_listed["LastModified"]
    assert head.last_modified == downloaded.last_modified == bare_head["LastModified"]
    assert container.last_modified == bare.head_object(
        Bucket=bucket, Key=".xtstore/container")["LastModified"]
    for moment in (listed.last_modified, head.last_modified, downloaded.last_modified,
                   container.last_modified):
        assert moment.tzinfo is timezone.utc
    assert head.last_modified.microsecond == 0
    assert head.modified_ns == int(bare_head["LastModified"].timestamp()) * 10**9
