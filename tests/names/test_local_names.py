"""Hypothesis runs of docs/contract.md §1 "Names" on the local providers (store-file,
store-memory, store-fsspec on ``memory://`` and ``file://``): valid names round-trip exactly
and never collide, invalid ones are ``InvalidName`` before any I/O, and nothing outside the
container (other containers, the file system around the store's root) changes.

CI size: ``CI_LOCAL_EXAMPLES`` examples per property and provider; the full size is
``XTSTORE_NAME_EXAMPLES=10000`` (docs/reliability.md, "Names")."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
import pytest

import xtstore
from tests.names.properties import (
    CI_LOCAL_EXAMPLES,
    check_invalid_names,
    check_valid_names,
    decoys_untouched,
    example_count,
    plant_decoys,
    tree_outside,
)
from xtstore.providers.file.store import FileStore
from xtstore.store import Store

EXAMPLES = example_count("XTSTORE_NAME_EXAMPLES", CI_LOCAL_EXAMPLES)


def configured(provider: str, **keys: Any) -> Store:
    config = {"external-services": {"s": {"type": "storage", "provider": provider, **keys}}}
    store: Store = xtstore.get_storage("s", config=config)
    return store


# Each maker gets the test's folder and returns the store and the folders it may write in
# for the container "runs" (empty for stores that keep nothing in files).
MAKERS: dict[str, Callable[[Path], tuple[Store, list[Path]]]] = {
    "store-file": lambda tmp: (
        configured("store-file", path=str(tmp / "root")), _file_areas(tmp / "root")),
    "FileStore bare": lambda tmp: (
        FileStore({"name": "s", "path": str(tmp / "root")}), _file_areas(tmp / "root")),
    "store-memory": lambda tmp: (configured("store-memory"), []),
    "store-fsspec memory://": lambda tmp: (
        configured("store-fsspec", url=f"memory://{tmp.name}-names"), []),
    "store-fsspec file://": lambda tmp: (
        configured("store-fsspec", url=f"file://{tmp / 'root'}"), _fsspec_areas(tmp / "root")),
}


def _entries(provider: str, tmp: Path, folder: str = "runs") -> list[str]:
    """Every file and folder in ``folder`` (the container "runs", or "" for all) of the
    store ``MAKERS[provider]`` made in ``tmp``, relative to ``folder``."""
    if provider == "store-fsspec memory://":
        top = f"/{tmp.name}-names" + (f"/{folder}" if folder else "")
        found = fsspec.filesystem("memory").find(top, withdirs=True)
        return sorted(path[len(top) + 1:] for path in found if path != top)
    top = str(tmp / "root" / folder)
    return sorted(os.path.relpath(os.path.join(folder, name), top)
                  for folder, dirs, files in os.walk(top) for name in dirs + files)


def _file_areas(root: Path) -> list[Path]:
    internal = root / ".xtstore"
    return [root / "runs", internal / "tmp",
            *(internal / area / "runs" for area in ("meta", "locks", "snapshots"))]


def _fsspec_areas(root: Path) -> list[Path]:
    return [root / "runs", root / ".xtstore"]


@pytest.fixture(params=sorted(MAKERS))
def made(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Store, list[Path], Path, str]:
    store, areas = MAKERS[request.param](tmp_path)
    plant_decoys(store, tmp_path)
    store.create_container("runs")
    store.create_blob("runs", "source", "a blob to copy from")
    return store, areas, tmp_path, request.param


def test_valid_names_round_trip_exactly_and_never_collide(
    made: tuple[Store, list[Path], Path, str],
) -> None:
    store, areas, tmp, _ = made
    before = tree_outside(tmp, *areas)
    written = check_valid_names(store, "runs", EXAMPLES)
    assert written >= EXAMPLES
    assert tree_outside(tmp, *areas) == before
    decoys_untouched(store)
    assert store.list_blobs("runs") == ["source"]
    assert store.list_containers() == ["other", "runs"]


def test_invalid_names_are_invalid_name_before_any_io(
    made: tuple[Store, list[Path], Path, str],
) -> None:
    store, _, tmp, _ = made
    work = tmp / "work"
    work.mkdir()
    before = tree_outside(tmp, work)
    checked = check_invalid_names(store, "runs", work, EXAMPLES)
    assert checked >= EXAMPLES * 40
    assert tree_outside(tmp, work) == before
    decoys_untouched(store)
    assert store.list_blobs("runs") == ["source"]


@pytest.mark.parametrize("provider", sorted(MAKERS))
def test_glob_characters_in_a_name_touch_only_that_blob(provider: str, tmp_path: Path) -> None:
    store, _ = MAKERS[provider](tmp_path)
    store.create_container("runs")
    names = ["e/*", "e/*.", "e/* ", "e/?", "e/a", "e/[a]"]
    for name in names:
        store.create_blob("runs", name, name)
        store.set_blob_metadata("runs", name, {"name": name})
    for gone in ("e/*", "e/?", "e/[a]"):
        store.delete_blob("runs", gone)
        names.remove(gone)
        assert store.list_blobs("runs") == sorted(names)
        assert [store.get_blob_text("runs", name) for name in names] == names
        assert [store.get_blob_metadata("runs", name) for name in names] == [
            {"name": name} for name in names]


@pytest.mark.parametrize("provider", [name for name in sorted(MAKERS) if name != "store-memory"])
def test_deleted_names_leave_no_folders_behind(provider: str, tmp_path: Path) -> None:
    """Each example of the valid-name property writes names in folders of their own and
    deletes them; the folders must go with them, so that nothing piles up over 10,000
    examples (store-fsspec left them, and memory:// reads through every folder it holds in
    most calls: the full-size run got slower with each example and never finished). Nor
    may the store's own folders for the names' locks, metadata and snapshots pile up."""
    store, _ = MAKERS[provider](tmp_path)
    store.create_container("runs")
    store.create_blob("runs", "kept/a", "stays")
    whole_store = []
    for number in range(3):
        names = [f"e{number}/x", f"e{number}/deep/er/y", f"kept/e{number}/z"]
        for name in names:
            store.create_blob("runs", name, name, fail_if_exists=True)
            store.append_blob("runs", name, "+")
            store.set_blob_metadata("runs", name, {"name": name})
            store.snapshot_blob("runs", name)
        snapshot = store.snapshot_blob("runs", names[0]).snapshot
        store.delete_blob("runs", names[0], snapshot=snapshot)
        for name in names:
            store.delete_blob("runs", name)
        assert _entries(provider, tmp_path) == ["kept", "kept/a"]
        whole_store.append(_entries(provider, tmp_path, ""))
    assert whole_store[2] == whole_store[1] == whole_store[0]
    assert store.list_blobs("runs") == ["kept/a"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("provider", ["store-file", "store-fsspec file://",
                                      "store-fsspec memory://"])
def test_a_delete_removing_its_folders_never_fails_a_writer_beside_it(
    provider: str, tmp_path: Path
) -> None:
    """Two threads write and delete blobs, one in ``d/`` and one in ``d/b/``: each delete
    removes ``d`` (and the store's own ``d`` folders for locks, metadata and snapshots) when
    it is empty, also between the other's making of it and its move into it, and every
    write still lands whole. (store-file's other write kinds, and snapshots beside deletes
    of snapshots: tests/providers/file/test_concurrent_deletes.py.)"""
    store, _ = MAKERS[provider](tmp_path)
    store.create_container("runs")
    barrier = threading.Barrier(2)
    failures: list[str] = []

    def write_and_delete(folder: str) -> None:
        barrier.wait()
        for number in range(150):
            name = f"{folder}{number % 3}"
            try:
                store.create_blob("runs", name, f"{folder}{number}", fail_if_exists=True)
                store.set_blob_metadata("runs", name, {"n": str(number)})
                snapshot = store.snapshot_blob("runs", name).snapshot
                if (store.get_blob_text("runs", name) != f"{folder}{number}"
                        or store.get_blob_metadata("runs", name) != {"n": str(number)}
                        or [s.snapshot for s in store.list_snapshots("runs", name)]
                        != [snapshot]):
                    failures.append(f"{name} #{number} read back wrong")
                store.delete_blob("runs", name)
            except Exception as error:
                failures.append(f"{name} #{number}: {error!r}")

    threads = [threading.Thread(target=write_and_delete, args=(f,)) for f in ("d/", "d/b/")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _entries(provider, tmp_path) == []
    assert [entry for entry in _entries(provider, tmp_path, ".xtstore")
            if "/runs/" in entry] == []


@pytest.mark.parametrize("provider", ["store-fsspec file://", "store-fsspec memory://"])
def test_an_empty_folder_made_by_another_tool_does_not_keep_the_name(
    provider: str, tmp_path: Path
) -> None:
    """Deletes remove the folders they empty; one made some other way is removed by the
    write of its name (store-fsspec's install step), as one left by a delete used to be."""
    store, _ = MAKERS[provider](tmp_path)
    store.create_container("runs")
    if provider == "store-fsspec memory://":
        fsspec.filesystem("memory").makedirs(f"/{tmp_path.name}-names/runs/f/g")
    else:
        (tmp_path / "root" / "runs" / "f" / "g").mkdir(parents=True)
    store.create_blob("runs", "f/g", "now a blob")
    assert store.get_blob_text("runs", "f/g") == "now a blob"
    assert _entries(provider, tmp_path) == ["f", "f/g"]
