"""store-file writes through an unnamed file in the blob's folder: errors are reported as
with a named temporary file, and a failed write leaves nothing anywhere."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.providers.killing import kill_while_writing
from xtstore.errors import BlobAlreadyExists, InvalidName
from xtstore.providers.file.store import FileProvider
from xtstore.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(FileProvider({"name": "disk", "path": str(tmp_path / "store")}), "disk")
    opened.create_container("runs")
    return opened


@pytest.mark.parametrize("fail_if_exists", [False, True])
@pytest.mark.parametrize("path", ["a" * 300 + "/b", "d/" + "a" * 300])
def test_a_segment_too_long_is_an_invalid_name(store: Store, path: str,
                                                fail_if_exists: bool) -> None:
    with pytest.raises(InvalidName):
        store.create_blob("runs", path, "x", fail_if_exists=fail_if_exists)


def test_create_only_write_loses_to_an_existing_blob(store: Store) -> None:
    store.create_blob("runs", "d/a", "first")
    with pytest.raises(BlobAlreadyExists):
        store.create_blob("runs", "d/a", "second", fail_if_exists=True)
    assert store.get_blob_text("runs", "d/a") == "first"


class Broken(io.RawIOBase):
    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise OSError("source went away")
        return b"x" * 1000


def test_a_failed_write_leaves_nothing(store: Store, tmp_path: Path) -> None:
    store.create_blob("runs", "d/a", "old")
    with pytest.raises(OSError, match="source went away"):
        store.create_blob_from_stream("runs", "d/a", Broken())  # type: ignore[arg-type]
    assert store.get_blob_text("runs", "d/a") == "old"
    root = tmp_path / "store"
    assert sorted(os.listdir(root / "runs" / "d")) == ["a"]
    tmp_area = root / ".xtstore" / "tmp"
    assert not tmp_area.exists() or os.listdir(tmp_area) == []


_KILLED_WRITER = """
import sys, time
from xtstore.providers.file.store import FileProvider

class Slow:
    def __init__(self):
        self.sent = 0
    def read(self, size=-1):
        if self.sent == 8 * 1024 * 1024:
            print("writing", flush=True)
            time.sleep(60)
        self.sent += 1024 * 1024
        return b"x" * 1024 * 1024

store = FileProvider({"name": "disk", "path": sys.argv[1]})
store.create_blob_from_stream("runs", sys.argv[2], Slow(), length=64 * 1024 * 1024)
"""


@pytest.mark.parametrize("existing", [False, True])
def test_a_large_write_killed_midway_leaves_nothing(store: Store, tmp_path: Path,
                                                     existing: bool) -> None:
    # SIGKILL runs no clean-up: only an unnamed file guarantees nothing is left behind.
    root = tmp_path / "store"
    if existing:
        store.create_blob("runs", "big.bin", "old")
    kill_while_writing(_KILLED_WRITER, str(root), "big.bin")
    if existing:
        assert store.get_blob_text("runs", "big.bin") == "old"
    else:
        assert not store.does_blob_exist("runs", "big.bin")
    assert sorted(os.listdir(root / "runs")) == (["big.bin"] if existing else [])
    tmp_area = root / ".xtstore" / "tmp"
    assert not tmp_area.exists() or os.listdir(tmp_area) == []


_KILLED_REWRITE = """
import sys, time
from xtstore.providers.file import writes as file
from xtstore.providers.file.store import FileProvider

def stalled_copy(source, dest, total, progress):
    file.write_all(dest, b"partial copy")
    print("writing", flush=True)
    time.sleep(60)

file.copy_whole = stalled_copy
store = FileProvider({"name": "disk", "path": sys.argv[1]})
store.append_blob("runs", "log.txt", "more", append_with_rewrite=True)
"""


def test_an_append_by_rewrite_killed_midway_leaves_nothing(store: Store,
                                                           tmp_path: Path) -> None:
    root = tmp_path / "store"
    store.create_blob("runs", "log.txt", "first line\n")
    kill_while_writing(_KILLED_REWRITE, str(root))
    assert store.get_blob_text("runs", "log.txt") == "first line\n"
    tmp_area = root / ".xtstore" / "tmp"
    assert not tmp_area.exists() or os.listdir(tmp_area) == []
