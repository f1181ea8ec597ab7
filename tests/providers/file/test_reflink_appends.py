"""store-file: an append to a blob that shares its file with a snapshot or a copy (a hard link)
makes a new file holding the blob's content plus the text. Where the file system has
reflinks (btrfs, XFS with reflink=1) that new file shares the old one's blocks (``FICLONE``):
O(1), and the snapshot keeps its bytes; elsewhere the content is copied, once. Run the
reflink cases on such a file system with ``XTSTORE_REFLINK_DIR=<folder there>``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.localfiles.reflinks import reflink_dir, shared_bytes
from xtstore.localfiles import oscalls
from xtstore.providers.file.store import FileProvider

__all__ = ["reflink_dir"]  # the fixture, used by name

SIZE = 4 * 1024 * 1024


def _shared_then_appended(root: Path, share: Callable[[FileProvider], Path]
                          ) -> tuple[bytes, Path, Path]:
    """A blob of SIZE random bytes, shared by ``share`` (which returns the path of the file
    sharing it), then appended to: the content before, the blob's file and the other's."""
    store = FileProvider({"path": str(root / "store")})
    store.create_container("box")
    content = os.urandom(SIZE)
    (root / "model.bin").write_bytes(content)
    store.create_blob_from_path("box", "model.bin", str(root / "model.bin"))
    other = share(store)
    store.append_blob("box", "model.bin", b"tail")
    assert store.get_blob_bytes("box", "model.bin") == content + b"tail"
    blob = Path(store.root) / "box" / "model.bin"
    assert blob.stat().st_ino != other.stat().st_ino
    assert other.read_bytes() == content, "the append changed what shared the blob's file"
    return content, blob, other


def _snapshot(store: FileProvider) -> Path:
    snapshot = store.snapshot_blob("box", "model.bin").snapshot
    return Path(store._layout.snapshot_file("box", "model.bin", snapshot))


def _copy(store: FileProvider) -> Path:
    store.copy_blob("box", "model.bin", "box", "backup.bin")
    return Path(store.root) / "box" / "backup.bin"


SHARES = pytest.mark.parametrize("share", [_snapshot, _copy], ids=["snapshot", "copy"])


@SHARES
@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "without"])
def test_an_append_after_a_share_is_a_reflink(
    reflink_dir: Path, share: Callable[[FileProvider], Path], kernel_copy: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not kernel_copy:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    _, blob, other = _shared_then_appended(reflink_dir, share)
    assert shared_bytes(blob) >= SIZE - 65536
    assert shared_bytes(other) >= SIZE - 65536


@SHARES
def test_an_append_after_a_share_copies_where_there_are_no_reflinks(
    tmp_path: Path, share: Callable[[FileProvider], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oscalls, "clone_file", lambda source, dest: False)
    monkeypatch.delattr(os, "copy_file_range", raising=False)  # which may clone by itself
    _, blob, other = _shared_then_appended(tmp_path, share)
    assert shared_bytes(blob) == 0
    assert shared_bytes(other) == 0
