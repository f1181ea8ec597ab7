"""store-s3's non-idempotent calls repeated after a transient fault (docs/reliability.md,
"S3: safe repeats"), beyond the shared fault matrix: multi-request calls faulted on each of
their requests, a write the network delivers late, a repeat that meets another client's
object, what a delete that gives up leaves, and what each call costs in requests."""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from tests.servers.s3_server import MiB, MotoServer
from xtstore.attempts import begin_call, end_call
from xtstore.errors import BlobAlreadyExists, BlobNotFound, ContainerAlreadyExists, TransientError

from .helpers import count_requests

READ_TIMEOUT = 0.5
FAULTS = {"reset-after": Fault.reset_after(), "503": Fault.error_status(503)}


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    with running_proxy(moto_server.endpoint_url, hold_limit=10.0, lifetime=300.0) as running:
        yield running


def _store(moto_server: MotoServer, endpoint: str, attempts: int = 4, **extra: Any) -> Any:
    entry = moto_server.service_config(**{
        "endpoint-url": endpoint, "connect-timeout": READ_TIMEOUT, "read-timeout": READ_TIMEOUT,
        "retry": {"attempts": attempts, "base-delay": 0.02, "max-delay": 0.1,
                  "total-timeout": 15}, **extra})
    return xtstore.get_storage("repeats", config={"external-services": {"repeats": entry}})


@pytest.fixture
def direct(moto_server: MotoServer) -> Any:
    return _store(moto_server, moto_server.endpoint_url)


@pytest.fixture
def container(direct: Any) -> Iterator[str]:
    name = "xts3-" + uuid.uuid4().hex[:12]
    direct.create_container(name)
    yield name
    direct.delete_container(name)


def _client(store: Any) -> Any:
    return store.provider.client


# ---- delete_blob with snapshots --------------------------------------------------------


def test_delete_with_snapshots_survives_a_fault_on_each_request(
    moto_server: MotoServer, proxy: FaultProxy, direct: Any, container: str
) -> None:
    store = _store(moto_server, proxy.url)
    for position in (1, 2, 3, 4):  # HEAD, LIST, DELETE the blob, DELETE its snapshots
        for fault_name, fault in FAULTS.items():
            cell = f"{fault_name}@{position}"
            direct.create_blob(container, "s.txt", "v1")
            direct.snapshot_blob(container, "s.txt")
            direct.snapshot_blob(container, "s.txt")
            proxy.clear()
            proxy.inject(fault, nth=position)
            store.delete_blob(container, "s.txt")
            assert any(entry.fault for entry in proxy.log), cell
            assert not direct.does_blob_exist(container, "s.txt"), cell
            assert direct.list_snapshots(container, "s.txt") == [], cell


def test_a_delete_that_gives_up_never_leaves_the_blob_without_its_snapshots(
    moto_server: MotoServer, proxy: FaultProxy, direct: Any, container: str
) -> None:
    store = _store(moto_server, proxy.url, attempts=1)
    direct.create_blob(container, "torn.txt", "v1")
    direct.snapshot_blob(container, "torn.txt")
    direct.snapshot_blob(container, "torn.txt")
    proxy.inject(Fault.error_status(503), nth=4, times=None)  # from the delete's 2nd write on
    with pytest.raises(TransientError) as caught:
        store.delete_blob(container, "torn.txt")
    assert caught.value.may_have_applied is True
    exists = direct.does_blob_exist(container, "torn.txt")
    assert not exists or len(direct.list_snapshots(container, "torn.txt")) == 2
    # The snapshots left behind go with the next delete of that name (the blob is gone).
    with pytest.raises(BlobNotFound):
        direct.delete_blob(container, "torn.txt")
    assert direct.list_snapshots(container, "torn.txt") == []


# ---- appends ---------------------------------------------------------------------------


def test_compose_append_survives_a_fault_on_each_request(
    moto_server: MotoServer, proxy: FaultProxy, direct: Any, container: str
) -> None:
    store = _store(moto_server, proxy.url, **{"append-compose-min-size": 5 * MiB})
    expected = os.urandom(5 * MiB)
    direct.create_blob(container, "big.log", expected)
    # HEAD, CreateMultipartUpload, UploadPartCopy, UploadPart, CompleteMultipartUpload
    for position in range(1, 6):
        for fault_name, fault in FAULTS.items():
            tail = f"[{fault_name}@{position}]".encode()
            proxy.clear()
            proxy.inject(fault, nth=position)
            store.append_blob(container, "big.log", tail)
            assert any(entry.fault for entry in proxy.log), (fault_name, position)
            expected += tail
            assert direct.get_blob_bytes(container, "big.log") == expected, (fault_name, position)


def test_a_late_write_of_an_append_is_never_applied_twice(
    moto_server: MotoServer, proxy: FaultProxy, direct: Any, container: str
) -> None:
    store = _store(moto_server, proxy.url)
    direct.create_blob(container, "late.log", "head|")
    # The rewrite's PutObject reaches the server only after the client gave up on it, so it
    # competes with the repeat's own write.
    proxy.inject(Fault.delay(3 * READ_TIMEOUT), method="PUT")
    store.append_blob(container, "late.log", "tail|")
    time.sleep(3 * READ_TIMEOUT)  # let the late copy arrive
    assert direct.get_blob_text(container, "late.log") == "head|tail|"
    assert proxy.requests("PUT")[0].fault == "delay"


