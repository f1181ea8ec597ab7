"""store-s3 behaviour that the conformance suite does not pin down: how each S3 emulation is
done (requests used), that it holds at the server under races, and that secrets stay secret."""

from __future__ import annotations

import concurrent.futures
import http.server
import logging
import os
import pickle
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.s3_server import MotoServer
from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ConfigError,
    ContainerAlreadyExists,
    InvalidName,
    TransientError,
)
from xtstore.layers.retry import RetryPolicy
from xtstore.providers._shared import RESERVED_PREFIX, snapshot_prefix
from xtstore.providers.s3 import listing as s3_listing
from xtstore.providers.s3 import store as s3_module
from xtstore.providers.s3.listing import iter_listing, iter_listing_names
from xtstore.providers.s3.store import S3Provider
from xtstore.store import Store

from .helpers import count_requests

MiB = 2**20
SECRET = "s3cr3t-MUST-NOT-LEAK-7f3a9c"


@pytest.fixture
def container(s3_store: Store) -> Iterator[str]:
    name = "xts3-" + uuid.uuid4().hex[:12]
    s3_store.create_container(name)
    yield name
    s3_store.delete_container(name)


def raw_keys(store: Store, container: str) -> list[str]:
    pages = store.provider.client.get_paginator("list_objects_v2").paginate(Bucket=container)  # type: ignore[attr-defined]
    return [item["Key"] for page in pages for item in page.get("Contents", ())]


# ---- create-only and containers ----


def test_create_only_race_has_exactly_one_winner(s3_store: Store, container: str) -> None:
    def create(index: int) -> str:
        try:
            s3_store.create_blob(container, "race.txt", f"writer {index}", fail_if_exists=True)
            return "won"
        except BlobAlreadyExists:
            return "lost"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(create, range(16)))
    assert outcomes.count("won") == 1
    assert s3_store.get_blob_text(container, "race.txt").startswith("writer ")


def test_create_only_is_one_conditional_put(s3_store: Store, container: str) -> None:
    with count_requests(s3_store.provider.client) as log:  # type: ignore[attr-defined]
        s3_store.create_blob(container, "once.txt", "x", fail_if_exists=True)
    assert log.operations == ["PutObject"]


def test_create_container_race_has_exactly_one_winner(s3_store: Store) -> None:
    name = "xts3-" + uuid.uuid4().hex[:12]

    def create(_: int) -> str:
        try:
            s3_store.create_container(name)
            return "won"
        except ContainerAlreadyExists:
            return "lost"

    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(create, range(6)))
        assert outcomes.count("won") == 1
    finally:
        s3_store.delete_container(name)


def test_bucket_made_outside_xtstore_has_properties(s3_store: Store) -> None:
    name = "xts3-" + uuid.uuid4().hex[:12]
    s3_store.provider.client.create_bucket(Bucket=name)  # type: ignore[attr-defined]
    try:
        info = s3_store.get_container_properties(name)
        assert info.name == name and dict(info.metadata) == {}
        assert info.last_modified.utcoffset() is not None
        with pytest.raises(ContainerAlreadyExists):
            s3_store.create_container(name)
    finally:
        s3_store.delete_container(name)


def test_delete_container_removes_every_version(s3_store: Store) -> None:
    name = "xts3-" + uuid.uuid4().hex[:12]
    s3_store.create_container(name)
    client = s3_store.provider.client  # type: ignore[attr-defined]
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for round_number in range(3):
        s3_store.create_blob(name, "v.txt", f"version {round_number}")
    s3_store.delete_blob(name, "v.txt")
    s3_store.delete_container(name)
    assert not s3_store.does_container_exist(name)


def test_container_metadata_round_trip(s3_store: Store, container: str) -> None:
    s3_store.set_container_metadata(container, {"project": "xt", "owner": "lab"})
    assert s3_store.get_container_metadata(container) == {"project": "xt", "owner": "lab"}
    assert s3_store.list_blobs(container) == []


# ---- appends ----


def test_small_append_is_conditional_rewrite(s3_store: Store, container: str) -> None:
    s3_store.create_blob(container, "log.txt", "first\n")
    client = s3_store.provider.client  # type: ignore[attr-defined]
    with count_requests(client) as log:
        s3_store.append_blob(container, "log.txt", "second\n")
        s3_store.append_blob(container, "log.txt", "third\n")
    # The second append knows the blob is small and skips the HeadObject.
    assert log.operations == ["HeadObject", "GetObject", "PutObject", "GetObject", "PutObject"]
    assert s3_store.get_blob_text(container, "log.txt") == "first\nsecond\nthird\n"


