"""The Azurite that test modules share is replaced by a new, empty one once it is old, so no
server lives to its first garbage collection (tests/servers/fixtures.py, AZURITE_MAX_AGE)."""

from __future__ import annotations

import pytest
from azure.storage.blob import BlobServiceClient

from tests.servers.azurite import Azurite
from tests.servers.fixtures import AzuriteForModules


def _make_container(server: Azurite, name: str) -> None:
    BlobServiceClient.from_connection_string(server.connection_string).create_container(name)


def _containers(server: Azurite) -> list[str]:
    service = BlobServiceClient.from_connection_string(server.connection_string)
    return [container.name for container in service.list_containers()]


@pytest.mark.parametrize("max_age", [3600.0, 0.0])
def test_a_young_server_is_kept_and_an_old_one_replaced_by_an_empty_one(
        tmp_path_factory: pytest.TempPathFactory, max_age: float) -> None:
    servers = AzuriteForModules(lambda: tmp_path_factory.mktemp("azurite"), max_age=max_age)
    try:
        first = servers.for_module()
        _make_container(first, "from-the-first-module")
        second = servers.for_module()
        if max_age:
            assert second is first
            assert _containers(second) == ["from-the-first-module"]
        else:
            assert second is not first
            assert _containers(second) == []
    finally:
        servers.close()
