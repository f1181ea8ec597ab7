"""azure-blob's public class used bare, as XT builds it from the service dict (Azurite)."""

from __future__ import annotations

from tests.providers.azure.conftest import SMALL_SIZES
from tests.providers.bare_contract import check_bare_store, check_builds_one_stack
from tests.servers.azurite import Azurite
from xtstore.providers.azure.store import AzureBlobProvider, AzureBlobStore


def test_bare_azure_blob_store_keeps_the_contract(azurite: Azurite) -> None:
    settings = {"name": "az-bare", "connection-string": azurite.connection_string,
                **SMALL_SIZES}
    check_bare_store(AzureBlobStore(settings), "az-bare")


def test_bare_azure_blob_store_is_one_store_around_its_provider(azurite: Azurite) -> None:
    settings = {"name": "az-bare", "connection-string": azurite.connection_string}
    check_builds_one_stack(AzureBlobStore, settings, AzureBlobProvider)
