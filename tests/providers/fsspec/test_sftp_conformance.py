"""The whole conformance suite against store-fsspec with an ``sftp://`` URL, on a real OpenSSH
server on 127.0.0.1 (the session fixture ``sshd``, tests/servers/sshd.py)."""

from __future__ import annotations

import pytest
import yaml

import xtstore
from tests.providers.load_sizes import APPENDS_PER_WORKER
from tests.servers.sshd import SshServer
from xtstore.config import Config
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


class TestSftpConformance(ConformanceSuite):
    # 32 MiB streamed through sshd on one core: big enough to show bounded memory.
    options = SuiteOptions(large_blob_size=32 * 2**20, appends_per_worker=APPENDS_PER_WORKER)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, sshd: SshServer, tmp_path_factory: pytest.TempPathFactory) -> Store:
        # The store's base is a folder on the server (the same machine: a temporary folder).
        base = tmp_path_factory.mktemp("sftp-store")
        # From a file: a pickle (the process clauses) carries its path, so the worker
        # processes open their own connections.
        path = tmp_path_factory.mktemp("sftp-config") / "config.yaml"
        path.write_text(yaml.safe_dump(
            {"external-services": {"sftp": sshd.service_config(str(base))}}))
        return xtstore.get_storage("sftp", config=Config.from_files([path]))
