"""open_blob streams that resume under the one retry policy, on Azurite and moto through the
fault proxy (issue 2.3; the reader itself: tests/test_blob_reader.py).

A body cut or reset mid-way is resumed where it broke off (a ranged GET from the bytes
delivered), a 503 on that resume is retried, a blob overwritten mid-read ends in
``PreconditionFailed`` (never mixed bytes), a snapshot's read resumes on the snapshot, and a
seekable stream reads the bytes at every offset; a sequential read makes one GET. Random seeks
and reads over a blob larger than the read-ahead ask for bounded ranges only, one GET a read
at most; a sequential read of a large blob costs no more GETs than the SDK's own download
(``XTSTORE_BIG_READ_MIB``, default 40: the size of that blob; 256 for the issue's full size);
pyarrow reads a Parquet file through ``open_blob``.
"""

from __future__ import annotations

import io
import os
import random
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from xtstore.errors import PreconditionFailed, TransientError
from xtstore.providers._blob_reader import READ_AHEAD

KiB = 1024
CONTENT = random.Random(7).randbytes(1024 * KiB)
CUT = 300 * KiB
"""Where a first body breaks off: beyond a few 8 KiB reads, short of the end."""
SMALL_GETS = {
    # Azure's chunked download at these sizes is 7 GETs for CONTENT; S3's is one GetObject.
    "max-single-get-size": 256 * KiB, "max-chunk-get-size": 128 * KiB,
}
RETRY = {"attempts": 4, "base-delay": 0.01, "max-delay": 0.05}


@dataclass
class Setup:
    store: Any
    """Through the proxy."""
    direct: Any
    container: str
    proxy: FaultProxy
    range_header: str
    """The request header a ranged GET names its offset in."""
    sdk_download: Callable[[str, str, Any], None]
    """``sdk_download(container, blob, file)``: the raw SDK's own download through the proxy,
    at the SDK's default sizes (Azure ``download_blob().readinto``, S3 ``download_fileobj``)."""

    def gets(self, name: str) -> int:
        return len(self.proxy.requests("GET", name))

    def count_ranges(self, pattern: str) -> Any:
        """A pass-through rule counting (``.seen``) the GETs whose range matches ``pattern``."""
        return self.proxy.inject(Fault.response_headers({}), method="GET",
                                 header=(self.range_header, pattern), times=None)


@dataclass(frozen=True)
class Provider:
    make: Callable[[str], Any]
    """The store with this endpoint."""
    endpoint: str
    """The server's endpoint, as the store names it."""
    upstream: str
    """Where the proxy forwards to."""
    range_header: str
    sdk: Callable[[str], Callable[[str, str, Any], None]]
    """The SDK's own download through this endpoint (see Setup.sdk_download)."""


def _azure(request: pytest.FixtureRequest) -> Provider:
    azurite = request.getfixturevalue("azurite")

    def make(endpoint: str) -> Any:
        entry = {"type": "storage", "provider": "azure-blob", "timeout": 10, **SMALL_GETS,
                 "retry": RETRY, "connection-string":
                 azurite.connection_string.replace(azurite.endpoint, endpoint)}
        return xtstore.get_storage("resumed", config={"external-services": {"resumed": entry}})

    def sdk(endpoint: str) -> Callable[[str, str, Any], None]:
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(
            azurite.connection_string.replace(azurite.endpoint, endpoint))

        def download(container: str, blob: str, file: Any) -> None:
            service.get_blob_client(container, blob).download_blob().readinto(file)

        return download

    return Provider(make, azurite.endpoint, f"http://127.0.0.1:{azurite.port}", "x-ms-range",
                    sdk)


def _s3(request: pytest.FixtureRequest) -> Provider:
    moto = request.getfixturevalue("moto_server")

    def make(endpoint: str) -> Any:
        entry = moto.service_config(**{"endpoint-url": endpoint, "connect-timeout": 5,
                                       "read-timeout": 10, "retry": RETRY})
        return xtstore.get_storage("resumed", config={"external-services": {"resumed": entry}})

    def sdk(endpoint: str) -> Callable[[str, str, Any], None]:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")

        def download(container: str, blob: str, file: Any) -> None:
            client.download_fileobj(container, blob, file)

        return download

    return Provider(make, moto.endpoint_url, moto.endpoint_url, "range", sdk)


