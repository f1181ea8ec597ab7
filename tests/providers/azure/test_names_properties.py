"""Hypothesis runs of docs/contract.md §1 "Names" on Azurite (tests/names/properties.py):
valid names round-trip exactly and never collide, invalid ones are ``InvalidName`` before any
request, and other containers stay as they were. CI size ``CI_CLOUD_EXAMPLES``; full size
``XTSTORE_CLOUD_NAME_EXAMPLES=1000`` (docs/reliability.md, "Names")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.names.properties import (
    CI_CLOUD_EXAMPLES,
    check_invalid_names,
    check_valid_names,
    example_count,
)
from xtstore.errors import InvalidName

EXAMPLES = example_count("XTSTORE_CLOUD_NAME_EXAMPLES", CI_CLOUD_EXAMPLES)


def test_names_on_azurite(make_store: Callable[..., Any], tmp_path: Path) -> None:
    store = make_store()
    container, other = (f"n-{uuid.uuid4().hex[:12]}" for _ in range(2))
    store.create_container(container)
    store.create_container(other)
    try:
        store.create_blob(other, "secret.txt", "another container's blob")
        store.create_blob(container, "source", "a blob to copy from")
        written = check_valid_names(store, container, EXAMPLES)
        assert written >= EXAMPLES
        checked = check_invalid_names(store, container, tmp_path, EXAMPLES)
        assert checked >= EXAMPLES * 40
        assert store.list_blobs(container) == ["source"]
        assert store.list_blobs(other) == ["secret.txt"]
        assert store.get_blob_text(other, "secret.txt") == "another container's blob"
    finally:
        store.delete_container(container)
        store.delete_container(other)


def test_a_control_character_name_is_refused_so_listings_keep_working(
    make_store: Callable[..., Any],
) -> None:
    # Azurite answered every listing of a container holding such a name with HTTP 500.
    store = make_store()
    container = f"n-{uuid.uuid4().hex[:12]}"
    store.create_container(container)
    try:
        for name in ("tab\there", "bell\x07", "unit\x1fsep", "del\x7f", "x\ufffe"):
            try:
                store.create_blob(container, name, "x")
            except InvalidName:
                pass
            else:
                raise AssertionError(f"{name!r} was accepted")
            assert store.list_blobs(container) == []
    finally:
        store.delete_container(container)
