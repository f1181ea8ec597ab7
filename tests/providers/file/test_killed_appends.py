"""store-file: an append in place killed part way through its ``write()``.

Linux checks for a fatal signal between the pages a ``write()`` copies, so a SIGKILL can
leave part of an append's bytes in the file. The child here appends through the provider
with its ``write()`` split in two, and kills itself with SIGKILL between the halves: the
file then really holds part of the append, as after an unlucky kill. Whoever comes next, the
next open of the store or the next holder of the blob's lock, must find the blob as it was
before the append.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from xtstore.providers.file import writes
from xtstore.providers.file.store import FileProvider

BEFORE = b"0123456789" * 1000
APPENDED = b"appended!" * 2000


def _store(root: Path) -> FileProvider:
    return FileProvider({"name": "disk", "path": str(root)})


def _killed_half_way(root: Path) -> None:
    """Append ``APPENDED`` to ``log`` in a child that is killed after writing half of it."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            def half_then_killed(fd: int, data: bytes | memoryview) -> None:
                os.write(fd, bytes(data[: len(data) // 2]))
                os.kill(os.getpid(), signal.SIGKILL)

            writes.write_all = half_then_killed  # type: ignore[assignment]
            _store(root).append_blob("runs", "log", APPENDED)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    blob_file = root / "runs" / "log"
    assert blob_file.read_bytes() == BEFORE + APPENDED[: len(APPENDED) // 2], (
        "the child's write did not stop half way: the test shows nothing")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    store = _store(tmp_path)
    store.create_container("runs")
    store.create_blob("runs", "log", BEFORE)
    store.set_blob_metadata("runs", "log", {"kept": "yes"})
    return tmp_path


def test_the_next_open_of_the_store_undoes_a_killed_append(root: Path) -> None:
    _killed_half_way(root)
    store = _store(root)
    assert store.get_blob_bytes("runs", "log") == BEFORE
    assert store.get_blob_metadata("runs", "log") == {"kept": "yes"}
    locks = root / ".xtstore" / "locks" / "runs"
    assert not locks.exists() or os.listdir(locks) == []
    store.append_blob("runs", "log", b"next")
    assert store.get_blob_bytes("runs", "log") == BEFORE + b"next"


@pytest.mark.parametrize(("next_write", "added"), [
    (lambda store: store.append_blob("runs", "log", b"next"), b"next"),
    (lambda store: store.append_blob("runs", "log", b"next", append_with_rewrite=True),
     b"next"),
    (lambda store: store.set_blob_metadata("runs", "log", {"kept": "yes"}), b""),
], ids=["append", "append-by-rewrite", "metadata"])
def test_the_next_holder_of_the_lock_undoes_a_killed_append(
    root: Path, next_write: Callable[[FileProvider], None], added: bytes
) -> None:
    store = _store(root)  # opened before the kill, as a long-running process is
    _killed_half_way(root)
    next_write(store)
    assert store.get_blob_bytes("runs", "log") == BEFORE + added


def test_an_append_replaced_since_is_left_alone(root: Path) -> None:
    store = _store(root)
    _killed_half_way(root)
    # Another writer gives the name a new file before anyone takes the lock: the note is
    # about the old file, which must not be cut, nor the new one.
    os.unlink(root / "runs" / "log")
    (root / "runs" / "log").write_bytes(b"x" * 30_000)
    store.set_blob_metadata("runs", "log", {})
    assert store.get_blob_bytes("runs", "log") == b"x" * 30_000


def test_a_write_that_fails_part_way_leaves_nothing(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_disk_full(fd: int, data: bytes | memoryview) -> None:
        os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writes, "write_all", half_then_disk_full)
    store = _store(root)
    with pytest.raises(OSError):
        store.append_blob("runs", "log", APPENDED)
    assert store.get_blob_bytes("runs", "log") == BEFORE


def test_an_append_killed_after_earlier_appends_is_undone(root: Path) -> None:
    """Earlier appends leave their lock file kept, with their notes struck out (an append's
    note is struck out, not removed, when it finishes): a killed append's own note in that
    file is still found and undone by the next holder of the lock (here one whose own kept
    lock file the child's open of the store removed, as one no process held)."""
    store = _store(root)
    store.append_blob("runs", "log", b"+")  # the parent's kept lock file
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            child = _store(root)
            child.append_blob("runs", "log", b"a")  # finishes: its note is struck out

            def half_then_killed(fd: int, data: bytes | memoryview) -> None:
                os.write(fd, bytes(data[: len(data) // 2]))
                os.kill(os.getpid(), signal.SIGKILL)

            writes.write_all = half_then_killed  # type: ignore[assignment]
            child.append_blob("runs", "log", APPENDED)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert (root / "runs" / "log").read_bytes() == (
        BEFORE + b"+a" + APPENDED[: len(APPENDED) // 2]), "the kill did not cut the write"
    store.append_blob("runs", "log", b"next")
    assert store.get_blob_bytes("runs", "log") == BEFORE + b"+a" + b"next"
