"""store-file: the conformance suite, plus what the file layout itself guarantees."""

from __future__ import annotations

from pathlib import Path

import pytest

import xtstore
from xtstore.store import Store
from xtstore.testing import ConformanceSuite


def file_store(root: Path) -> Store:
    config = {
        "external-services": {
            "files": {"type": "storage", "provider": "store-file", "path": str(root)}
        }
    }
    store: Store = xtstore.get_storage("files", config=config)
    return store


class TestFileConformance(ConformanceSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory: pytest.TempPathFactory) -> Store:
        return file_store(tmp_path_factory.mktemp("store"))
