"""The whole conformance suite against Azurite (started by the ``azurite`` fixture)."""

from __future__ import annotations

import pytest
import yaml

import xtstore
from tests.providers.azure.conftest import SMALL_SIZES
from tests.providers.load_sizes import APPENDS_PER_WORKER
from tests.servers.azurite import Azurite
from xtstore.config import Config
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


class TestAzureConformance(ConformanceSuite):
    options = SuiteOptions(large_blob_size=12 * 2**20, appends_per_worker=APPENDS_PER_WORKER)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Store:
        service = {"type": "storage", "provider": "azure-blob",
                   "connection-string": azurite.connection_string, **SMALL_SIZES}
        # From a file: a pickle (the process clauses) carries its path, never the account key.
        path = tmp_path_factory.mktemp("azure-config") / "config.yaml"
        path.write_text(yaml.safe_dump({"external-services": {"az": service}}))
        return xtstore.get_storage("az", config=Config.from_files([path]))
