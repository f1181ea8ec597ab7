"""store-file's ranged reads (one ``pread`` of the confined file, snapshots too; under
``checksum: crc32`` only the length can be checked) and writable blobs (an invisible new
file named whole on close, nothing left after an exception, an abort, a collected writer or
a SIGKILL), and content types kept with each blob's file."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers.killing import kill_while_writing
from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerNotFound,
    IntegrityError,
)
from xtstore.localfiles import oscalls
from xtstore.store import Store

MiB = 1024 * 1024
CONTENT = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and 4 bytes


def open_store(root: Path, **keys: Any) -> Store:
    entry = {"type": "storage", "provider": "store-file", "path": str(root),
             "retry": {"attempts": 2, "base-delay": 0.01, "max-delay": 0.01}, **keys}
    store: Store = xtstore.get_storage("local", config={"external-services": {"local": entry}})
    return store


@pytest.fixture(params=["none", "crc32"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "root", checksum=request.param)
    opened.create_container("box")
    return opened


@pytest.fixture(params=[True, False], ids=["unnamed", "named"])
def unnamed(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Both write paths: unnamed O_TMPFILE files, and named files in .xtstore/tmp (the
    switch is a list every module shares, so it is changed in place)."""
    before = oscalls.unnamed_files[0]
    oscalls.unnamed_files[0] = before and bool(request.param)
    try:
        yield bool(request.param)
    finally:
        oscalls.unnamed_files[0] = before


def leftovers(root: Path) -> list[str]:
    tmp_area = root / ".xtstore" / "tmp"
    return sorted(os.listdir(tmp_area)) if tmp_area.exists() else []


