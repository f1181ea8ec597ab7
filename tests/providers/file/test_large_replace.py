"""Large downloads over an existing local file are swapped in (renameat2 exchange) and the
old file unlinked: the result must be exactly what a plain rename gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import xtstore
from xtstore.localfiles import oscalls
from xtstore.providers.file.writes import LARGE
from xtstore.store import Store


@pytest.fixture(params=["unnamed file", "named file"])
def store(request: pytest.FixtureRequest, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Store:
    # Both ways a download is built: see tests/localfiles/test_atomic.py.
    if request.param == "named file":
        monkeypatch.setattr(oscalls, "_refusing_devices", {os.stat(tmp_path).st_dev})
    config = {"external-services": {"disk": {"type": "storage", "provider": "store-file",
                                             "path": str(tmp_path / "store")}}}
    opened: Store = xtstore.get_storage("disk", config=config)
    opened.create_container("runs")
    return opened


def big_blob(store: Store, tmp_path: Path) -> bytes:
    data = os.urandom(1024) * (LARGE // 1024 + 3)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    store.create_blob_from_path("runs", "model.bin", str(source))
    return data


def test_large_download_replaces_an_existing_file(store: Store, tmp_path: Path) -> None:
    data = big_blob(store, tmp_path)
    dest = tmp_path / "out" / "model.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"old content")
    os.link(dest, tmp_path / "old-link.bin")  # another name for the old file
    store.get_blob_to_path("runs", "model.bin", str(dest))
    assert dest.read_bytes() == data
    assert (tmp_path / "old-link.bin").read_bytes() == b"old content"  # a new inode
    assert sorted(os.listdir(dest.parent)) == ["model.bin"]  # no temporary file left


def test_large_download_replaces_a_symlink_not_its_target(store: Store, tmp_path: Path) -> None:
    data = big_blob(store, tmp_path)
    target = tmp_path / "target.bin"
    target.write_bytes(b"target")
    dest = tmp_path / "link.bin"
    dest.symlink_to(target)
    store.get_blob_to_path("runs", "model.bin", str(dest))
    assert not dest.is_symlink()
    assert dest.read_bytes() == data
    assert target.read_bytes() == b"target"
