"""Integrity end to end on store-s3 (issue 2.3), with real damage: the fault proxy flips one
byte of a response or request body between the provider and moto, or cuts a body short.

A damaged download raises ``IntegrityError`` and leaves nothing at the destination (no file,
no temporary file); one damaged response is read again by the retry layer (the error is
transient); a damaged upload is refused (S3 verifies the CRC32 botocore sends; moto does not,
so the provider compares S3's ETag with the MD5 of what it sent) and a truncated body is never
taken as complete.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from tests.servers.s3_server import MiB, MotoServer
from xtstore.errors import BlobAlreadyExists, IntegrityError, TransientError
from xtstore.providers.s3.store import S3Provider
from xtstore.providers.s3.transfer import verifies_checksums

SMALL = os.urandom(200 * 1024)
"""Below the multipart threshold: one PutObject, one GetObject."""
LARGE = os.urandom(11 * MiB)
"""Three 5 MiB parts up, three ranged GETs down."""
ATTEMPTS = 3


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    with running_proxy(moto_server.endpoint_url, hold_limit=5.0, lifetime=300.0) as running:
        yield running


def _store(moto_server: MotoServer, endpoint: str) -> Any:
    entry = moto_server.service_config(**{
        "endpoint-url": endpoint, "connect-timeout": 5, "read-timeout": 30,
        "retry": {"attempts": ATTEMPTS, "base-delay": 0.01, "max-delay": 0.05}})
    return xtstore.get_storage("integrity", config={"external-services": {"integrity": entry}})


@pytest.fixture
def stores(moto_server: MotoServer, proxy: FaultProxy) -> Iterator[tuple[Any, Any, str]]:
    """(store through the proxy, store direct to moto, container holding small and large)."""
    direct = _store(moto_server, moto_server.endpoint_url)
    container = f"in-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    direct.create_blob(container, "small.bin", SMALL)
    direct.create_blob(container, "large.bin", LARGE)
    yield _store(moto_server, proxy.url), direct, container
    direct.delete_container(container)


def _gets(proxy: FaultProxy, name: str) -> int:
    return len(proxy.requests("GET", rf"/{name}"))


@pytest.mark.parametrize("name", ["small.bin", "large.bin"])
def test_a_damaged_download_is_refused_and_leaves_nothing(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, name: str
) -> None:
    store, _, container = stores
    proxy.inject(Fault.corrupt(after_bytes=4096), method="GET", path=name, times=None)
    dest = tmp_path / "out" / name
    with pytest.raises(IntegrityError) as raised:
        store.get_blob_to_path(container, name, str(dest))
    assert raised.value.container == container and raised.value.blob == name
    assert list((tmp_path / "out").iterdir()) == []  # no file, no temporary file
    assert isinstance(raised.value, TransientError)  # retried: every attempt was damaged
    assert proxy.requests("GET") and all(
        entry.fault == "corrupt-response" for entry in proxy.requests("GET"))


def test_a_damaged_download_does_not_replace_an_existing_file(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path
) -> None:
    store, _, container = stores
    dest = tmp_path / "kept.bin"
    dest.write_bytes(b"the old content")
    proxy.inject(Fault.corrupt(after_bytes=10), method="GET", times=None)
    with pytest.raises(IntegrityError):
        store.get_blob_to_path(container, "small.bin", str(dest))
    assert dest.read_bytes() == b"the old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.bin"]


@pytest.mark.parametrize("name", ["small.bin", "large.bin"])
def test_one_damaged_response_is_read_again(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, name: str
) -> None:
    store, _, container = stores
    proxy.inject(Fault.corrupt(after_bytes=100), method="GET", path=name)
    dest = tmp_path / name
    store.get_blob_to_path(container, name, str(dest))
    assert dest.read_bytes() == (SMALL if name == "small.bin" else LARGE)
    assert [e.fault for e in proxy.requests("GET")].count("corrupt-response") == 1


def test_damaged_whole_reads_are_refused(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, _, container = stores
    proxy.inject(Fault.corrupt(after_bytes=500), method="GET", times=None)
    with pytest.raises(IntegrityError):
        store.get_blob_bytes(container, "small.bin")
    stream = store.open_blob(container, "small.bin")
    with pytest.raises(IntegrityError):
        stream.read()
    stream.close()


@pytest.mark.parametrize("name", ["small.bin", "large.bin"])
def test_a_truncated_body_is_never_taken_as_complete(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, name: str
) -> None:
    store, _, container = stores
    proxy.inject(Fault.truncate(), method="GET", times=None)
    with pytest.raises(TransientError):
        store.get_blob_to_path(container, name, str(tmp_path / name))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TransientError):
        store.get_blob_bytes(container, name)


def test_a_damaged_single_upload_is_refused_and_never_read_as_good(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, direct, container = stores
    proxy.inject(Fault.corrupt(after_bytes=1000, request=True), method="PUT", times=None)
    with pytest.raises(IntegrityError) as raised:
        store.create_blob(container, "up.bin", SMALL)
    assert raised.value.blob == "up.bin"
    # moto (which verifies nothing) kept the damaged bytes under the CRC32 of the good ones,
    # so no read serves them as good either.
    with pytest.raises(IntegrityError):
        direct.get_blob_bytes(container, "up.bin")


@pytest.mark.parametrize("how", ["path", "stream"])
def test_a_damaged_part_fails_the_multipart_upload(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, how: str
) -> None:
    store, direct, container = stores
    source = tmp_path / "source.bin"
    source.write_bytes(LARGE)
    proxy.inject(Fault.corrupt(after_bytes=MiB, request=True), method="PUT",
                 path=r"partNumber=2", times=None)
    with pytest.raises(IntegrityError):
        if how == "path":
            store.create_blob_from_path(container, "multi.bin", str(source))
        else:
            with open(source, "rb") as stream:
                store.create_blob_from_stream(container, "multi.bin", stream, len(LARGE))
    assert not direct.does_blob_exist(container, "multi.bin")


def test_one_damaged_upload_is_sent_again(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path
) -> None:
    store, direct, container = stores
    proxy.inject(Fault.corrupt(after_bytes=1000, request=True), method="PUT")
    store.create_blob(container, "again.bin", SMALL)
    assert direct.get_blob_bytes(container, "again.bin") == SMALL
    source = tmp_path / "source.bin"
    source.write_bytes(LARGE)
    proxy.inject(Fault.corrupt(after_bytes=MiB, request=True), method="PUT", path="partNumber=3")
    store.create_blob_from_path(container, "again-multi.bin", str(source))
    assert direct.get_blob_bytes(container, "again-multi.bin") == LARGE



def test_only_stores_other_than_aws_pay_for_the_etag_check(moto_server: MotoServer) -> None:
    # AWS S3 verifies the CRC32 botocore sends with every upload, so the MD5 pass is skipped.
    aws = S3Provider({"access-key-id": "a", "secret-access-key": "b", "region": "eu-west-1"})
    assert verifies_checksums(aws.client)
    assert not verifies_checksums(S3Provider(moto_server.service_config()).client)


@pytest.mark.parametrize("how", ["path", "stream"])
def test_a_multipart_object_keeps_a_whole_object_checksum_that_downloads_check(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, how: str
) -> None:
    store, direct, container = stores
    source = tmp_path / "source.bin"
    source.write_bytes(LARGE)
    if how == "path":
        direct.create_blob_from_path(container, "multi.bin", str(source))
    else:
        with open(source, "rb") as stream:
            direct.create_blob_from_stream(container, "multi.bin", stream, len(LARGE))
    head = direct.provider.client.head_object(Bucket=container, Key="multi.bin",
                                              ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"')  # three parts
    assert head["ChecksumType"] == "FULL_OBJECT" and "-" not in head["ChecksumCRC32"]
    proxy.inject(Fault.corrupt(after_bytes=4096), method="GET", path="multi.bin", times=None)
    dest = tmp_path / "out" / "multi.bin"
    with pytest.raises(IntegrityError) as raised:
        store.get_blob_to_path(container, "multi.bin", str(dest))
    assert raised.value.algorithm == "crc32"
    assert list((tmp_path / "out").iterdir()) == []
    with pytest.raises(IntegrityError):
        store.get_blob_bytes(container, "multi.bin")
    proxy.clear()
    store.get_blob_to_path(container, "multi.bin", str(dest))
    assert dest.read_bytes() == LARGE


def _kms_bucket(direct: Any, container: str, proxy: FaultProxy, name: str) -> None:
    """Objects of ``container`` encrypted with SSE-KMS by default (moto does that), and their
    HEADs through the proxy answered with an ETag that is not their MD5, as S3's are for
    KMS-encrypted objects (moto's stay MD5s)."""
    direct.provider.client.put_bucket_encryption(
        Bucket=container, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    proxy.inject(Fault.response_headers({"ETag": f'"{uuid.uuid4().hex}"'}), method="HEAD",
                 path=name, times=None)


def test_a_kms_objects_etag_is_not_taken_for_its_md5(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    # A create-only write whose response was lost meets its own blob on the repeat: with
    # SSE-KMS its ETag says nothing of its content, so it is read back, not refused.
    store, direct, container = stores
    _kms_bucket(direct, container, proxy, "kms.bin")
    proxy.inject(Fault.reset_after(), method="PUT", path="kms.bin")
    store.create_blob(container, "kms.bin", SMALL, fail_if_exists=True)
    assert direct.get_blob_bytes(container, "kms.bin") == SMALL
    head = direct.provider.client.head_object(Bucket=container, Key="kms.bin")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert [e.upstream_status for e in proxy.requests("PUT")] == [200, 412]
    # Another writer's content of the same length is still told apart.
    other = bytes(byte ^ 1 for byte in SMALL)
    direct.create_blob(container, "taken.bin", other)
    _kms_bucket(direct, container, proxy, "taken.bin")
    proxy.inject(Fault.reset_before(), method="PUT", path="taken.bin")
    with pytest.raises(BlobAlreadyExists):
        store.create_blob(container, "taken.bin", SMALL, fail_if_exists=True)
    assert direct.get_blob_bytes(container, "taken.bin") == other


def _raw_multipart(client: Any, container: str, key: str, parts: list[bytes],
                   kind: str | None) -> None:
    """A multipart upload as other tools make them: each part with its CRC32, and S3's
    default composite checksum of the object (a CRC32 of the parts' CRC32s)."""
    extra = {"ChecksumType": kind} if kind else {}
    upload = client.create_multipart_upload(Bucket=container, Key=key,
                                            ChecksumAlgorithm="CRC32", **extra)
    done = []
    for number, part in enumerate(parts, 1):
        sent = client.upload_part(Bucket=container, Key=key, UploadId=upload["UploadId"],
                                  PartNumber=number, Body=part, ChecksumAlgorithm="CRC32")
        done.append({"PartNumber": number, "ETag": sent["ETag"],
                     "ChecksumCRC32": sent["ChecksumCRC32"]})
    client.complete_multipart_upload(Bucket=container, Key=key, UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": done}, **extra)


@pytest.mark.parametrize(("kind", "sizes"), [
    ("COMPOSITE", (5, 5, 1)),  # parts of the first one's size but the last: one more HEAD
    (None, (5, 5, 1)),  # uploaded without a ChecksumType: composite all the same
    ("COMPOSITE", (5, 6, 1)),  # parts of other sizes: each one's size asked for
])
def test_a_composite_checksum_is_checked_part_by_part(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, kind: str | None,
    sizes: tuple[int, ...]
) -> None:
    store, direct, container = stores
    parts = [os.urandom(size * MiB) for size in sizes]
    _raw_multipart(direct.provider.client, container, "other.bin", parts, kind)
    head = direct.provider.client.head_object(Bucket=container, Key="other.bin",
                                              ChecksumMode="ENABLED")
    assert head.get("ChecksumType", "COMPOSITE") == "COMPOSITE" and "ChecksumCRC32" in head
    dest = tmp_path / "out" / "other.bin"
    store.get_blob_to_path(container, "other.bin", str(dest))
    assert dest.read_bytes() == b"".join(parts)  # never falsely refused
    heads = [entry.target for entry in proxy.requests("HEAD")]  # of parts: the GET told the rest
    assert len(heads) == (1 if sizes == (5, 5, 1) else len(sizes))
    proxy.clear()
    dest.unlink()
    proxy.inject(Fault.corrupt(after_bytes=6 * MiB), method="GET", path="other.bin",
                 times=None)
    with pytest.raises(IntegrityError) as raised:
        store.get_blob_to_path(container, "other.bin", str(dest))
    assert raised.value.algorithm == "crc32" and "composite" in str(raised.value)
    assert list((tmp_path / "out").iterdir()) == []
