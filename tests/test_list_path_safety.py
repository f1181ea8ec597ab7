"""A list path cannot reach outside its container: every complete segment of it, a prefix
ending in ``*`` included, follows the blob-name rules before any I/O, on ``Store`` and on the
built-in classes used bare; a partial last segment such as ``..*`` only matches names inside
the container."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import InvalidName
from xtstore.providers.file.store import FileStore
from xtstore.providers.memory.store import MemoryStore

ESCAPING = ["../*", "/../*", "./*", "a/../*", "a/./*", "../runs/*", "..//*"]


def via_get_storage(provider: str, root: Path) -> Any:
    # Only store-file takes a path: an unknown key on a built-in provider is a ConfigError.
    where = {"path": str(root)} if provider == "store-file" else {}
    config = {"external-services": {"s": {"type": "storage", "provider": provider, **where}}}
    return xtstore.get_storage("s", config=config)


MAKERS: dict[str, Callable[[Path], Any]] = {
    "store-file via get_storage": lambda root: via_get_storage("store-file", root),
    "store-memory via get_storage": lambda root: via_get_storage("store-memory", root),
    "FileStore bare": lambda root: FileStore({"name": "s", "path": str(root)}),
    "MemoryStore bare": lambda root: MemoryStore({"name": "s"}),
}


@pytest.fixture(params=sorted(MAKERS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    made = MAKERS[request.param](tmp_path / "root")
    made.create_container("runs")
    made.create_container("other")
    made.create_blob("other", "secret.txt", "another container's blob")
    made.append_blob("runs", "log.txt", "appended, so store-file has a lock file")
    made.create_blob("runs", "a/b.txt", "x")
    made.create_blob("runs", "..dots", "a name that starts with two dots")
    made.create_blob("runs", ".hidden", "a name that starts with one dot")
    return made


@pytest.mark.parametrize("path", ESCAPING)
@pytest.mark.parametrize("recursive", [True, False])
def test_list_paths_that_leave_the_folder_are_invalid(
    store: Any, path: str, recursive: bool
) -> None:
    with pytest.raises(InvalidName) as caught:
        store.list_blobs("runs", path, recursive=recursive)
    assert (caught.value.service, caught.value.container, caught.value.blob) == (
        "s", "runs", path)
    with pytest.raises(InvalidName):
        list(store.iter_blobs("runs", path))


@pytest.mark.parametrize("recursive", [True, False])
def test_a_partial_dot_segment_lists_only_names_inside_the_container(
    store: Any, recursive: bool
) -> None:
    assert store.list_blobs("runs", "..*", recursive=recursive) == ["..dots"]
    assert store.list_blobs("runs", ".*", recursive=recursive) == ["..dots", ".hidden"]
    assert store.list_blobs("runs", "a/..*", recursive=recursive) == []
    everything = store.list_blobs("runs", "*")
    assert everything == ["..dots", ".hidden", "a/b.txt", "log.txt"]
    assert all(not name.startswith(("../", "other", ".xtstore")) for name in everything)