@pytest.fixture(params=["azure", "s3"])
def setup(request: pytest.FixtureRequest) -> Iterator[Setup]:
    provider = (_azure if request.param == "azure" else _s3)(request)
    direct = provider.make(provider.endpoint)
    container = f"rr-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    direct.create_blob(container, "blob.bin", CONTENT)
    with running_proxy(provider.upstream, hold_limit=5.0, lifetime=120.0) as proxy:
        endpoint = proxy.endpoint(provider.endpoint)
        yield Setup(provider.make(endpoint), direct, container, proxy, provider.range_header,
                    provider.sdk(endpoint))
    direct.delete_container(container)


def _read_all(stream: Any) -> bytes:
    pieces = []
    while piece := stream.read(64 * KiB):
        pieces.append(piece)
    return b"".join(pieces)


def test_a_sequential_read_makes_one_get(setup: Setup) -> None:
    with setup.store.open_blob(setup.container, "blob.bin") as stream:
        assert _read_all(stream) == CONTENT
    assert setup.gets("blob.bin") == 1


def test_a_body_cut_short_is_resumed_where_it_broke_off_and_a_503_there_is_retried(
    setup: Setup,
) -> None:
    setup.proxy.inject(Fault.truncate(CUT), method="GET", path="blob.bin")
    resume = setup.proxy.inject(Fault.error_status(503), method="GET", path="blob.bin",
                                header=(setup.range_header, f"^bytes={CUT}-$"))
    with setup.store.open_blob(setup.container, "blob.bin") as stream:
        assert _read_all(stream) == CONTENT
    assert resume.fired == 1  # the resume asked for the bytes from the cut on
    assert setup.gets("blob.bin") == 3


@pytest.mark.parametrize("how", ["read()", "read(64 KiB)"])
def test_a_body_reset_mid_way_is_resumed(setup: Setup, how: str) -> None:
    setup.proxy.inject(Fault.reset_in_response(CUT), method="GET", path="blob.bin")
    with setup.store.open_blob(setup.container, "blob.bin") as stream:
        data = stream.read() if how == "read()" else _read_all(stream)
    assert data == CONTENT
    assert setup.gets("blob.bin") == 2


def test_a_blob_overwritten_mid_read_is_a_precondition_failure(setup: Setup) -> None:
    # The first body ends early (an orderly close, so the bytes before it all arrive); the
    # resume asks for the version first read, which is gone.
    setup.proxy.inject(Fault.truncate(CUT), method="GET", path="blob.bin")
    stream = setup.store.open_blob(setup.container, "blob.bin")
    head = stream.read(64 * KiB)
    assert head == CONTENT[:64 * KiB]
    setup.direct.create_blob(setup.container, "blob.bin", b"new content")
    with pytest.raises(PreconditionFailed) as caught:
        stream.read()
    stream.close()
    error = caught.value
    assert (error.service, error.container, error.blob) == ("resumed", setup.container,
                                                            "blob.bin")
    assert "changed while it was read" in str(error)
    with setup.store.open_blob(setup.container, "blob.bin") as stream:
        assert stream.read() == b"new content"


def test_a_snapshot_read_resumes_on_the_snapshot(setup: Setup) -> None:
    snapshot = setup.direct.snapshot_blob(setup.container, "blob.bin").snapshot
    setup.direct.create_blob(setup.container, "blob.bin", b"new content")
    setup.proxy.inject(Fault.truncate(CUT), method="GET")
    with setup.store.open_blob(setup.container, "blob.bin", snapshot=snapshot) as stream:
        assert _read_all(stream) == CONTENT


def test_seek_and_read_give_the_bytes_at_every_offset(setup: Setup) -> None:
    offsets = [(700 * KiB, 10_000), (5, 100), (len(CONTENT) - 3, 10), (CUT, 200 * KiB)]
    with setup.store.open_blob(setup.container, "blob.bin") as stream:
        assert stream.seekable()
        for offset, length in offsets:
            assert stream.seek(offset) == offset
            assert stream.read(length) == CONTENT[offset:offset + length]
            assert stream.tell() == min(len(CONTENT), offset + length)
        stream.seek(0)
        assert _read_all(stream) == CONTENT
    # The first body (read through on the forward seeks, each under the skip limit), a
    # range for each seek back (to 5 and to CUT), and two from the start again: the range at
    # CUT was left mostly unread, so the reader takes itself for random and asks for what the
    # first 64 KiB read wants, then for the read-ahead as the read goes on in order.
    assert setup.gets("blob.bin") == 1 + 2 + 2


