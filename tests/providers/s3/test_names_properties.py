"""Hypothesis runs of docs/contract.md §1 "Names" on the moto server
(tests/names/properties.py): valid names round-trip exactly and never collide, invalid ones are
``InvalidName`` before any request, and other buckets stay as they were. CI size
``CI_CLOUD_EXAMPLES``; full size ``XTSTORE_CLOUD_NAME_EXAMPLES=1000`` (docs/reliability.md,
"Names")."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.names.properties import (
    CI_CLOUD_EXAMPLES,
    check_invalid_names,
    check_valid_names,
    example_count,
)
from xtstore.store import Store

EXAMPLES = example_count("XTSTORE_CLOUD_NAME_EXAMPLES", CI_CLOUD_EXAMPLES)


def test_names_on_moto(s3_store: Store, tmp_path: Path) -> None:
    container, other = (f"n-{uuid.uuid4().hex[:12]}" for _ in range(2))
    s3_store.create_container(container)
    s3_store.create_container(other)
    try:
        s3_store.create_blob(other, "secret.txt", "another bucket's object")
        s3_store.create_blob(container, "source", "a blob to copy from")
        written = check_valid_names(s3_store, container, EXAMPLES)
        assert written >= EXAMPLES
        checked = check_invalid_names(s3_store, container, tmp_path, EXAMPLES)
        assert checked >= EXAMPLES * 40
        assert s3_store.list_blobs(container) == ["source"]
        assert s3_store.list_blobs(other) == ["secret.txt"]
        assert s3_store.get_blob_text(other, "secret.txt") == "another bucket's object"
    finally:
        for name in s3_store.list_blobs(container):
            s3_store.delete_blob(container, name)
        s3_store.delete_container(container)
        s3_store.delete_blob(other, "secret.txt")
        s3_store.delete_container(other)
