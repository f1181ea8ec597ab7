"""store-s3 (issue 2.5): metadata given to an upload goes in the request that creates the
object (PutObject, or CreateMultipartUpload), never in a CopyObject after it; metadata no
HTTP header carries fails typed before any request (not botocore's ParamValidationError nor
S3's refused signature); ``BlobProperties.checksums`` is what S3 keeps: the MD5 a
single-part ETag is, and the full-object CRC32 every upload of xtstore's has."""

from __future__ import annotations

import base64
import hashlib
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.uploads import upload_methods
from xtstore.errors import InvalidArgument
from xtstore.store import Store

from .helpers import count_requests

MiB = 2**20
TAGS = {"mtime": "1764633600.123456789", "stage": "train"}
SMALL = b"small content"
LARGE = bytes(range(256)) * (6 * MiB // 256)
"""Above the tests' multipart threshold (5 MiB): two parts."""
BAD = [({"bad key": "v"}, "header names"), ({"ké": "v"}, "header names"),
       ({"k": "välue"}, "printable ASCII"), ({"k": "two\nlines"}, "printable ASCII"),
       ({"Key": "1", "key": "2"}, "only in case")]


@pytest.fixture
def container(s3_store: Store) -> Iterator[str]:
    name = "xtcm-" + uuid.uuid4().hex[:12]
    s3_store.create_container(name)
    yield name
    s3_store.delete_container(name)


def _crc32(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def test_metadata_goes_with_the_request_that_creates_the_object(
    s3_store: Store, container: str, tmp_path: Path
) -> None:
    client = s3_store.provider.client  # type: ignore[attr-defined]
    assert s3_store.capabilities().create_metadata
    for method, upload in upload_methods(s3_store, container, tmp_path).items():
        for size, data in (("small", SMALL), ("large", LARGE)):
            blob = f"{method}/{size}.bin"
            with count_requests(client) as log:
                upload(blob, data, TAGS)
            assert "CopyObject" not in log.counts, (blob, log.counts)  # set_blob_metadata's
            assert s3_store.get_blob_metadata(container, blob) == TAGS, blob
    assert s3_store.get_blob_bytes(container, "open_blob_writer/large.bin") == LARGE


@pytest.mark.parametrize(("metadata", "reason"), BAD)
def test_metadata_no_header_carries_is_refused_before_any_request(
    s3_store: Store, container: str, tmp_path: Path, metadata: dict[str, str], reason: str
) -> None:
    client = s3_store.provider.client  # type: ignore[attr-defined]
    for method, upload in upload_methods(s3_store, container, tmp_path).items():
        with count_requests(client) as log, pytest.raises(InvalidArgument, match=reason) as caught:
            upload(f"{method}.bin", SMALL, metadata)
        assert log.operations == [], method
        assert (caught.value.service, caught.value.container, caught.value.blob) == (
            "s3", container, f"{method}.bin")
    s3_store.create_blob(container, "kept.txt", "kept", metadata={"old": "yes"})
    with count_requests(client) as log, pytest.raises(InvalidArgument, match=reason):
        s3_store.set_blob_metadata(container, "kept.txt", metadata)
    assert log.operations == []
    with pytest.raises(InvalidArgument, match=reason):
        s3_store.set_container_metadata(container, metadata)
    assert s3_store.list_blobs(container) == ["kept.txt"]
    assert s3_store.get_blob_metadata(container, "kept.txt") == {"old": "yes"}


def test_checksums_are_the_md5_etag_and_the_full_object_crc32(
    s3_store: Store, container: str, tmp_path: Path
) -> None:
    for method, upload in upload_methods(s3_store, container, tmp_path).items():
        for size, data in (("small", SMALL), ("large", LARGE)):
            upload(f"{method}/{size}.bin", data, {})
    listed = {entry.name: entry.properties.checksums
              for entry in s3_store.list_blobs(container, return_names=False)}
    for method in upload_methods(s3_store, container, tmp_path):
        small, large = f"{method}/small.bin", f"{method}/large.bin"
        assert s3_store.get_blob_properties(container, small).properties.checksums == {
            "md5": hashlib.md5(SMALL).hexdigest(), "crc32": _crc32(SMALL)}, method
        if method == "create_blob":  # one PutObject, whatever the size
            assert s3_store.get_blob_properties(container, large).properties.checksums == {
                "md5": hashlib.md5(LARGE).hexdigest(), "crc32": _crc32(LARGE)}
            continue
        # A multipart object: its ETag is no MD5; its CRC32 is of the whole (FULL_OBJECT).
        assert s3_store.get_blob_properties(container, large).properties.checksums == {
            "crc32": _crc32(LARGE)}, method
        # A listing has the ETag only (ListObjectsV2 carries no checksum values).
        assert listed[small] == {"md5": hashlib.md5(SMALL).hexdigest()}
        assert listed[large] == {}


def test_a_composite_checksum_is_not_stated_as_the_contents(
    s3_store: Store, container: str
) -> None:
    client = s3_store.provider.client  # type: ignore[attr-defined]
    part = bytes(5 * MiB)
    upload = client.create_multipart_upload(Bucket=container, Key="other-tool.bin",
                                            ChecksumAlgorithm="CRC32")
    parts = []
    for number, body in ((1, part), (2, b"tail")):
        sent = client.upload_part(Bucket=container, Key="other-tool.bin", PartNumber=number,
                                  UploadId=upload["UploadId"], Body=body,
                                  ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": number, "ETag": sent["ETag"],
                      "ChecksumCRC32": sent["ChecksumCRC32"]})
    client.complete_multipart_upload(Bucket=container, Key="other-tool.bin",
                                     UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": parts})
    head = client.head_object(Bucket=container, Key="other-tool.bin", ChecksumMode="ENABLED")
    whole = base64.b64encode(zlib.crc32(part + b"tail").to_bytes(4, "big")).decode()
    assert head["ChecksumCRC32"].split("-")[0] != whole  # the CRC32 of the parts' CRC32s
    assert s3_store.get_blob_properties(container, "other-tool.bin").properties.checksums == {}