def test_when_the_retries_run_out_the_error_is_typed_and_names_the_blob(setup: Setup) -> None:
    stream = setup.store.open_blob(setup.container, "blob.bin")
    setup.proxy.inject(Fault.error_status(503), method="GET", times=None)
    stream.seek(CUT)
    assert stream.read(10) == CONTENT[CUT:CUT + 10]  # a skip forward in the first body
    stream.seek(5)
    with pytest.raises(TransientError) as caught:
        stream.read(10)
    error = caught.value
    assert (error.service, error.container, error.blob) == ("resumed", setup.container,
                                                            "blob.bin")
    assert setup.gets("blob.bin") == 1 + RETRY["attempts"]
    stream.close()


def test_random_seeks_and_reads_ask_bounded_ranges_one_get_a_read_at_most(setup: Setup) -> None:
    # Read where no range reaches the end, not even one doubled by a read that goes on
    # where the last range ended.
    content = random.Random(8).randbytes(8 * READ_AHEAD)
    setup.direct.create_blob(setup.container, "random.bin", content)
    bounded = setup.count_ranges(r"^bytes=\d+-\d+$")
    ranged = setup.count_ranges(r"^bytes=")
    rng = random.Random(9)
    reads = 40
    with setup.store.open_blob(setup.container, "random.bin") as stream:
        for _ in range(reads):
            offset = rng.randrange(len(content) - 4 * READ_AHEAD)
            length = rng.randrange(1, 50 * KiB)
            stream.seek(offset)
            assert stream.read(length) == content[offset:offset + length]
    gets = setup.gets("random.bin")
    assert gets <= 1 + reads  # the first body, then at most a range a read
    assert ranged.seen == bounded.seen == gets - 1  # every range after the first bounded


def test_reading_on_after_a_seek_asks_for_growing_ranges(setup: Setup) -> None:
    content = random.Random(10).randbytes(7 * READ_AHEAD + 123)
    setup.direct.create_blob(setup.container, "long.bin", content)
    with setup.store.open_blob(setup.container, "long.bin") as stream:
        stream.seek(len(content) - 1)  # e.g. a footer first
        assert stream.read(1) == content[-1:]
        stream.seek(0)
        assert _read_all(stream) == content
    # The first body, the footer's range, then 4, 8, 16 MiB and the rest: not one per 4 MiB.
    assert setup.gets("long.bin") == 1 + 1 + 4


def test_a_sequential_read_of_a_large_blob_costs_no_more_gets_than_the_sdks_download(
    setup: Setup,
) -> None:
    size = int(os.environ.get("XTSTORE_BIG_READ_MIB", "40")) * 1024 * KiB
    content = os.urandom(size)  # (randbytes stops short of 256 MiB)
    setup.direct.create_blob(setup.container, "large.bin", content)
    with tempfile.TemporaryFile() as file:
        setup.sdk_download(setup.container, "large.bin", file)
        file.seek(0)
        assert file.read() == content
    sdk_requests = len(setup.proxy.requests(path="large.bin"))
    setup.proxy.clear()
    with setup.store.open_blob(setup.container, "large.bin") as stream:
        assert _read_all(stream) == content
    ours = len(setup.proxy.requests(path="large.bin"))
    assert ours == 1 <= sdk_requests, (ours, sdk_requests)


def test_pyarrow_reads_parquet_through_open_blob_in_a_few_ranged_gets(setup: Setup) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    rng = random.Random(13)
    table = pyarrow.table({"x": [rng.random() for _ in range(300_000)],
                           "y": [rng.randrange(1000) for _ in range(300_000)]})
    buffer = io.BytesIO()
    parquet.write_table(table, buffer, row_group_size=100_000)
    setup.direct.create_blob(setup.container, "t.parquet", buffer.getvalue())
    with setup.store.open_blob(setup.container, "t.parquet") as stream:
        assert parquet.read_table(stream).equals(table)
        first = setup.gets("t.parquet")
        stream.seek(0)
        assert parquet.read_table(stream, columns=["y"]).column("y").equals(table.column("y"))
    assert first <= 6, first
