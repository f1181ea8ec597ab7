"""store-file: the conformance suite, plus what the file layout itself guarantees."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import AccessDenied, BlobAlreadyExists, BlobNotFound
from xtstore.localfiles import oscalls
from xtstore.localfiles.oscalls import copy_fd
from xtstore.providers.file import records
from xtstore.store import Store
from xtstore.testing import ConformanceSuite
from xtstore.values import BlobInfo


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


def store_with_switch_off(tmp_path_factory: pytest.TempPathFactory, switch: list[Any],
                          off: Any) -> Iterator[Store]:
    """A store made while ``switch[0]`` (a module's one-item setting) is ``off``, restored
    after the test class."""
    saved = switch[0]
    switch[0] = off
    try:
        yield file_store(tmp_path_factory.mktemp("store"))
    finally:
        switch[0] = saved


class TestFileConformanceWithoutOpenat2(ConformanceSuite):
    """The same suite where the kernel has no openat2 (before Linux 5.6, or filtered)."""

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
        yield from store_with_switch_off(tmp_path_factory, oscalls._syscall, None)


class TestFileConformanceWithoutUnnamedFiles(ConformanceSuite):
    """The same suite where the file system cannot make unnamed files (no ``O_TMPFILE``, as on
    some network file systems): every write goes through a named file in ``.xtstore/tmp``."""

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
        yield from store_with_switch_off(tmp_path_factory, oscalls.unnamed_files, False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def store(root: Path) -> Store:
    store = file_store(root)
    store.create_container("box")
    return store


def etag_of(store: Store, blob: str) -> str:
    properties = store.get_blob_properties("box", blob).properties
    assert properties is not None
    return properties.etag


# ---- layout ----


def test_root_is_created_and_tilde_expanded(isolated_home: Path) -> None:
    store = file_store(Path("~/deep/store"))
    store.create_container("box")
    store.create_blob("box", "a/b.txt", "hello")
    assert (isolated_home / "deep/store/box/a/b.txt").read_text() == "hello"


def test_blobs_are_plain_files_and_nothing_else_is_in_a_container(
    store: Store, root: Path
) -> None:
    store.create_blob("box", "dir/a.txt", "a")
    store.append_blob("box", "dir/log", "1")
    store.append_blob("box", "dir/log", "2", append_with_rewrite=True)
    store.set_blob_metadata("box", "dir/a.txt", {"k": "v"})
    store.snapshot_blob("box", "dir/a.txt")
    store.set_container_metadata("box", {"owner": "me"})
    files = sorted(str(p.relative_to(root / "box")) for p in (root / "box").rglob("*"))
    assert files == ["dir", "dir/a.txt", "dir/log"]
    assert (root / "box/dir/log").read_bytes() == b"12"
    assert sorted(p.name for p in root.iterdir()) == [".xtstore", "box"]
    assert store.list_containers() == ["box"]


def test_temporary_and_lock_files_are_never_listed(store: Store, root: Path) -> None:
    store.append_blob("box", "log", "x")  # leaves a lock file
    (root / ".xtstore/tmp/left-over-by-a-crash").write_text("junk")
    (root / "box/empty/er").mkdir(parents=True)  # a folder with no blob is not a folder entry
    assert store.list_blobs("box") == ["log"]
    assert store.list_blobs("box", recursive=False) == ["log"]
    assert store.list_blobs("box", "empty", recursive=False) == []


def test_deleting_the_last_blob_removes_empty_folders(store: Store, root: Path) -> None:
    store.create_blob("box", "a/b/c/one", "1")
    store.create_blob("box", "a/two", "2")
    store.delete_blob("box", "a/b/c/one")
    assert not (root / "box/a/b").exists()
    assert (root / "box/a/two").exists()
    assert store.list_blobs("box", recursive=False) == ["a/"]


def test_delete_container_removes_its_snapshots_metadata_and_locks(
    store: Store, root: Path
) -> None:
    store.create_blob("box", "a", "1")
    store.snapshot_blob("box", "a")
    store.set_blob_metadata("box", "a", {"k": "v"})
    store.append_blob("box", "a", "2")
    store.delete_container("box")
    leftovers = [p for p in (root / ".xtstore").rglob("*") if p.is_file()]
    assert leftovers == []
    store.create_container("box")
    assert store.list_blobs("box") == []
    assert store.list_snapshots("box", "a") == []


def test_a_name_cannot_be_both_a_blob_and_a_folder(store: Store) -> None:
    store.create_blob("box", "a", "blob")
    with pytest.raises(BlobAlreadyExists):
        store.create_blob("box", "a/b", "under a blob")
    store.create_blob("box", "d/x", "1")
    with pytest.raises(BlobAlreadyExists):
        store.create_blob("box", "d", "over a folder")
    assert store.get_blob_text("box", "a") == "blob"
    assert store.list_blobs("box") == ["a", "d/x"]


@pytest.mark.parametrize("rewrite", [False, True])
def test_an_append_to_a_folder_is_a_name_clash(store: Store, rewrite: bool) -> None:
    store.create_blob("box", "a/b", "x")
    with pytest.raises(BlobAlreadyExists, match="blob and a folder"):
        store.append_blob("box", "a", "y", append_with_rewrite=rewrite)
    with pytest.raises(BlobAlreadyExists, match="blob and a folder"):
        store.create_blob("box", "a", "y", fail_if_exists=True)
    assert store.list_blobs("box") == ["a/b"]


@pytest.mark.timeout(30)  # the rewrite append used to retry this clash for ever
@pytest.mark.parametrize("rewrite", [False, True])
def test_writes_below_a_blob_are_a_name_clash(store: Store, rewrite: bool) -> None:
    store.create_blob("box", "a", "blob")
    with pytest.raises(BlobAlreadyExists, match="blob and a folder"):
        store.append_blob("box", "a/b", "y", append_with_rewrite=rewrite)
    with pytest.raises(BlobAlreadyExists, match="blob and a folder"):
        store.append_blob("box", "a/b/c", "y", append_with_rewrite=rewrite)
    with pytest.raises(BlobAlreadyExists, match="blob and a folder"):
        store.create_blob("box", "a/b", "y", fail_if_exists=True)
    with pytest.raises(BlobAlreadyExists, match="blob and a folder"):
        store.copy_blob("box", "a", "box", "a/q")
    assert store.list_blobs("box") == ["a"]
    assert store.get_blob_text("box", "a") == "blob"


def test_folder_is_not_a_blob(store: Store) -> None:
    store.create_blob("box", "d/x", "1")
    assert not store.does_blob_exist("box", "d")
    with pytest.raises(BlobNotFound):
        store.get_blob_text("box", "d")
    with pytest.raises(BlobNotFound):
        store.get_blob_text("box", "d/x/y")


# ---- atomic writes and etags ----


def test_concurrent_reader_sees_only_whole_versions(store: Store) -> None:
    size = 2 * 1024 * 1024
    store.create_blob("box", "big", b"a" * size)
    stop = threading.Event()
    seen: list[tuple[int, int]] = []

    def read() -> None:
        while not stop.is_set():
            data = store.get_blob_bytes("box", "big")
            seen.append((len(data), len(set(data))))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for letter in b"bcdefghij" * 3:
            store.create_blob("box", "big", bytes([letter]) * size)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert seen
    assert set(seen) == {(size, 1)}


def test_every_write_is_a_new_inode_with_a_new_etag(store: Store, root: Path) -> None:
    inodes = set()
    etags = set()
    for _ in range(200):
        store.create_blob("box", "same", "same size, same content")
        inodes.add((root / "box/same").stat().st_ino)
        etags.add(etag_of(store, "same"))
    assert len(etags) == 200  # inode numbers get reused; the etag never does
    assert len(inodes) >= 2


# ---- hard links: copies, snapshots and appends ----


def test_copy_and_snapshot_are_hard_links(store: Store, root: Path) -> None:
    store.create_blob_from_stream("box", "big", io.BytesIO(b"z" * (32 * 1024 * 1024)))
    started = time.perf_counter()
    store.copy_blob("box", "big", "box", "copy/big")
    snap = store.snapshot_blob("box", "big")
    elapsed = time.perf_counter() - started
    inode = (root / "box/big").stat().st_ino
    assert (root / "box/copy/big").stat().st_ino == inode
    assert (root / "box/big").stat().st_nlink == 3
    assert elapsed < 0.5  # O(1): no byte is copied (a copy of 32 MiB takes far longer)
    assert store.get_blob_bytes("box", "big", snapshot=snap.snapshot)[:3] == b"zzz"


def test_append_never_changes_a_shared_inode(store: Store, root: Path) -> None:
    store.create_blob("box", "log", "one\n")
    snap = store.snapshot_blob("box", "log")
    store.copy_blob("box", "log", "box", "log-copy")
    shared = (root / "box/log").stat().st_ino
    store.append_blob("box", "log", "two\n")
    assert (root / "box/log").stat().st_ino != shared
    assert store.get_blob_text("box", "log") == "one\ntwo\n"
    assert store.get_blob_text("box", "log-copy") == "one\n"
    assert store.get_blob_bytes("box", "log", snapshot=snap.snapshot) == b"one\n"
    # Once the file is no longer shared, appends go in place (same inode).
    alone = (root / "box/log").stat().st_ino
    store.append_blob("box", "log", "three\n")
    assert (root / "box/log").stat().st_ino == alone
    assert store.get_blob_text("box", "log") == "one\ntwo\nthree\n"


def test_overwriting_a_copy_leaves_the_source_alone(store: Store) -> None:
    store.create_blob("box", "src", "source")
    store.copy_blob("box", "src", "box", "dst")
    store.create_blob("box", "dst", "changed")
    store.append_blob("box", "dst", "+", append_with_rewrite=True)
    assert store.get_blob_text("box", "src") == "source"
    assert store.get_blob_text("box", "dst") == "changed+"


def test_copy_onto_itself_keeps_the_blob(store: Store, root: Path) -> None:
    store.create_blob("box", "a", "content")
    store.copy_blob("box", "a", "box", "a")
    assert store.get_blob_text("box", "a") == "content"
    assert list((root / ".xtstore/tmp").iterdir()) == []


def test_metadata_cleared_by_rewrite_kept_by_append_carried_by_copy(store: Store) -> None:
    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "v"})
    store.append_blob("box", "a", "2")
    store.append_blob("box", "a", "3", append_with_rewrite=True)
    assert store.get_blob_metadata("box", "a") == {"k": "v"}
    store.copy_blob("box", "a", "box", "b")
    assert store.get_blob_properties("box", "b").metadata == {"k": "v"}
    store.create_blob("box", "a", "new")
    assert store.get_blob_metadata("box", "a") == {}


def test_metadata_left_by_a_file_removed_by_hand_does_not_reach_a_new_blob(
    store: Store, root: Path
) -> None:
    store.create_blob("box", "run/log", "1")
    store.set_blob_metadata("box", "run/log", {"owner": "old run"})
    (root / "box/run/log").unlink()  # behind the store's back: the record stays
    store.create_blob("box", "run/log", "2")
    assert store.get_blob_metadata("box", "run/log") == {}
    assert store.get_blob_properties("box", "run/log").metadata == {}


def test_metadata_is_seen_throughout_appends_by_rewrite(store: Store) -> None:
    store.create_blob("box", "log", "0")
    store.set_blob_metadata("box", "log", {"k": "v"})
    stop = threading.Event()
    seen: list[dict[str, str]] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(store.get_blob_metadata("box", "log"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(200):
            store.append_blob("box", "log", f"{i}\n", append_with_rewrite=True)
    finally:
        stop.set()
        reader.join()
    assert seen and all(metadata == {"k": "v"} for metadata in seen)


@pytest.fixture(params=["file-ids", "no-attributes"])
def file_ids(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """With ids in extended attributes, and as on a file system that keeps none (a file
    known by its device and inode only)."""
    if request.param == "no-attributes":
        monkeypatch.setattr(records, "_ATTRIBUTES", False)
    return bool(request.param == "file-ids")


def test_metadata_follows_its_file_through_every_write(store: Store, root: Path,
                                                       file_ids: bool) -> None:
    def metadata() -> dict[str, dict[str, str]]:
        return {name: store.get_blob_metadata("box", name)
                for name in store.list_blobs("box")}

    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "a"})
    store.append_blob("box", "a", "2")  # in place: the same file
    store.append_blob("box", "a", "3", append_with_rewrite=True)  # a new file
    assert metadata() == {"a": {"k": "a"}}
    store.copy_blob("box", "a", "box", "b")
    store.set_blob_metadata("box", "b", {"k": "b"})  # b is a's file, with its own record
    assert metadata() == {"a": {"k": "a"}, "b": {"k": "b"}}
    store.copy_blob("box", "b", "box", "a")
    assert metadata() == {"a": {"k": "b"}, "b": {"k": "b"}}
    store.create_blob("box", "c", "plain")
    store.copy_blob("box", "c", "box", "b")  # a source without metadata
    assert metadata() == {"a": {"k": "b"}, "b": {}, "c": {}}
    store.snapshot_blob("box", "a")
    store.append_blob("box", "a", "4")  # shared with its snapshot: rewritten
    assert store.get_blob_text("box", "a") == "1234" and metadata()["a"] == {"k": "b"}
    store.create_blob("box", "a", "new")
    assert metadata() == {"a": {}, "b": {}, "c": {}}
    store.set_blob_metadata("box", "c", {"k": "c"})
    store.delete_blob("box", "c")
    store.create_blob("box", "c", "again")
    assert metadata() == {"a": {}, "b": {}, "c": {}}
    assert not [p for p in (root / ".xtstore/meta").rglob("*") if p.is_file()]
    # A file is given an id only when a record first names it: not by writes.
    assert records.FILE_ID not in os.listxattr(root / "box" / "a")


def test_a_record_names_the_file_it_describes(store: Store, root: Path) -> None:
    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "v"})
    (record,) = (root / ".xtstore/meta/box").glob("*.json")
    st = os.stat(root / "box" / "a")
    file_id = os.getxattr(root / "box" / "a", records.FILE_ID).decode()
    assert len(file_id) == 16
    assert json.loads(record.read_bytes()) == {
        "blob": "a", "files": {f"{st.st_dev:x}:{st.st_ino:x}:{file_id}": {"k": "v"}}}


@pytest.mark.parametrize("how", ["other-id", "no-id"])
def test_metadata_of_an_earlier_file_with_the_same_inode_number_is_not_taken(
    store: Store, root: Path, how: str
) -> None:
    # What a file made later with a reused inode number looks like: its own id, or none.
    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "v"})
    if how == "other-id":
        os.setxattr(root / "box" / "a", records.FILE_ID, b"0123456789abcdef")
    else:
        os.removexattr(root / "box" / "a", records.FILE_ID)
    assert store.get_blob_metadata("box", "a") == {}
    assert store.get_blob_properties("box", "a").metadata == {}


def test_a_record_left_for_a_replaced_file_is_ignored_then_dropped(
    store: Store, root: Path
) -> None:
    # A write killed after its new version took the name, before the old one's entry went.
    store.create_blob("box", "a", "old")
    store.set_blob_metadata("box", "a", {"k": "v"})
    (root / "new").write_bytes(b"new")
    os.replace(root / "new", root / "box" / "a")
    (record,) = (root / ".xtstore/meta/box").glob("*.json")
    assert store.get_blob_metadata("box", "a") == {}
    assert record.exists()
    store.create_blob("box", "a", "newer")
    assert not record.exists()
    assert store.get_blob_metadata("box", "a") == {}


@pytest.mark.parametrize("unnamed", [True, False], ids=["tmpfile", "named-temp"])
def test_a_record_written_before_2_3_does_not_reach_a_new_version(
    store: Store, root: Path, unnamed: bool
) -> None:
    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "v"})
    (record,) = (root / ".xtstore/meta/box").glob("*.json")
    record.write_text(json.dumps({"blob": "a", "metadata": {"k": "old"}}))  # 2.2's form
    saved, oscalls.unnamed_files[0] = oscalls.unnamed_files[0], unnamed
    try:
        store.create_blob("box", "a", "new")
    finally:
        oscalls.unnamed_files[0] = saved
    assert store.get_blob_metadata("box", "a") == {}
    assert not record.exists()


def test_a_record_written_before_2_3_is_read_then_bound_to_its_file(
    store: Store, root: Path
) -> None:
    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "v"})
    (record,) = (root / ".xtstore/meta/box").glob("*.json")
    record.write_text(json.dumps({"blob": "a", "metadata": {"k": "old"}}))  # 2.2's form
    assert store.get_blob_metadata("box", "a") == {"k": "old"}
    store.append_blob("box", "a", "2", append_with_rewrite=True)
    assert store.get_blob_metadata("box", "a") == {"k": "old"}
    # Carried over to the new file itself, so the record, which gives it nothing, went.
    assert records.attribute_metadata(str(root / "box" / "a")) == {"k": "old"}
    assert not record.exists()
    store.create_blob("box", "a", "new")
    assert store.get_blob_metadata("box", "a") == {}


def test_opening_a_store_reads_no_record(root: Path, store: Store,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Records left for files no longer there are ignored, and dropped by the next write of
    # their name: no walk of .xtstore/meta when a store is opened.
    for index in range(50):
        store.create_blob("box", f"b{index}", "x")
        store.set_blob_metadata("box", f"b{index}", {"k": "v"})
        (root / "box" / f"b{index}").unlink()  # behind the store's back
    listed: list[str] = []
    for name in ("listdir", "scandir", "walk"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda path=".", *a, _real=real, **k: (
            listed.append(str(path)), _real(path, *a, **k))[1])
    file_store(root)
    assert listed and not [path for path in listed if "meta" in path]


def test_setting_metadata_of_a_missing_blob_leaves_nothing(store: Store, root: Path) -> None:
    with pytest.raises(BlobNotFound):
        store.set_blob_metadata("box", "missing", {"k": "v"})
    assert not [p for p in (root / ".xtstore").rglob("*") if p.is_file()]


def test_deleting_a_blob_removes_its_metadata(store: Store, root: Path) -> None:
    store.create_blob("box", "a", "1")
    store.set_blob_metadata("box", "a", {"k": "v"})
    store.delete_blob("box", "a")
    assert not [p for p in (root / ".xtstore/meta").rglob("*") if p.is_file()]
    store.create_blob("box", "a", "2")
    assert store.get_blob_metadata("box", "a") == {}


# ---- no way out of the root ----


@pytest.fixture(params=["openat2", "open-and-check"])
def how_opened(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways store-file proves a path stays inside its container: openat2 refusing
    symlinks (where the kernel has it), and open-then-read-back-the-real-path."""
    if request.param == "openat2":
        if oscalls._syscall[0] is None:
            pytest.skip("this kernel or architecture has no openat2")
    else:
        monkeypatch.setattr(oscalls, "_syscall", [None])
    return str(request.param)


def test_a_symlink_to_a_folder_of_the_same_container_is_followed(
    store: Store, root: Path, how_opened: str
) -> None:
    store.create_blob("box", "real/a.txt", "through the link")
    (root / "box/alias").symlink_to(root / "box/real")
    assert store.get_blob_text("box", "alias/a.txt") == "through the link"
    store.create_blob("box", "alias/b.txt", "written through the link")
    assert store.get_blob_text("box", "real/b.txt") == "written through the link"
    # New folders below the link are made in the folder it leads to.
    store.create_blob("box", "alias/new/deeper/c.txt", "in new folders through the link")
    assert store.get_blob_text("box", "real/new/deeper/c.txt") == (
        "in new folders through the link")
    store.delete_blob("box", "real/new/deeper/c.txt")
    assert store.list_blobs("box") == ["real/a.txt", "real/b.txt"]  # links are never listed
    assert store.list_blobs("box", "alias/") == []


def test_symlinks_leading_out_of_the_container_are_refused(
    store: Store, root: Path, tmp_path: Path, how_opened: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "box/escape").symlink_to(outside)
    (root / "box/secret-link").symlink_to(outside / "secret.txt")
    store.create_container("other")
    store.create_blob("other", "theirs.txt", "another container's")
    (root / "box/sideways").symlink_to(root / "other/theirs.txt")
    for blob in ("escape/secret.txt", "secret-link", "sideways"):
        with pytest.raises(AccessDenied):
            store.get_blob_text("box", blob)
        with pytest.raises(AccessDenied):
            store.get_blob_properties("box", blob)
    with pytest.raises(AccessDenied):
        store.get_blob_to_path("box", "escape/secret.txt", str(tmp_path / "got.txt"))
    with pytest.raises(AccessDenied):
        store.create_blob("box", "escape/planted.txt", "x")
    with pytest.raises(AccessDenied):
        store.create_blob("box", "escape/new/planted.txt", "x")
    with pytest.raises(AccessDenied):
        store.append_blob("box", "secret-link", "x")
    with pytest.raises(AccessDenied):
        store.copy_blob("box", "secret-link", "box", "stolen")
    with pytest.raises(AccessDenied):
        store.delete_blob("box", "escape/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"
    assert not (tmp_path / "got.txt").exists()
    assert store.list_blobs("box") == []  # symlinks are never listed
    for listed in ("escape/", "escape/secret*"):  # nor what lies behind them
        assert store.list_blobs("box", listed) == []
        assert store.list_blobs("box", listed, return_names=False) == []
        assert store.list_blobs("box", listed, recursive=False) == []
        assert list(store.iter_blobs("box", listed)) == []


def test_snapshot_ids_cannot_name_other_files(store: Store) -> None:
    store.create_blob("box", "a", "1")
    for bad in ("../../box/a", "/etc/passwd", "", "x" * 30):
        with pytest.raises(BlobNotFound):
            store.get_blob_bytes("box", "a", snapshot=bad)


# ---- several processes ----


def _create_only(store: Store, text: str, barrier: Any) -> str:
    barrier.wait(timeout=60)
    try:
        store.create_blob("box", "race", text, fail_if_exists=True)
    except BlobAlreadyExists:
        return "lost"
    return "won"


def _append_many(store: Store, worker: int) -> None:
    for i in range(100):
        store.append_blob("box", "log", f"<{worker}:{i}:{'y' * 100}>\n",
                          append_with_rewrite=(i % 3 == 0))


def test_create_only_race_between_processes_has_one_winner(store: Store) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(6)
        with context.Pool(6) as pool:
            results = pool.starmap(
                _create_only, [(store, f"writer {n}", barrier) for n in range(6)]
            )
    assert sorted(results) == ["lost"] * 5 + ["won"]
    assert store.get_blob_text("box", "race") == f"writer {results.index('won')}"


def test_appends_from_processes_in_both_modes_lose_nothing(store: Store, root: Path) -> None:
    store.create_blob("box", "log", "")
    snap = store.snapshot_blob("box", "log")  # the first append must copy, not write in place
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.starmap(_append_many, [(store, w) for w in range(4)])
    lines = store.get_blob_text("box", "log").splitlines()
    expected = [f"<{w}:{i}:{'y' * 100}>" for w in range(4) for i in range(100)]
    assert sorted(lines) == sorted(expected)
    for worker in range(4):  # each worker's lines in its own order
        mine = [line for line in lines if line.startswith(f"<{worker}:")]
        assert mine == [line for line in expected if line.startswith(f"<{worker}:")]
    assert store.get_blob_bytes("box", "log", snapshot=snap.snapshot) == b""


def test_listing_entries_match_blob_properties(store: Store) -> None:
    for name in ("a", "d/b", "d/e/c"):
        store.create_blob("box", name, name * 3)
    listed = store.list_blobs("box", return_names=False)
    described = [store.get_blob_properties("box", name) for name in ("a", "d/b", "d/e/c")]

    def without_content_type(info: Any) -> tuple[Any, ...]:
        # Listings give no content type: it is an extended attribute, one more system call
        # per blob listed (docs/providers/file.md).
        p = info.properties
        return info.name, p.content_length, p.last_modified, p.modified_ns, p.etag

    assert [without_content_type(entry) for entry in listed] == [
        without_content_type(info) for info in described]
    assert [entry.properties.content_type for entry in listed] == [None] * 3
    assert [info.properties.content_type for info in described] == [
        "application/octet-stream"] * 3
    assert len({hash(entry) for entry in listed}) == 3
    folders = store.list_blobs("box", return_names=False, recursive=False)
    assert [(e.name, e.is_dir) for e in folders if isinstance(e, BlobInfo)] == [
        ("a", False), ("d/", True)]


def test_replacing_a_large_blob_swaps_files_and_keeps_snapshots(
    store: Store, root: Path, tmp_path: Path
) -> None:
    big = 33 * 1024 * 1024  # over the size where uploads replace by swap + unlink
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    first.write_bytes(b"1" * big)
    second.write_bytes(b"2" * big)
    store.create_blob_from_path("box", "model.bin", str(first))
    snap = store.snapshot_blob("box", "model.bin")
    before = etag_of(store, "model.bin")
    store.create_blob_from_path("box", "model.bin", str(second))
    assert store.get_blob_bytes("box", "model.bin") == b"2" * big
    assert store.get_blob_bytes("box", "model.bin", snapshot=snap.snapshot) == b"1" * big
    assert etag_of(store, "model.bin") != before
    assert list((root / ".xtstore/tmp").iterdir()) == []
    store.create_blob("box", "folder/inside", "x")
    with pytest.raises(BlobAlreadyExists):  # never swaps a folder away
        store.create_blob_from_path("box", "folder", str(first))
    assert store.list_blobs("box") == ["folder/inside", "model.bin"]


def test_opening_and_reading_write_nothing(root: Path) -> None:
    # So a store on a read-only folder or share still serves reads.
    writer = file_store(root)
    writer.create_container("box")
    writer.create_blob("box", "a/b.txt", "kept")
    writer.create_blob("box", "a/b.txt", "kept")  # a replace goes through .xtstore/tmp
    internal = root / ".xtstore"
    for path in sorted(internal.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    internal.rmdir()
    reader = file_store(root)
    assert reader.get_blob_text("box", "a/b.txt") == "kept"
    assert reader.list_blobs("box") == ["a/b.txt"]
    assert len(reader.list_blobs("box", return_names=False)) == 1
    assert reader.get_blob_properties("box", "a/b.txt").properties is not None
    assert reader.get_blob_metadata("box", "a/b.txt") == {}
    assert not internal.exists()


def test_copies_from_a_pipe_fall_back_and_stay_exact(store: Store, tmp_path: Path) -> None:
    # copy_file_range refuses a pipe as source; the copy must still be exact.
    data = os.urandom(3 * 1024 * 1024 + 17)
    reader, writer = os.pipe()
    def feed() -> None:
        os.write(writer, data)
        os.close(writer)

    feeder = threading.Thread(target=feed)
    feeder.start()
    progress: list[tuple[int, int]] = []
    try:
        with open(tmp_path / "out.bin", "wb") as out:
            copied = copy_fd(reader, out.fileno(), len(data),
                             lambda done, total: progress.append((done, total)))
    finally:
        feeder.join(timeout=30)
        os.close(reader)
    assert copied == len(data)
    assert (tmp_path / "out.bin").read_bytes() == data
    assert progress[0] == (0, len(data)) and progress[-1] == (len(data), len(data))
    store.create_blob_from_stream("box", "piped", io.BytesIO(data), length=len(data))
    assert store.get_blob_bytes("box", "piped") == data


def test_listing_entries_fill_the_value_types_directly_and_equal_the_constructors(
    tmp_path: Path,
) -> None:
    # At 31179a3 the value types had gained a field (checksums) the direct builder did not
    # know, so it had silently fallen back to the constructors, twice as slow per blob.
    from xtstore.providers.file import walk
    from xtstore.values import BlobInfo

    assert walk.listing_entry.__name__ == "build"
    path = tmp_path / "blob"
    path.write_bytes(b"12345")
    st = os.stat(path)
    for metadata in (None, {"b": "2", "a": "1"}):
        built = walk.listing_entry("d/blob", st, metadata)
        assert built == BlobInfo("d/blob", False, walk.properties_of(st, metadata))
        assert built.properties is not None and built.properties.checksums == {}
