"""store-gcs (issue 2.5): metadata given to an upload is in the object resource the upload
(or its resumable session) sends, never a PATCH after it; ``BlobProperties.checksums`` is
the object's md5Hash and crc32c, in properties and listings; and a damaged upload is never
left installed: every upload request carries a CRC32C that GCS checks (the writer's last
chunk too, ``x-goog-hash``), and since fake-gcs-server checks none, the crc32c of the object
it answers with is compared as well (the damaged object removed, ``IntegrityError``)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google_crc32c
import pytest

import xtstore
from tests.providers.uploads import upload_methods
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from tests.servers.gcs_server import FakeGCSServer
from xtstore.errors import IntegrityError
from xtstore.store import Store

from .helpers import count_requests

MiB = 2**20
TAGS = {"mtime": "1764633600.123456789", "Stage": "train", "run id": "exp 7, é"}
"""GCS metadata is JSON: any text."""
SMALL = b"small content"
LARGE = bytes(range(256)) * (3 * MiB // 256)
"""Above the tests' single-upload-limit and chunk-size (1 MiB): a resumable upload."""


@pytest.fixture
def container(gcs_store: Store) -> Iterator[str]:
    name = "xtcm-" + uuid.uuid4().hex[:12]
    gcs_store.create_container(name)
    yield name
    gcs_store.delete_container(name)


def _crc32c(data: bytes) -> str:
    return f"{google_crc32c.value(data):08x}"


def test_metadata_is_in_the_upload_never_a_patch_after_it(
    gcs_store: Store, container: str, tmp_path: Path
) -> None:
    client = gcs_store.provider.client  # type: ignore[attr-defined]
    assert gcs_store.capabilities().create_metadata
    for method, upload in upload_methods(gcs_store, container, tmp_path).items():
        for size, data in (("small", SMALL), ("large", LARGE)):
            blob = f"{method}/{size}.bin"
            with count_requests(client) as log:
                upload(blob, data, TAGS)
            assert "PATCH" not in log.methods, (blob, log.requests)
            assert gcs_store.get_blob_metadata(container, blob) == TAGS, blob
    assert gcs_store.get_blob_bytes(container, "open_blob_writer/large.bin") == LARGE


def test_checksums_are_the_objects_md5_and_crc32c(
    gcs_store: Store, container: str, tmp_path: Path
) -> None:
    written = {}
    for method, upload in upload_methods(gcs_store, container, tmp_path).items():
        for size, data in (("small", SMALL), ("large", LARGE), ("empty", b"")):
            upload(f"{method}/{size}.bin", data, {})
            written[f"{method}/{size}.bin"] = {"md5": hashlib.md5(data).hexdigest(),
                                               "crc32c": _crc32c(data)}
    for blob, checksums in written.items():
        assert gcs_store.get_blob_properties(container, blob).properties.checksums == \
            checksums, blob
    listed = {entry.name: entry.properties.checksums
              for entry in gcs_store.list_blobs(container, return_names=False)}
    assert listed == written


@pytest.fixture
def through_proxy(fake_gcs: FakeGCSServer, gcs_store: Store, container: str
                  ) -> Iterator[tuple[Store, FaultProxy]]:
    with running_proxy(fake_gcs.endpoint_url, hold_limit=5.0, lifetime=120.0) as proxy:
        entry = fake_gcs.service_config(**{
            "endpoint-url": proxy.endpoint(fake_gcs.endpoint_url),
            "retry": {"attempts": 2, "base-delay": 0.01, "max-delay": 0.05}})
        yield xtstore.get_storage("gcs-damaged",
                                  config={"external-services": {"gcs-damaged": entry}}), proxy


@pytest.mark.parametrize(("method", "size"), [
    ("create_blob", "small"), ("create_blob", "large"), ("create_blob_from_stream", "small"),
    ("create_blob_from_stream", "large"), ("create_blob_from_stream(length)", "small"),
    ("open_blob_writer", "small"),
    ("open_blob_writer", "large")])
def test_a_damaged_upload_is_refused_and_nothing_is_left(
    through_proxy: tuple[Store, FaultProxy], gcs_store: Store, container: str,
    tmp_path: Path, method: str, size: str
) -> None:
    store, proxy = through_proxy
    data = SMALL * 1000 if size == "small" else LARGE
    # One byte of content flipped in every request that sends some: a one-request
    # (multipart) upload, each chunk of a session (not the POST that opens it).
    proxy.inject(Fault.corrupt(after_bytes=len(data) // 2, request=True), method="POST",
                 path="uploadType=multipart", times=None)
    proxy.inject(Fault.corrupt(after_bytes=len(data) // 2, request=True), method="PUT",
                 path="upload_id=", times=None)
    with pytest.raises(IntegrityError):
        upload_methods(store, container, tmp_path)[method]("damaged.bin", data, TAGS)
    assert not gcs_store.does_blob_exist(container, "damaged.bin")


def test_the_writers_last_chunk_carries_the_crc32c_of_the_whole(
    gcs_store: Store, container: str
) -> None:
    sent: list[str | None] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.request.method == "PUT":
            sent.append(response.request.headers.get("x-goog-hash"))
        return response

    hooks = gcs_store.provider.http.hooks["response"]  # type: ignore[attr-defined]
    hooks.append(hook)
    try:
        with gcs_store.open_blob(container, "w.bin", mode="wb") as out:
            out.write(LARGE)
    finally:
        hooks.remove(hook)
    whole = base64.b64encode(google_crc32c.value(LARGE).to_bytes(4, "big")).decode()
    assert sent[-1] == f"crc32c={whole}"  # the last chunk's, the others none
    assert sent[:-1] == [None] * (len(sent) - 1) and len(sent) >= 3
