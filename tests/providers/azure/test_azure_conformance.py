"""The whole conformance suite against Azurite (started by the ``azurite`` fixture)."""

from __future__ import annotations

import pytest

import xtstore
from tests.providers.azure.conftest import SMALL_SIZES
from tests.servers.azurite import Azurite
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


class TestAzureConformance(ConformanceSuite):
    options = SuiteOptions(large_blob_size=12 * 2**20)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, azurite: Azurite) -> Store:
        service = {"type": "storage", "provider": "azure-blob",
                   "connection-string": azurite.connection_string, **SMALL_SIZES}
        return xtstore.get_storage("az", config={"external-services": {"az": service}})
