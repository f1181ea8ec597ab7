"""Built-in provider classes used bare, as XT uses them (``FileStore(service_dict)`` and calls
on it), keep the whole contract; ``get_storage()`` on such a class builds one layer stack."""

from __future__ import annotations

import os
import pickle
import uuid
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers.bare_contract import check_bare_store, check_builds_one_stack
from xtstore.errors import InvalidName, Unsupported
from xtstore.providers.file.store import FileProvider, FileStore
from xtstore.providers.fsspec_store.store import FsspecProvider, FsspecStore
from xtstore.providers.memory.store import MemoryProvider, MemoryStore
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_bare_store_file_keeps_the_contract(tmp_path: Path) -> None:
    check_bare_store(FileStore({"name": "disk", "path": str(tmp_path / "store")}), "disk")


def test_bare_store_memory_keeps_the_contract() -> None:
    check_bare_store(MemoryStore({"name": "mem"}), "mem")


def test_bare_store_fsspec_keeps_the_contract() -> None:
    url = f"memory://bare-{uuid.uuid4().hex[:8]}"
    check_bare_store(FsspecStore({"name": "fs", "url": url}), "fs")


@pytest.mark.parametrize(
    ("cls", "settings", "implementation"),
    [
        (FileStore, {"name": "disk", "path": "{tmp}"}, FileProvider),
        (MemoryStore, {"name": "mem"}, MemoryProvider),
        (FsspecStore, {"name": "fs", "url": "memory://one-stack"}, FsspecProvider),
    ],
)
def test_bare_class_is_one_store_around_its_implementation(
    tmp_path: Path, cls: Any, settings: dict[str, Any], implementation: type
) -> None:
    resolved = {key: str(value).format(tmp=tmp_path) for key, value in settings.items()}
    check_builds_one_stack(cls, resolved, implementation)


def test_bare_store_file_writes_nothing_for_an_invalid_name(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FileStore({"name": "disk", "path": str(root)})
    store.create_container("runs")
    before = files_under(tmp_path)
    for call in (
        lambda: store.create_container("Bad_Name"),
        lambda: store.create_blob("runs", "../outside.txt", "x"),
        lambda: store.append_blob("runs", "../../outside.txt", "x"),
        lambda: store.create_blob_from_path("runs", "a/../../x", __file__),
    ):
        with pytest.raises(InvalidName):
            call()
    assert files_under(tmp_path) == before


def test_bare_class_without_a_name_reports_the_providers_default(tmp_path: Path) -> None:
    assert MemoryStore().get_service_name() == "memory"
    assert FileStore({"path": str(tmp_path)}).service_name == "filestorage"


def test_get_storage_on_a_bare_class_builds_one_stack_with_the_configs_retry(
    tmp_path: Path,
) -> None:
    config = {"external-services": {"disk": {
        "type": "storage", "provider": "store-file", "path": str(tmp_path),
        "retry": {"attempts": 3},
    }}}
    store = xtstore.get_storage("disk", config=config)
    assert type(store) is FileStore
    assert type(store.provider) is FileProvider
    assert store.service_name == "disk"
    assert store.get_retry() == 2
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "hello")
    again = pickle.loads(pickle.dumps(store))
    assert type(again) is FileStore
    assert again.get_blob_text("runs", "a.txt") == "hello"
    assert again.get_retry() == 2


def test_a_bare_class_built_by_hand_refuses_pickling_clearly(tmp_path: Path) -> None:
    store = FileStore({"name": "disk", "path": str(tmp_path)})
    with pytest.raises(Unsupported, match="built by hand"):
        pickle.dumps(store)


def test_bare_store_file_create_loop_runs_one_stack(tmp_path: Path) -> None:
    # The hot path must stay the plain one: no Store inside the Store.
    store = FileStore({"name": "disk", "path": str(tmp_path)})
    assert not isinstance(store.provider, Store)
    store.create_container("runs")
    for number in range(50):
        store.create_blob("runs", f"d/b{number}.bin", os.urandom(16))
    assert len(store.list_blobs("runs", "d")) == 50


class TestBareFileStoreConformance(ConformanceSuite):
    """The whole suite on ``FileStore(service_dict)`` as XT builds it. Built by hand it has no
    config to rebuild from in another process, so the concurrency clauses use threads and the
    hand-over clause checks the clear refusal instead."""

    options = SuiteOptions(processes=False, large_blob_size=32 * 1024 * 1024)

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory: pytest.TempPathFactory) -> Store:
        return FileStore({"name": "bare", "path": str(tmp_path_factory.mktemp("bare"))})

    def test_store_moves_to_a_worker_process_and_works_there(
        self, store: Store, container: str
    ) -> None:
        with pytest.raises(Unsupported, match="built by hand"):
            pickle.dumps(store)
