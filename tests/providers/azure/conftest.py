"""Session fixture: one Azurite server for all Azure tests, started and stopped by the run.

If Azurite cannot be installed or started the tests fail with the reason (never skip).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import xtstore
from tests.providers.azure.azurite import Azurite, AzuriteUnavailable, running_azurite

SMALL_SIZES = {
    # Small enough that CI-sized blobs still take the staged-block and ranged-download paths.
    "max-single-put-size": 256 * 1024,
    "max-block-size": 128 * 1024,
    "max-single-get-size": 256 * 1024,
    "max-chunk-get-size": 128 * 1024,
}


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    try:
        with running_azurite(tmp_path_factory.mktemp("azurite")) as server:
            yield server
    except AzuriteUnavailable as error:
        pytest.fail(f"Azurite is required for the Azure tests: {error}", pytrace=False)


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
