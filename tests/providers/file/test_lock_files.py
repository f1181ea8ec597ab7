"""store-file's per-blob lock files (``<root>/.xtstore/locks``) do not pile up: the holder
removes its file when it releases the lock (an append keeps it for the blob's next append, at
most SPARE_LOCKS per store, until the store is dropped or the process ends), and opening the
store removes those no process holds (a process killed holding one leaves it behind). A lock
another process holds is never broken: its file stays, and a writer of this process still
waits for it."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import xtstore
from xtstore.providers.file.layout import SPARE_LOCKS, Layout, key_of
from xtstore.providers.file.records import identity
from xtstore.providers.file.store import FileProvider
from xtstore.store import Store


def _store(root: Path) -> Store:
    store: Store = xtstore.get_storage("files", config={"external-services": {
        "files": {"provider": "store-file", "path": str(root)}}})
    return store


def _lock_files(root: Path) -> list[str]:
    locks = root / ".xtstore" / "locks"
    return sorted(str(path.relative_to(locks)) for path in locks.rglob("*") if path.is_file())


def test_no_lock_file_is_left_after_the_calls_that_take_locks(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_container("box")
    for number in range(5):
        store.append_blob("box", f"log-{number}", "line\n")
        store.append_blob("box", f"log-{number}", "line\n", append_with_rewrite=True)
    store.set_blob_metadata("box", "log-0", {"k": "v"})
    store.copy_blob("box", "log-1", "box", "copy")
    store.snapshot_blob("box", "log-2")
    store.delete_blob("box", "log-3")
    assert store.get_blob_text("box", "log-4") == "line\nline\n"
    # Only the lock of the blob appended to last and not locked since is kept.
    assert _lock_files(tmp_path) == [f"box/{key_of('log-4')}"]
    del store
    gc.collect()
    assert _lock_files(tmp_path) == []


def test_appends_keep_one_lock_file_and_a_bounded_number_of_them(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_container("box")
    store.append_blob("box", "log", "1")
    kept = tmp_path / ".xtstore" / "locks" / "box" / key_of("log")
    inode = kept.stat().st_ino
    for number in range(2, 6):
        store.append_blob("box", "log", str(number))
    assert kept.stat().st_ino == inode, "each append made a new lock file"
    assert store.get_blob_text("box", "log") == "12345"
    for number in range(3 * SPARE_LOCKS):
        store.append_blob("box", f"other-{number}", "x")
    assert len(_lock_files(tmp_path)) == SPARE_LOCKS


def _append_and_exit(root: str) -> None:
    store = _store(Path(root))
    for _ in range(3):
        store.append_blob("box", "log", "line\n")


def test_a_process_that_ends_leaves_no_lock_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_container("box")
    child = multiprocessing.get_context("spawn").Process(target=_append_and_exit,
                                                         args=(str(tmp_path),))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert store.get_blob_text("box", "log") == "line\n" * 3
    assert _lock_files(tmp_path) == []


def test_a_forked_child_does_not_share_the_parent_s_kept_lock(tmp_path: Path) -> None:
    """The parent's kept lock file is open in a forked child as the same open file, whose
    flock the parent's holds would not keep the child out of: the child must open its own."""
    store = _store(tmp_path)
    store.create_container("box")
    store.append_blob("box", "log", "parent\n")  # keeps the lock file
    context = multiprocessing.get_context("fork")
    go, done = context.Event(), context.Event()
    provider = store.provider
    assert isinstance(provider, FileProvider)
    child = context.Process(target=_append_and_exit_through, args=(provider, go, done))
    child.start()
    try:
        with provider._layout.blob_lock("box", "log"):  # the kept file, locked
            go.set()
            assert not done.wait(0.5), "the child appended while the parent held the lock"
        assert done.wait(60)
    finally:
        go.set()
        child.join(60)
    assert child.exitcode == 0
    assert store.get_blob_text("box", "log") == "parent\nchild\n"


def _append_and_exit_through(provider: FileProvider, go: Any, done: Any) -> None:
    go.wait(60)
    provider.append_blob("box", "log", "child\n")  # the store the fork copied
    done.set()


def _hold_lock(root: str, ready: Any, release: Any) -> None:
    with Layout(root, partial(identity, give=False)).blob_lock("box", "log"):
        ready.set()
        release.wait(60)


def _die_holding_lock(root: str, blob: str) -> None:
    with Layout(root, partial(identity, give=False)).blob_lock("box", blob):
        os.kill(os.getpid(), signal.SIGKILL)


def test_opening_the_store_removes_lock_files_no_process_holds(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_container("box")
    store.create_blob("box", "a", "1")
    context = multiprocessing.get_context("spawn")
    for blob in ("a", "gone"):
        child = context.Process(target=_die_holding_lock, args=(str(tmp_path), blob))
        child.start()
        child.join(60)
        assert child.exitcode == -signal.SIGKILL
    # And one as an earlier version left it, under a container that was since emptied.
    stale = tmp_path / ".xtstore" / "locks" / "box" / key_of("older")
    stale.write_bytes(b"")
    assert _lock_files(tmp_path) == sorted(f"box/{key_of(b)}" for b in ("a", "gone", "older"))
    _store(tmp_path)
    assert _lock_files(tmp_path) == []
    assert not (tmp_path / ".xtstore" / "locks" / "box").exists()
    # The locks still work after their files and folder went.
    store.append_blob("box", "a", "2")
    assert store.get_blob_text("box", "a") == "12"


def test_a_lock_another_process_holds_is_never_broken(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_container("box")
    store.create_blob("box", "log", "first\n")
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        held = tmp_path / ".xtstore" / "locks" / "box" / key_of("log")
        inode = held.stat().st_ino
        reopened = _store(tmp_path)  # its cleanup meets the held lock
        assert held.stat().st_ino == inode
        appended = threading.Event()

        def append() -> None:
            reopened.append_blob("box", "log", "second\n")
            appended.set()

        writer = threading.Thread(target=append, daemon=True)
        writer.start()
        time.sleep(0.5)
        assert not appended.is_set(), "the append did not wait for the lock the holder has"
        release.set()
        writer.join(30)
        assert appended.is_set()
    finally:
        release.set()
        holder.join(60)
    assert holder.exitcode == 0
    assert store.get_blob_text("box", "log") == "first\nsecond\n"
    # Only the lock file the append keeps for its store's next append.
    assert _lock_files(tmp_path) == [f"box/{key_of('log')}"]
