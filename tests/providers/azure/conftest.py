"""Stores and containers on the test module's Azurite server (the fixture ``azurite`` of
:mod:`tests.servers.fixtures`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import xtstore
from tests.servers.azurite import Azurite

SMALL_SIZES = {
    # Small enough that CI-sized blobs still take the staged-block and ranged-download paths.
    "max-single-put-size": 256 * 1024,
    "max-block-size": 128 * 1024,
    "max-single-get-size": 256 * 1024,
    "max-chunk-get-size": 128 * 1024,
    "max-streamed-get-size": 256 * 1024,
}


@pytest.fixture
def make_store(azurite: Azurite) -> Callable[..., Any]:
    """``make_store(**service_keys)``: a Store from get_storage() for one azure-blob service
    (connection string and small sizes unless overridden)."""

    def make(service: str = "az", **keys: Any) -> Any:
        entry: dict[str, Any] = {"type": "storage", "provider": "azure-blob"}
        if not any(k in keys for k in ("account", "key", "sas-token", "connection-string")):
            entry["connection-string"] = azurite.connection_string
        entry.update(SMALL_SIZES)
        entry.update(keys)
        config = {"external-services": {service: entry}}
        return xtstore.get_storage(service, config=config)

    return make


@pytest.fixture
def container(make_store: Callable[..., Any]) -> Iterator[str]:
    """A fresh container, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    store = make_store()
    store.create_container(name)
    yield name
    if store.does_container_exist(name):
        store.delete_container(name)

