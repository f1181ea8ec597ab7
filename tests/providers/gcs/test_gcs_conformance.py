"""The whole conformance suite against store-gcs on a real fake-gcs-server (started by conftest)."""

from __future__ import annotations

import pytest
import yaml

import xtstore
from tests.providers.load_sizes import APPENDS_PER_WORKER
from tests.servers.gcs_server import FakeGCSServer
from xtstore.config import Config
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


class TestGCSConformance(ConformanceSuite):
    # 1 MiB chunks and single uploads up to 1 MiB (the fixture's config), so the large blob
    # goes up resumable in 12 chunks and down streamed.
    options = SuiteOptions(large_blob_size=12 * 2**20, appends_per_worker=APPENDS_PER_WORKER)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, fake_gcs: FakeGCSServer, tmp_path_factory: pytest.TempPathFactory) -> Store:
        # From a file: a pickle (the process clauses) carries its path.
        path = tmp_path_factory.mktemp("gcs-config") / "config.yaml"
        path.write_text(yaml.safe_dump({"external-services": {"gcs": fake_gcs.service_config()}}))
        return xtstore.get_storage("gcs", config=Config.from_files([path]))