def test_append_notices_a_blob_that_outgrew_the_hint(
    s3_store: Store, container: str, s3_config: dict[str, Any]
) -> None:
    s3_store.append_blob(container, "grow.bin", b"small")
    other = Store(S3Provider(s3_config), "s3")
    other.create_blob(container, "grow.bin", b"g" * (5 * MiB))
    with count_requests(s3_store.provider.client) as log:  # type: ignore[attr-defined]
        s3_store.append_blob(container, "grow.bin", b"+")
    assert log.counts["UploadPartCopy"] == 1 and "PutObject" not in log.counts
    assert s3_store.get_blob_bytes(container, "grow.bin") == b"g" * (5 * MiB) + b"+"


def test_concurrent_appends_lose_nothing(s3_store: Store, container: str) -> None:
    lines = [f"line {index:03d} " + "x" * 40 + "\n" for index in range(24)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda line: s3_store.append_blob(container, "shared.log", line), lines))
    stored = s3_store.get_blob_text(container, "shared.log").splitlines(keepends=True)
    assert sorted(stored) == sorted(lines)


def test_large_append_composes_on_the_server(s3_store: Store, container: str) -> None:
    head = os.urandom(6 * MiB)
    s3_store.create_blob(container, "big.bin", head)
    s3_store.set_blob_metadata(container, "big.bin", {"kind": "log"})
    client = s3_store.provider.client  # type: ignore[attr-defined]
    with count_requests(client) as log:
        s3_store.append_blob(container, "big.bin", b"tail-1")
        s3_store.append_blob(container, "big.bin", "tail-2")
    assert "GetObject" not in log.counts and "PutObject" not in log.counts
    assert log.counts["UploadPartCopy"] == 2 and log.counts["CompleteMultipartUpload"] == 2
    assert s3_store.get_blob_bytes(container, "big.bin") == head + b"tail-1tail-2"
    assert s3_store.get_blob_metadata(container, "big.bin") == {"kind": "log"}


def test_test_server_honours_compose_conditions(s3_store: Store, container: str) -> None:
    """moto_serial.py adds S3's If-Match on CompleteMultipartUpload and UploadPartCopy."""
    from botocore.exceptions import ClientError

    client = s3_store.provider.client  # type: ignore[attr-defined]
    client.put_object(Bucket=container, Key="k", Body=b"x" * (5 * MiB))
    upload = client.create_multipart_upload(Bucket=container, Key="k")["UploadId"]
    with pytest.raises(ClientError, match="PreconditionFailed"):
        client.upload_part_copy(Bucket=container, Key="k", UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": container, "Key": "k"},
                                CopySourceIfMatch='"0123"')
    part = client.upload_part(Bucket=container, Key="k", UploadId=upload, PartNumber=1,
                              Body=b"y")
    with pytest.raises(ClientError, match="PreconditionFailed"):
        client.complete_multipart_upload(
            Bucket=container, Key="k", UploadId=upload, IfMatch='"0123"',
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    client.abort_multipart_upload(Bucket=container, Key="k", UploadId=upload)


def test_concurrent_compose_appends_lose_nothing(s3_store: Store, container: str) -> None:
    base = b"." * (5 * MiB)
    s3_store.create_blob(container, "big.log", base)
    lines = [f"<{index:02d}>".encode() * 50 + b"\n" for index in range(12)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda line: s3_store.append_blob(container, "big.log", line), lines))
    content = s3_store.get_blob_bytes(container, "big.log")
    assert content[: len(base)] == base
    assert sorted(content[len(base):].splitlines(keepends=True)) == sorted(lines)


def test_append_with_rewrite_never_composes(s3_store: Store, container: str) -> None:
    head = b"a" * (5 * MiB)
    s3_store.create_blob(container, "big.bin", head)
    with count_requests(s3_store.provider.client) as log:  # type: ignore[attr-defined]
        s3_store.append_blob(container, "big.bin", b"b", append_with_rewrite=True)
    assert log.operations == ["GetObject", "PutObject"]
    assert s3_store.get_blob_bytes(container, "big.bin") == head + b"b"


# ---- snapshots ----