def test_an_append_repeat_after_a_lost_response_costs_one_head(
    moto_server: MotoServer, proxy: FaultProxy, direct: Any, container: str
) -> None:
    store = _store(moto_server, proxy.url)
    direct.create_blob(container, "cost.log", "head|")
    proxy.inject(Fault.reset_after(), method="PUT")
    with count_requests(_client(store)) as log:
        store.append_blob(container, "cost.log", "tail|")
    # The repeat's HEAD shows the ETag the lost write leaves: applied, nothing re-sent.
    assert log.operations == ["HeadObject", "GetObject", "PutObject", "HeadObject"]
    assert direct.get_blob_text(container, "cost.log") == "head|tail|"


def test_an_append_repeat_finds_its_bytes_under_a_later_append(
    moto_server: MotoServer, direct: Any, container: str
) -> None:
    """The first attempt's write applied, its response lost, and another client appended
    before the repeat: the repeat finds this call's bytes where its write put them."""
    store = _store(moto_server, moto_server.endpoint_url)
    direct.create_blob(container, "mixed.log", "head|")
    etag = _client(direct).head_object(Bucket=container, Key="mixed.log")["ETag"]
    direct.append_blob(container, "mixed.log", "mine|")  # as the lost write would have
    direct.append_blob(container, "mixed.log", "other|")
    attempt, token = begin_call()
    try:
        attempt.memo["writes"] = [(etag, 5, '"not-the-etag-now"')]
        with count_requests(_client(store)) as log:
            store.provider.append_blob(container, "mixed.log", "mine|")
    finally:
        end_call(token)
    assert log.operations == ["HeadObject", "GetObject"]  # the second: the range it wrote
    assert direct.get_blob_text(container, "mixed.log") == "head|mine|other|"


# ---- repeats that meet another client's object ------------------------------------------


def test_a_create_only_repeat_tells_its_own_write_from_another(
    moto_server: MotoServer, direct: Any, container: str
) -> None:
    store = _store(moto_server, moto_server.endpoint_url)
    direct.create_blob(container, "theirs.txt", "their bytes")
    direct.create_blob(container, "mine.txt", "my bytes")
    with count_requests(_client(store)) as log, pytest.raises(BlobAlreadyExists):
        store.create_blob(container, "theirs.txt", "my bytes", fail_if_exists=True)
    assert log.operations == ["PutObject"]  # a first attempt meeting "exists" reads nothing
    for blob, outcome in (("theirs.txt", BlobAlreadyExists), ("mine.txt", None)):
        attempt, token = begin_call()
        try:
            attempt.memo["sent"] = True  # as after a first attempt whose response was lost
            if outcome is None:
                store.provider.create_blob(container, blob, "my bytes", fail_if_exists=True)
            else:
                with pytest.raises(outcome):
                    store.provider.create_blob(container, blob, "my bytes", fail_if_exists=True)
        finally:
            end_call(token)
    assert direct.get_blob_text(container, "theirs.txt") == "their bytes"


def test_a_create_container_repeat_tells_its_own_marker_from_another(
    moto_server: MotoServer, direct: Any
) -> None:
    store = _store(moto_server, moto_server.endpoint_url)
    name = "xts3-" + uuid.uuid4().hex[:12]
    direct.create_container(name)  # another creator won while our response was lost
    attempt, token = begin_call()
    try:
        attempt.memo.update(sent=True, marker_sent=True)
        with pytest.raises(ContainerAlreadyExists):
            store.provider.create_container(name)
    finally:
        end_call(token)
        direct.delete_container(name)


# ---- request costs of a first attempt ----------------------------------------------------


def test_first_attempts_cost_what_they_did(
    moto_server: MotoServer, direct: Any, container: str
) -> None:
    client = _client(direct)
    direct.create_blob(container, "d.txt", "x")
    direct.create_blob(container, "plain.txt", "x")
    direct.create_blob(container, "ds.txt", "x")
    direct.snapshot_blob(container, "ds.txt")
    name = "xts3-" + uuid.uuid4().hex[:12]
    costs = {}
    calls = {
        "create_container": lambda: direct.create_container(name),
        "snapshot_blob": lambda: direct.snapshot_blob(container, "d.txt"),
        "delete_blob (snapshots)": lambda: direct.delete_blob(container, "ds.txt"),
        "delete_blob": lambda: direct.delete_blob(container, "plain.txt"),
        "delete_container": lambda: direct.delete_container(name),
    }
    for label, call in calls.items():
        with count_requests(client) as log:
            call()
        costs[label] = log.operations
    assert costs == {
        "create_container": ["HeadBucket", "CreateBucket", "PutObject"],
        "snapshot_blob": ["CopyObject"],
        "delete_blob (snapshots)": ["HeadObject", "ListObjectsV2", "DeleteObject",
                                    "DeleteObjects"],
        "delete_blob": ["HeadObject", "ListObjectsV2", "DeleteObject"],
        "delete_container": ["ListMultipartUploads", "ListObjectVersions", "DeleteObjects",
                             "DeleteBucket"],
    }


def test_a_stream_upload_is_repeated_from_where_it_started_and_left_open(
    moto_server: MotoServer, proxy: FaultProxy, direct: Any, container: str
) -> None:
    store = _store(moto_server, proxy.url)
    stream = io.BytesIO(b"skipped|" + b"payload" * 100)
    stream.seek(len(b"skipped|"))
    proxy.inject(Fault.reset_during_body(after_bytes=100), method="PUT")
    store.create_blob_from_stream(container, "stream.bin", stream)
    assert direct.get_blob_bytes(container, "stream.bin") == b"payload" * 100
    assert not stream.closed  # s3transfer's one-request upload used to close it
