"""store-s3's ``get_blob_to_path`` returns the properties of the version it wrote, read from
its first GetObject, on the one-GET path and on the ranged path (every range pinned to that
GetObject's ETag): equal to ``get_blob_properties``' (docs/contract.md §1, "get_blob_to_path
returns"), with no request of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.s3_server import MiB
from xtstore.store import Store

METADATA = {"mtime": "1600000000.123456789", "stage": "train"}


@pytest.fixture
def bucket(s3_store: Store) -> Iterator[str]:
    name = "xtdlp-" + uuid.uuid4().hex[:12]
    s3_store.create_container(name)
    yield name
    for blob in s3_store.list_blobs(name):
        s3_store.delete_blob(name, str(blob))
    s3_store.delete_container(name)


@pytest.mark.parametrize("ranged", [False, True], ids=["one-get", "ranged"])
def test_the_download_returns_the_properties_of_its_first_get(
    s3_store: Store, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    ranged: bool
) -> None:
    data = os.urandom(6 * MiB if ranged else 4096)
    source = tmp_path / "model.csv"
    source.write_bytes(data)
    s3_store.create_blob_from_path(bucket, "model.csv", str(source), metadata=METADATA)
    if ranged:  # 5 MiB ranges after the first GetObject: two
        monkeypatch.setattr(s3_store.provider._transfers,  # type: ignore[attr-defined]
                            "single_get_limit", 1 * MiB)
    got = s3_store.get_blob_to_path(bucket, "model.csv", str(tmp_path / "down.csv"))
    assert (tmp_path / "down.csv").read_bytes() == data
    head = s3_store.get_blob_properties(bucket, "model.csv").properties
    assert got is not None and head is not None
    assert got == head
    assert got.metadata == METADATA and got.content_type == "text/csv"
    assert got.checksums and got.checksums == head.checksums