def test_snapshots_are_hidden_copies_readable_by_id(s3_store: Store, container: str) -> None:
    s3_store.create_blob(container, "model.txt", "v1")
    first = s3_store.snapshot_blob(container, "model.txt")
    s3_store.create_blob(container, "model.txt", "v2")
    second = s3_store.snapshot_blob(container, "model.txt")
    s3_store.create_blob(container, "model.txt", "v3")

    assert s3_store.get_blob_bytes(container, "model.txt", snapshot=first.snapshot) == b"v1"
    assert s3_store.get_blob_bytes(container, "model.txt", snapshot=second.snapshot) == b"v2"
    assert s3_store.list_blobs(container) == ["model.txt"]
    assert s3_store.list_blobs(container, "", recursive=False) == ["model.txt"]
    assert s3_store.list_blobs(container, ".*") == []
    ids = [info.snapshot for info in s3_store.list_snapshots(container, "model.txt")]
    assert ids == [first.snapshot, second.snapshot]

    s3_store.delete_blob(container, "model.txt", snapshot=first.snapshot)
    with pytest.raises(BlobNotFound):
        s3_store.get_blob_bytes(container, "model.txt", snapshot=first.snapshot)
    assert s3_store.get_blob_text(container, "model.txt") == "v3"

    s3_store.delete_blob(container, "model.txt")
    prefix = snapshot_prefix("model.txt")
    assert [key for key in raw_keys(s3_store, container) if key.startswith(prefix)] == []


def test_unknown_snapshot_ids_are_not_found(s3_store: Store, container: str) -> None:
    s3_store.create_blob(container, "a.txt", "x")
    for bad in ("nope", "../../a.txt", "20990101T000000.000000Z-00000000"):
        with pytest.raises(BlobNotFound):
            s3_store.get_blob_bytes(container, "a.txt", snapshot=bad)
        with pytest.raises(BlobNotFound):
            s3_store.delete_blob(container, "a.txt", snapshot=bad)


def test_reserved_prefix_is_refused(s3_store: Store, container: str) -> None:
    with pytest.raises(InvalidName):
        s3_store.create_blob(container, RESERVED_PREFIX + "container", "x")


# ---- listing, copy, metadata, transfers ----


def test_listing_pages_lazily_and_stays_sorted(s3_store: Store, container: str) -> None:
    names = ["a-b", "a/1", "a/2/x", "a/3", "a0", "b", "a/2/y"]
    for name in names:
        s3_store.create_blob(container, name, name)
    client = s3_store.provider.client  # type: ignore[attr-defined]
    with count_requests(client) as log:
        entries = iter_listing(client, container, "", recursive=True, page_size=2)
        first = next(entries)
        assert log.counts["ListObjectsV2"] == 1
        rest = list(entries)
    assert [entry.name for entry in [first, *rest]] == sorted(names)
    assert log.counts["ListObjectsV2"] == 4  # 7 blobs + the hidden container marker, 2 a page
    shallow = list(iter_listing(client, container, "a*", recursive=False, page_size=1))
    assert [entry.name for entry in shallow] == ["a-b", "a/", "a0"]