def every_file(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


# ---- ranges ----


@pytest.mark.parametrize(("start", "end"), [(0, None), (0, 10), (5, 6), (1000, 300000),
                                            (len(CONTENT) - 3, None), (len(CONTENT) - 3, 10**9),
                                            (len(CONTENT), None), (10**9, None), (7, 7)])
def test_a_range_is_the_slice(store: Store, start: int, end: int | None) -> None:
    store.create_blob("box", "data.bin", CONTENT)
    assert store.get_blob_range("box", "data.bin", start, end) == CONTENT[start:end]


def test_a_range_is_one_pread_and_no_other_read(store: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store.create_blob("box", "data.bin", CONTENT)
    calls: list[tuple[int, int]] = []
    real_pread, real_read = os.pread, os.read

    def pread(fd: int, count: int, offset: int) -> bytes:
        calls.append((count, offset))
        return real_pread(fd, count, offset)

    def read(fd: int, count: int) -> bytes:
        raise AssertionError("a range read the file with read()")

    monkeypatch.setattr(os, "pread", pread)
    monkeypatch.setattr(os, "read", read)
    assert store.get_blob_range("box", "data.bin", 4096, 4096 + 70000) == CONTENT[4096:74096]
    monkeypatch.setattr(os, "read", real_read)
    assert calls == [(70000, 4096)]


def test_a_range_of_a_snapshot_reads_the_snapshot(store: Store) -> None:
    store.create_blob("box", "data.bin", CONTENT)
    snapshot = store.snapshot_blob("box", "data.bin").snapshot
    store.create_blob("box", "data.bin", b"new content")
    store.append_blob("box", "data.bin", "!")
    assert store.get_blob_range("box", "data.bin", 4, None, snapshot=snapshot) == CONTENT[4:]
    assert store.get_blob_range("box", "data.bin", 4, 7) == b"con"
    with pytest.raises(BlobNotFound):
        store.get_blob_range("box", "data.bin", 0, 1, snapshot="20260101T000000000000Z-ff")


def test_a_range_of_a_missing_blob_is_not_found(store: Store) -> None:
    with pytest.raises(BlobNotFound) as raised:
        store.get_blob_range("box", "missing.bin", 0, 10)
    assert raised.value.blob == "missing.bin"
    with pytest.raises(ContainerNotFound):
        store.get_blob_range("nobox", "missing.bin", 0, 10)


def test_a_range_through_a_symlink_out_of_the_container_is_refused(store: Store,
                                                                   tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (tmp_path / "root" / "box" / "leak").symlink_to(secret)
    with pytest.raises(AccessDenied):
        store.get_blob_range("box", "leak", 0, 3)


def test_with_crc32_a_range_checks_its_length_only(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(tmp_path / "root", checksum="crc32")
    store.create_container("box")
    store.create_blob("box", "data.bin", CONTENT)
    path = tmp_path / "root" / "box" / "data.bin"
    with open(path, "r+b") as handle:  # a flipped byte: the CRC-32 of the whole no longer fits
        handle.seek(100)
        handle.write(b"\xff")
    with pytest.raises(IntegrityError):
        store.get_blob_bytes("box", "data.bin")
    # Honest: a part of the blob cannot be checked against a CRC-32 of the whole.
    assert store.get_blob_range("box", "data.bin", 100, 101) == b"\xff"

    # The file cut short between the open (which took its size) and the read, on every
    # attempt (the Store retries an IntegrityError).
    real_pread = os.pread
    sizes = iter(range(1000, 0, -100))

    def truncating_pread(fd: int, count: int, offset: int) -> bytes:
        os.truncate(path, next(sizes))
        return real_pread(fd, count, offset)

    monkeypatch.setattr(os, "pread", truncating_pread)
    with pytest.raises(IntegrityError) as raised:
        store.get_blob_range("box", "data.bin", 500, 5000)
    assert raised.value.blob == "data.bin"


def test_without_checksums_a_short_file_gives_what_it_holds(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    store = open_store(tmp_path / "root")
    store.create_container("box")
    store.create_blob("box", "data.bin", CONTENT)
    path = tmp_path / "root" / "box" / "data.bin"
    real_pread = os.pread

    def truncating_pread(fd: int, count: int, offset: int) -> bytes:
        os.truncate(path, 1000)
        return real_pread(fd, count, offset)

    monkeypatch.setattr(os, "pread", truncating_pread)
    assert store.get_blob_range("box", "data.bin", 500, 5000) == CONTENT[500:1000]


# ---- writers ----


def test_a_written_blob_appears_whole_on_close_only(store: Store, tmp_path: Path,
                                                     unnamed: bool) -> None:
    root = tmp_path / "root"
    store.create_blob("box", "ckpt/model.pt", b"old")
    store.set_blob_metadata("box", "ckpt/model.pt", {"epoch": "1"})
    pieces = [os.urandom(size) for size in (1, 4 * MiB - 1, 3 * MiB + 5, 7, 5 * MiB)]
    with store.open_blob("box", "ckpt/model.pt", mode="wb") as writer:
        for piece in pieces:
            writer.write(piece)
            assert store.get_blob_bytes("box", "ckpt/model.pt") == b"old"
            assert store.list_blobs("box") == ["ckpt/model.pt"]
            assert every_file(root / "box") == ["ckpt/model.pt"]
        assert writer.tell() == sum(map(len, pieces))
    assert store.get_blob_bytes("box", "ckpt/model.pt") == b"".join(pieces)
    assert store.get_blob_metadata("box", "ckpt/model.pt") == {}
    assert every_file(root / "box") == ["ckpt/model.pt"]
    assert leftovers(root) == []


def test_a_large_written_blob_replaces_the_old_one(tmp_path: Path, unnamed: bool) -> None:
    # From 32 MiB the write path swaps the new file in; the writer takes the same path.
    store = open_store(tmp_path / "root")
    store.create_container("box")
    store.create_blob("box", "big.bin", b"old")
    part = os.urandom(MiB)
    with store.open_blob("box", "big.bin", mode="wb") as writer:
        for _ in range(33):
            writer.write(part)
    assert store.get_blob_bytes("box", "big.bin") == part * 33
    assert leftovers(tmp_path / "root") == []


def test_a_new_blob_from_a_writer_gets_a_new_name(store: Store, tmp_path: Path,
                                                  unnamed: bool) -> None:
    with store.open_blob("box", "a/b/new.bin", mode="wb") as writer:
        assert not store.does_blob_exist("box", "a/b/new.bin")
        assert store.list_blobs("box") == []
        writer.write(b"fresh")
    assert store.get_blob_bytes("box", "a/b/new.bin") == b"fresh"
    with store.open_blob("box", "empty.bin", mode="wb"):
        pass
    assert store.get_blob_bytes("box", "empty.bin") == b""
    assert leftovers(tmp_path / "root") == []


def abort_by_exception(store: Store) -> None:
    with pytest.raises(RuntimeError), store.open_blob("box", "d/model.pt", mode="wb") as writer:
        writer.write(os.urandom(5 * MiB))
        raise RuntimeError("training crashed")


def abort_by_call(store: Store) -> None:
    writer = store.open_blob("box", "d/model.pt", mode="wb")
    writer.write(os.urandom(5 * MiB))
    writer.abort()  # type: ignore[attr-defined]


def abort_by_collection(store: Store) -> None:
    writer = store.open_blob("box", "d/model.pt", mode="wb")
    writer.write(os.urandom(5 * MiB))
    del writer
    gc.collect()


@pytest.mark.parametrize("abort", [abort_by_exception, abort_by_call, abort_by_collection])
@pytest.mark.parametrize("existing", [False, True])
def test_an_aborted_writer_leaves_nothing(store: Store, tmp_path: Path, unnamed: bool,
                                          abort: Callable[[Store], None],
                                          existing: bool) -> None:
    root = tmp_path / "root"
    if existing:
        store.create_blob("box", "d/model.pt", b"old")
    abort(store)
    if existing:
        assert store.get_blob_bytes("box", "d/model.pt") == b"old"
        assert every_file(root / "box") == ["d/model.pt"]
    else:
        assert not store.does_blob_exist("box", "d/model.pt")
        assert store.list_blobs("box") == []
        assert every_file(root / "box") == []
    assert leftovers(root) == []
    assert every_file(root / ".xtstore") == []


def test_the_written_blob_gets_its_crc32_record(tmp_path: Path) -> None:
    store = open_store(tmp_path / "root", checksum="crc32")
    store.create_container("box")
    content = os.urandom(9 * MiB + 3)
    with store.open_blob("box", "w.bin", mode="wb") as writer:
        for start in range(0, len(content), 3 * MiB + 1):
            writer.write(content[start:start + 3 * MiB + 1])
    assert store.get_blob_bytes("box", "w.bin") == content
    with open(tmp_path / "root" / "box" / "w.bin", "r+b") as handle:
        handle.seek(5 * MiB)
        handle.write(bytes([content[5 * MiB] ^ 1]))
    with pytest.raises(IntegrityError):
        store.get_blob_bytes("box", "w.bin")


def test_a_writer_is_refused_at_the_call_where_it_could_not_write(store: Store,
                                                                  tmp_path: Path) -> None:
    with pytest.raises(ContainerNotFound):
        store.open_blob("nobox", "a", mode="wb")
    store.create_blob("box", "a", b"a blob")
    with pytest.raises(BlobAlreadyExists):  # a file system cannot hold a blob and a folder
        store.open_blob("box", "a/b", mode="wb")
    assert store.get_blob_bytes("box", "a") == b"a blob"


def test_a_writer_never_writes_outside_its_container(store: Store, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "root" / "box" / "escape").symlink_to(outside)
    with pytest.raises(AccessDenied):
        store.open_blob("box", "escape/model.pt", mode="wb")
    assert os.listdir(outside) == []
    store.create_blob("box", "x", b"")  # the store still works
    assert leftovers(tmp_path / "root") == []


_KILLED_WRITER = """
import sys, time
from xtstore.localfiles import oscalls
from xtstore.providers.file.store import FileStore

if sys.argv[3] == "named":
    oscalls.unnamed_files[0] = False
store = FileStore({"name": "disk", "path": sys.argv[1]})
with store.open_blob("box", sys.argv[2], mode="wb") as writer:
    for _ in range(3):
        writer.write(b"x" * (4 * 1024 * 1024))
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize("how", ["unnamed", "named"])
def test_a_writer_killed_midway_leaves_nothing(tmp_path: Path, existing: bool,
                                               how: str) -> None:
    root = tmp_path / "root"
    store = open_store(root)
    store.create_container("box")
    if existing:
        store.create_blob("box", "ckpt/model.pt", b"old")
    kill_while_writing(_KILLED_WRITER, str(root), "ckpt/model.pt", how)
    if how == "named":  # the killed writer's claimed file, never listed: gone at the next open
        assert len(leftovers(root)) == 1
        assert store.list_blobs("box") == (["ckpt/model.pt"] if existing else [])
        open_store(root)
    if existing:
        assert store.get_blob_bytes("box", "ckpt/model.pt") == b"old"
    else:
        assert not store.does_blob_exist("box", "ckpt/model.pt")
    assert store.list_blobs("box") == (["ckpt/model.pt"] if existing else [])
    assert every_file(root / "box") == (["ckpt/model.pt"] if existing else [])
    assert leftovers(root) == []


# ---- content types ----


def content_type(store: Store, blob: str) -> str | None:
    properties = store.get_blob_properties("box", blob).properties
    assert properties is not None
    return properties.content_type


def test_content_types_are_kept_and_read_back(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    source.write_text("a,b\n")
    store.create_blob("box", "t/one.parquet", b"PAR1")
    store.create_blob_from_path("box", "t/two.csv", str(source))
    store.create_blob_from_stream("box", "t/three", open(source, "rb"),  # noqa: SIM115
                                  content_type="text/csv; charset=utf-8")
    with store.open_blob("box", "t/four.yaml", mode="wb") as writer:
        writer.write(b"a: 1\n")
    assert [content_type(store, blob) for blob in
            ("t/one.parquet", "t/two.csv", "t/three", "t/four.yaml")] == [
        "application/vnd.apache.parquet", "text/csv", "text/csv; charset=utf-8",
        "application/yaml"]
    store.create_blob("box", "t/one.parquet", b"PAR1", content_type="application/x-custom")
    assert content_type(store, "t/one.parquet") == "application/x-custom"


def test_copies_snapshots_and_appends_keep_the_content_type(store: Store) -> None:
    store.create_blob("box", "log", "line\n", content_type="text/plain; charset=utf-8")
    store.copy_blob("box", "log", "box", "copy")
    snapshot = store.snapshot_blob("box", "log").snapshot
    store.append_blob("box", "log", "in place\n")
    store.append_blob("box", "log", "by rewrite\n", append_with_rewrite=True)
    assert content_type(store, "log") == "text/plain; charset=utf-8"
    assert content_type(store, "copy") == "text/plain; charset=utf-8"
    assert store.get_blob_text("box", "log") == "line\nin place\nby rewrite\n"
    store.create_blob("box", "log", "new", content_type="text/x-new")
    assert content_type(store, "copy") == "text/plain; charset=utf-8"
    assert store.get_blob_range("box", "log", 0, None, snapshot=snapshot) == b"line\n"
