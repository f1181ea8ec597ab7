"""Opening a service: a provider constructor's errors as config errors, and stores pickled to a
spawned worker process that opens the service again there."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from pathlib import Path

import pytest

import xtstore
from tests.registry.helpers import DIR_STORE, SECRET, write
from xtstore.errors import ConfigError


def test_constructor_errors_are_config_errors(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cwd / "extensions" / "dir_store.py", DIR_STORE)
    monkeypatch.setenv("EXPECTED_TOKEN", "good")
    with pytest.raises(ConfigError) as missing:
        xtstore.get_storage(
            "d",
            {"external-services": {"d": {"provider": "extensions.dir_store.DirStore",
                                         "token": "good"}}},
        )
    assert str(missing.value) == (
        "<dict>: external-services.d.path: provider 'extensions.dir_store.DirStore' needs the"
        " key 'path'"
    )
    with pytest.raises(ConfigError, match="rejected the settings: ValueError: wrong token"):
        xtstore.get_storage(
            "d",
            {"external-services": {"d": {"provider": "extensions.dir_store.DirStore",
                                         "path": str(cwd), "token": "bad"}}},
        )


# ---- moving a store to another process ----


def _use_in_child(payload: bytes, forget_dir: str | None) -> tuple[str, str, str]:
    """Runs in a spawned process: rebuild the store from its pickle, write and read a blob."""
    if forget_dir is not None:
        # Prove the child finds the provider through the origin, not through inherited state.
        os.chdir("/")
        sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != forget_dir]
    store = pickle.loads(payload)
    store.create_blob("runs", "from-child.txt", "written by the worker")
    return store.service_name, type(store.provider).__name__, store.get_blob_text("runs", "a.txt")


def _in_worker(payload: bytes, forget_dir: str | None = None) -> tuple[str, str, str]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: tuple[str, str, str] = pool.apply_async(
            _use_in_child, (payload, forget_dir)
        ).get(timeout=120)
    return result


@pytest.mark.timeout(180)
def test_pickled_store_file_store_works_in_a_spawned_process(
    cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xtstore.providers.file", reason="store-file is not written yet")
    root = tmp_path / "data"
    monkeypatch.setenv("XT_TEST_ROOT", str(root))
    write(
        cwd / "xt_config.yaml",
        "external-services:\n"
        "    files: {type: storage, provider: store-file, path: '${XT_TEST_ROOT}/blobs',"
        " retry: {attempts: 2}}\n"
        "xt-services: {storage: files}\n",
    )
    store = xtstore.get_storage()
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "written by the parent")
    payload = pickle.dumps(store)
    assert str(root).encode() not in payload  # ${ENV} is resolved again in the worker

    assert _in_worker(payload) == ("files", "FileProvider", "written by the parent")
    assert store.get_blob_text("runs", "from-child.txt") == "written by the worker"
    assert pickle.loads(payload).retry_policy.attempts == 2


@pytest.mark.timeout(180)
def test_pickled_store_from_a_working_directory_extension_resolves_secrets_in_the_worker(
    cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cwd / "extensions" / "dir_store.py", DIR_STORE)
    root = tmp_path / "data"
    (root / "runs").mkdir(parents=True)
    (root / "runs" / "a.txt").write_text("written by the parent")
    monkeypatch.setenv("EXPECTED_TOKEN", SECRET)
    monkeypatch.setenv("XTSTORE_SECRET_DIRS_TOKEN", SECRET)
    config = {
        "providers": {"storage": {"store-dir": "extensions.dir_store.DirStore"}},
        "external-services": {
            "dirs": {"type": "storage", "provider": "store-dir", "path": str(root),
                     "token": "$vault"}
        },
    }
    store = xtstore.get_storage("dirs", config)
    payload = pickle.dumps(store)
    assert SECRET.encode() not in payload

    assert _in_worker(payload, forget_dir=str(cwd)) == (
        "dirs", "ForeignProvider", "written by the parent"
    )
    assert (root / "runs" / "from-child.txt").read_text() == "written by the worker"


def test_a_store_memory_store_refuses_to_be_pickled(cwd: Path) -> None:
    store = xtstore.get_storage("m", {"external-services": {"m": {"provider": "store-memory"}}})
    with pytest.raises(xtstore.Unsupported):
        pickle.dumps(store)