def test_names_only_listing_takes_keys_alone_from_the_same_pages(
    s3_store: Store, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["a-b", "a/1", "a/2/x", "a/3", "a0", "b", "a/2/y", "a/2/"]  # "a/2/" a marker
    for name in names[:-1]:
        s3_store.create_blob(container, name, name)
    client = s3_store.provider.client  # type: ignore[attr-defined]
    client.put_object(Bucket=container, Key="a/2/", Body=b"")
    full: dict[tuple[str, bool], tuple[list[str], int]] = {}
    for path in ("", "a/", "a*", "a/2/"):
        for recursive in (True, False):
            with count_requests(client) as log:
                entries = iter_listing(client, container, path, recursive, page_size=2)
                full[path, recursive] = ([entry.name for entry in entries],
                                         log.counts["ListObjectsV2"])

    def no_value_objects(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a names-only listing built a BlobInfo/BlobProperties")

    # Names only: no value object is made, in the provider or the Store.
    monkeypatch.setattr(s3_listing, "BlobInfo", no_value_objects)
    monkeypatch.setattr(s3_listing, "BlobProperties", no_value_objects)
    for (path, recursive), (expected, pages) in full.items():
        with count_requests(client) as log:
            got = list(iter_listing_names(client, container, path, recursive, page_size=2))
        assert got == expected, (path, recursive)
        assert log.operations == ["ListObjectsV2"] * pages, (path, recursive)
    with count_requests(client) as log:
        assert s3_store.list_blobs(container) == sorted(names[:-1])
        assert list(s3_store.iter_blob_names(container, "a", recursive=False)) == [
            "a/1", "a/2/", "a/3"]
    assert log.operations == ["ListObjectsV2", "ListObjectsV2"]


def test_copy_is_server_side_and_keeps_metadata(s3_store: Store, container: str) -> None:
    s3_store.create_blob(container, "src.txt", "payload")
    s3_store.set_blob_metadata(container, "src.txt", {"step": "7"})
    with count_requests(s3_store.provider.client) as log:  # type: ignore[attr-defined]
        s3_store.copy_blob(container, "src.txt", container, "dst/copy.txt")
    assert log.operations == ["CopyObject"]
    assert s3_store.get_blob_text(container, "dst/copy.txt") == "payload"
    assert s3_store.get_blob_metadata(container, "dst/copy.txt") == {"step": "7"}


def test_copy_beyond_single_request_limit_uses_part_copies(
    s3_store: Store, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "SINGLE_COPY_LIMIT", MiB)
    content = os.urandom(6 * MiB)
    s3_store.create_blob(container, "big.bin", content)
    with count_requests(s3_store.provider.client) as log:  # type: ignore[attr-defined]
        s3_store.set_blob_metadata(container, "big.bin", {"a": "1"})
    assert log.counts["UploadPartCopy"] >= 2 and "CopyObject" not in log.counts
    assert s3_store.get_blob_bytes(container, "big.bin") == content
    assert s3_store.get_blob_metadata(container, "big.bin") == {"a": "1"}


def test_multipart_round_trip_with_progress(
    s3_store: Store, container: str, tmp_path: Path
) -> None:
    source = tmp_path / "up.bin"
    content = os.urandom(11 * MiB + 123)
    source.write_bytes(content)
    seen: list[tuple[int, int]] = []
    with count_requests(s3_store.provider.client) as log:  # type: ignore[attr-defined]
        s3_store.create_blob_from_path(container, "up.bin", str(source),
                                       progress_callback=lambda c, t: seen.append((c, t)))
    assert log.counts["UploadPart"] == 3
    assert seen[-1] == (len(content), len(content))
    assert [c for c, _ in seen] == sorted(c for c, _ in seen)

    dest = tmp_path / "deep" / "down" / "file.bin"
    seen.clear()
    s3_store.get_blob_to_path(container, "up.bin", str(dest),
                              progress_callback=lambda c, t: seen.append((c, t)))
    assert dest.read_bytes() == content
    assert seen[-1] == (len(content), len(content))
    assert [c for c, _ in seen] == sorted(c for c, _ in seen)


def test_failed_download_leaves_nothing(s3_store: Store, container: str, tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    with pytest.raises(BlobNotFound):
        s3_store.get_blob_to_path(container, "missing.bin", str(dest))
    assert list(tmp_path.iterdir()) == []


# ---- errors, retries, secrets ----


class _SlowDownHandler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def _reply(self) -> None:
        type(self).hits += 1
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your rate</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = _reply

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def slow_down_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowDownHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _SlowDownHandler.hits = 0
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _TruncatingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the headers of a 100-byte object and then only 10 bytes: the
    GetObject call succeeds, and reading its body fails."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.send_header("ETag", '"0123"')
        self.send_header("Last-Modified", "Tue, 01 Dec 2026 12:00:00 GMT")
        self.end_headers()
        self.wfile.write(b"x" * 10)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_stream_read_failing_after_open_blob_returned_is_typed_and_named(
    moto_server: MotoServer,
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TruncatingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        store = _store(moto_server.service_config(**{"endpoint-url": url}), attempts=1)
        stream = store.open_blob("some-bucket", "cut/short.bin")
        with stream, pytest.raises(TransientError) as caught:
            stream.read()
    finally:
        server.shutdown()
        server.server_close()
    error = caught.value
    assert (error.service, error.container, error.blob) == ("s3", "some-bucket",
                                                            "cut/short.bin")


def _store(config: dict[str, Any], attempts: int) -> Store:
    policy = RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.002)
    return Store(S3Provider(config), "s3", retry=policy)


def test_throttling_is_transient_and_only_the_layer_retries(
    moto_server: MotoServer, slow_down_url: str
) -> None:
    store = _store(moto_server.service_config(**{"endpoint-url": slow_down_url}), attempts=3)
    with pytest.raises(TransientError) as caught:
        store.get_blob_text("some-bucket", "a.txt")
    assert caught.value.request_sent is True
    assert _SlowDownHandler.hits == 3  # 3 layer attempts x 1 botocore attempt


def test_append_whose_read_fails_is_retried_as_unsent(
    moto_server: MotoServer, slow_down_url: str
) -> None:
    # An append is not idempotent, but a failure before its first write may be repeated.
    store = _store(moto_server.service_config(**{"endpoint-url": slow_down_url}), attempts=3)
    with pytest.raises(TransientError) as caught:
        store.append_blob("some-bucket", "log.txt", "line\n")
    assert caught.value.request_sent is False
    assert _SlowDownHandler.hits == 3


def test_closed_port_is_transient_not_sent_and_not_retried_by_botocore(
    moto_server: MotoServer,
) -> None:
    config = moto_server.service_config(**{"endpoint-url": f"http://127.0.0.1:{closed_port()}"})
    store = _store(config, attempts=1)
    client = store.provider.client  # type: ignore[attr-defined]
    with count_requests(client) as log, pytest.raises(TransientError) as caught:
        store.create_blob("some-bucket", "a.txt", "x", fail_if_exists=True)
    assert caught.value.request_sent is False
    assert log.operations == ["PutObject"]


def closed_port() -> int:
    """A port that was free a moment ago and that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_secrets_stay_out_of_repr_errors_and_logs(
    moto_server: MotoServer, caplog: pytest.LogCaptureFixture, slow_down_url: str
) -> None:
    config = moto_server.service_config(**{"secret-access-key": SECRET,
                                           "session-token": SECRET + "-token"})
    caplog.set_level(logging.DEBUG, logger="xtstore")
    store = _store(config, attempts=1)
    name = "xts3-" + uuid.uuid4().hex[:12]
    store.create_container(name)
    store.create_blob(name, "a.txt", "x")
    store.delete_container(name)
    failing = _store(moto_server.service_config(**{"endpoint-url": slow_down_url,
                                                   "secret-access-key": SECRET}), attempts=1)
    with pytest.raises(TransientError) as caught:
        failing.get_blob_text(name, "a.txt")
    texts = [repr(store), repr(store.provider), str(caught.value), repr(caught.value),
             caplog.text, repr(vars(store.provider))]
    assert all(SECRET not in text for text in texts)


def test_config_mistakes_are_config_errors(moto_server: MotoServer) -> None:
    with pytest.raises(ConfigError, match="addressing-style"):
        S3Provider(moto_server.service_config(**{"addressing-style": "sideways"}))
    with pytest.raises(ConfigError, match="secret-access-key"):
        S3Provider(moto_server.service_config(**{"secret-access-key": None}))
    with pytest.raises(ConfigError, match="multipart-chunksize"):
        S3Provider(moto_server.service_config(**{"multipart-chunksize": 1024}))
    with pytest.raises(ConfigError, match="read-timeout"):
        S3Provider(moto_server.service_config(**{"read-timeout": "soon"}))


def test_wrong_secret_is_access_denied_when_the_server_checks(moto_server: MotoServer) -> None:
    from xtstore.providers.s3.errors import translate

    class _Fake(Exception):
        pass

    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "SignatureDoesNotMatch", "Message": "no"},
                         "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")
    assert isinstance(translate(error), AccessDenied)
    assert translate(_Fake()) is None


def test_get_storage_builds_a_picklable_store(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XTSTORE_SECRET_S3_SECRET_ACCESS_KEY", "test")
    config = {"external-services": {"s3": moto_server.service_config(
        **{"secret-access-key": "$vault"})}}
    store = xtstore.get_storage("s3", config=config)
    assert isinstance(store.provider, S3Provider)
    clone = pickle.loads(pickle.dumps(store))
    assert isinstance(clone.list_containers(), list)


def test_no_keys_uses_the_standard_credential_chain(moto_server: MotoServer) -> None:
    config = moto_server.service_config()
    del config["access-key-id"], config["secret-access-key"]
    store = Store(S3Provider(config), "s3")  # keys come from AWS_ACCESS_KEY_ID & co.
    assert isinstance(store.list_containers(), list)
