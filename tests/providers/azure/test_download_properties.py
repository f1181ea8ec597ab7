"""azure-blob's ``get_blob_to_path`` returns the properties of the version it wrote, read from
its first Get Blob's headers, on the one-GET path and on the ranged path (every range pinned
to that Get Blob's etag): equal to ``get_blob_properties``' (docs/contract.md §1,
"get_blob_to_path returns")."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

METADATA = {"mtime": "1600000000.123456789", "Stage": "train"}


@pytest.mark.parametrize("size", [4096, 1024 * 1024], ids=["one-get", "ranged"])
def test_the_download_returns_the_properties_of_its_first_get(
    make_store: Callable[..., Any], container: str, tmp_path: Path, size: int
) -> None:
    store = make_store()  # streams 256 KiB in the first Get Blob, then 128 KiB ranges
    data = os.urandom(size)
    source = tmp_path / "model.csv"
    source.write_bytes(data)
    store.create_blob_from_path(container, "model.csv", str(source), metadata=METADATA)
    got = store.get_blob_to_path(container, "model.csv", str(tmp_path / "down.csv"))
    assert (tmp_path / "down.csv").read_bytes() == data
    head = store.get_blob_properties(container, "model.csv").properties
    assert got is not None and head is not None
    assert got == head
    assert got.metadata == METADATA and got.content_type == "text/csv"
    assert got.checksums == head.checksums and got.checksums
