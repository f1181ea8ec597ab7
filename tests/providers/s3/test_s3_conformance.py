"""The whole conformance suite against store-s3 on a real moto_server (started by conftest)."""

from __future__ import annotations

import pytest
import yaml

import xtstore
from tests.providers.load_sizes import APPENDS_PER_WORKER
from tests.servers.s3_server import MotoServer
from xtstore.config import Config
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


class TestS3Conformance(ConformanceSuite):
    # Small objects with the multipart threshold at S3's 5 MiB minimum, so the multipart
    # upload, ranged download and compose paths all run without moto's slow big transfers.
    options = SuiteOptions(large_blob_size=12 * 2**20, appends_per_worker=APPENDS_PER_WORKER)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Store:
        # From a file: a pickle (the process clauses) carries its path, never the inline keys.
        path = tmp_path_factory.mktemp("s3-config") / "config.yaml"
        path.write_text(yaml.safe_dump({"external-services": {"s3": moto_server.service_config()}}))
        return xtstore.get_storage("s3", config=Config.from_files([path]))
