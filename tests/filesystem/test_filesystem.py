"""``XtstoreFileSystem`` on store-file: addresses, listings, ranges, errors, containers and
folders, whole-on-close writes, copies and many-file transfers (docs/fsspec.md)."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
import threading
from datetime import timezone
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pytest

from tests.filesystem.conftest import file_service, write_config
from xtstore.filesystem import Address, XtstoreFileSystem, parse, strip_protocol
from xtstore.store import Store

ROOT = Path(__file__).resolve().parents[2]
CONTENT = b"0123456789abcdefghij"


@pytest.fixture
def fs(file_fs: XtstoreFileSystem) -> XtstoreFileSystem:
    file_fs.mkdir("exp1")
    file_fs.pipe_file("exp1/logs/a.txt", CONTENT)
    file_fs.pipe_file("exp1/logs/deep/b.txt", b"b")
    file_fs.pipe_file("exp1/top.txt", b"top")
    return file_fs


# ---- addresses ----

@pytest.mark.parametrize(("path", "address"), [
    ("xtstore://runs:exp1/logs/a.csv", Address("runs", "exp1", "logs/a.csv")),
    ("runs:exp1/logs/a.csv", Address("runs", "exp1", "logs/a.csv")),
    ("xtstore://exp1/logs/a.csv", Address(None, "exp1", "logs/a.csv")),
    ("xtstore://exp1/logs/x:y.csv", Address(None, "exp1", "logs/x:y.csv")),
    ("xtstore://exp1/logs/", Address(None, "exp1", "logs")),
    ("xtstore://runs:exp1", Address("runs", "exp1", "")),
    ("xtstore://runs:", Address("runs", "", "")),
    ("xtstore://", Address(None, "", "")),
    ("", Address(None, "", "")),
])
def test_addresses_name_service_container_and_blob(path: str, address: Address) -> None:
    assert parse(path) == address


def test_stripped_paths_keep_the_service_and_parents_stay_in_it() -> None:
    assert strip_protocol("xtstore://runs:exp1/a/b/") == "runs:exp1/a/b"
    assert XtstoreFileSystem._strip_protocol("xtstore://") == ""
    assert XtstoreFileSystem._parent("runs:exp1/a/b") == "runs:exp1/a"
    assert XtstoreFileSystem._parent("runs:exp1/a") == "runs:exp1"
    assert XtstoreFileSystem._parent("runs:exp1") == "runs:"
    assert XtstoreFileSystem._parent("exp1") == ""


def test_the_protocol_alone_lists_the_containers(fs: XtstoreFileSystem) -> None:
    fs.mkdir("exp2")
    assert fs.ls("xtstore://", detail=False) == ["exp1", "exp2"]
    assert fs.ls("xtstore://local:", detail=False) == ["local:exp1", "local:exp2"]
    assert fs.info("") == {"name": "", "size": 0, "type": "directory"}
    assert fs.info("exp1") == {"name": "exp1", "size": 0, "type": "directory"}


def test_a_path_without_a_service_uses_the_service_option(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"one": file_service(tmp_path / "one"),
                                     "two": file_service(tmp_path / "two")}, "one")
    fs = XtstoreFileSystem(config=config, service="two")
    fs.mkdir("shared")
    fs.pipe_file("shared/x", b"on two")
    assert fs.cat_file("two:shared/x") == b"on two"
    assert not XtstoreFileSystem(config=config).exists("shared")
    assert XtstoreFileSystem(config=config).exists("two:shared/x")


def test_pandas_finds_the_default_service_through_the_environment(
        file_config: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XTSTORE_CONFIG", file_config)
    XtstoreFileSystem(skip_instance_cache=True).mkdir("env")
    pd.DataFrame({"a": [1, 2]}).to_csv("xtstore://env/a.csv", index=False)
    assert pd.read_csv("xtstore://local:env/a.csv")["a"].tolist() == [1, 2]


def test_a_changed_environment_opens_its_own_store(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_config(tmp_path, {"local": file_service(tmp_path / "first")}, "local")
    second = write_config(tmp_path, {"local": file_service(tmp_path / "second")}, "local")
    monkeypatch.setenv("XTSTORE_CONFIG", first)
    fs = fsspec.filesystem("xtstore")
    fs.mkdir("where")
    fs.pipe_file("where/am-i", b"first")
    monkeypatch.setenv("XTSTORE_CONFIG", second)
    assert fsspec.filesystem("xtstore") is fs  # fsspec's instance cache: the same object
    assert not fs.exists("where")
    monkeypatch.setenv("XTSTORE_CONFIG", first)
    assert fs.cat_file("where/am-i") == b"first"


def test_config_takes_a_file_path_only() -> None:
    with pytest.raises(TypeError, match="config file path"):
        XtstoreFileSystem(config={"external-services": {}})  # type: ignore[arg-type]


def test_a_mistyped_option_is_refused(file_config: str) -> None:
    with pytest.raises(TypeError, match="not servce"):
        fsspec.filesystem("xtstore", config=file_config, servce="local")
    # fsspec's own listing-cache options are taken, and change nothing.
    fs = fsspec.filesystem("xtstore", config=file_config, use_listings_cache=True)
    fs.mkdir("cached")
    fs.ls("cached")
    assert len(fs.dircache) == 0


# ---- listings ----

def test_ls_lists_blobs_and_folders_of_one_level(fs: XtstoreFileSystem) -> None:
    assert fs.ls("exp1/logs") == [
        {"name": "exp1/logs/a.txt", "size": 20, "type": "file",
         "etag": fs.info("exp1/logs/a.txt")["etag"], "mtime": fs.modified("exp1/logs/a.txt"),
         "content_type": None},
        {"name": "exp1/logs/deep", "size": 0, "type": "directory"},
    ]
    assert fs.ls("local:exp1", detail=False) == ["local:exp1/logs", "local:exp1/top.txt"]
    assert fs.ls("exp1/top.txt", detail=False) == ["exp1/top.txt"]
    with pytest.raises(FileNotFoundError):
        fs.ls("exp1/nothing")


def test_find_walk_and_glob(fs: XtstoreFileSystem) -> None:
    assert fs.find("exp1") == ["exp1/logs/a.txt", "exp1/logs/deep/b.txt", "exp1/top.txt"]
    assert fs.find("exp1", maxdepth=2, withdirs=True) == [
        "exp1/logs", "exp1/logs/a.txt", "exp1/logs/deep", "exp1/top.txt"]
    assert fs.find("") == ["exp1/logs/a.txt", "exp1/logs/deep/b.txt", "exp1/top.txt"]
    assert fs.find("exp1/top.txt") == ["exp1/top.txt"]
    assert fs.find("missing-container") == []
    assert fs.glob("exp1/**/*.txt") == ["exp1/logs/a.txt", "exp1/logs/deep/b.txt",
                                        "exp1/top.txt"]
    assert fs.glob("local:exp1/logs/*") == ["local:exp1/logs/a.txt", "local:exp1/logs/deep"]
    fs.mkdir("exp2")
    fs.pipe_file("exp2/logs/c.txt", b"c")
    assert fs.glob("xtstore://local:exp*/logs/*.txt") == ["local:exp1/logs/a.txt",
                                                          "local:exp2/logs/c.txt"]
    assert fs.glob("exp*/logs/*.txt") == ["exp1/logs/a.txt", "exp2/logs/c.txt"]
    assert list(fs.glob("local:exp*/logs/", detail=True)) == ["local:exp1/logs",
                                                              "local:exp2/logs"]
    fs.rm("local:exp2", recursive=True)
    assert [(root, dirs, files) for root, dirs, files in fs.walk("exp1")] == [
        ("exp1", ["logs"], ["top.txt"]), ("exp1/logs", ["deep"], ["a.txt"]),
        ("exp1/logs/deep", [], ["b.txt"])]


def test_a_folder_named_with_a_star_is_a_folder_not_a_prefix(fs: XtstoreFileSystem) -> None:
    # A list path holds no '*' but a final one (a raw prefix): the folder is listed from above.
    fs.pipe_file("exp1/log*/x.txt", b"x")
    fs.pipe_file("exp1/log*/sub/y.txt", b"y")
    fs.pipe_file("exp1/log*s/z.txt", b"z")
    assert fs.ls("exp1/log*", detail=False) == ["exp1/log*/sub", "exp1/log*/x.txt"]
    assert fs.ls("exp1/log*/sub", detail=False) == ["exp1/log*/sub/y.txt"]
    assert fs.find("exp1/log*") == ["exp1/log*/sub/y.txt", "exp1/log*/x.txt"]
    assert fs.isdir("exp1/log*") and not fs.isdir("exp1/lo*")
    fs.rm_file("exp1/log*/x.txt")  # rm would take the name as a pattern, as fsspec's do
    assert fs.find("exp1/log*") == ["exp1/log*/sub/y.txt"]
    assert fs.find("exp1/log*s") == ["exp1/log*s/z.txt"]


def test_no_listing_is_stale_after_a_write(fs: XtstoreFileSystem) -> None:
    assert fs.ls("exp1/logs", detail=False) == ["exp1/logs/a.txt", "exp1/logs/deep"]
    fs.pipe_file("exp1/logs/new.txt", b"new")
    assert fs.ls("exp1/logs", detail=False) == ["exp1/logs/a.txt", "exp1/logs/deep",
                                                "exp1/logs/new.txt"]
    # Written behind the filesystem's back, by the store itself.
    fs.store().delete_blob("exp1", "logs/a.txt")
    assert fs.ls("exp1/logs", detail=False) == ["exp1/logs/deep", "exp1/logs/new.txt"]
    assert not fs.exists("exp1/logs/a.txt")
    assert len(fs.dircache) == 0


def test_info_of_blobs_folders_and_what_is_missing(fs: XtstoreFileSystem) -> None:
    info = fs.info("xtstore://exp1/logs/a.txt")
    assert info["type"] == "file" and info["size"] == len(CONTENT)
    assert info["mtime"].tzinfo == timezone.utc
    assert fs.info("exp1/logs/") == {"name": "exp1/logs", "size": 0, "type": "directory"}
    assert fs.isdir("exp1/logs") and not fs.isfile("exp1/logs")
    assert fs.isfile("exp1/logs/a.txt") and not fs.isdir("exp1/logs/a.txt")
    with pytest.raises(FileNotFoundError, match="service 'local', container 'exp1', blob"
                                                " 'logs/none'"):
        fs.info("exp1/logs/none")
    with pytest.raises(FileNotFoundError, match="no such container"):
        fs.info("nope")
    assert not fs.exists("exp1/logs/none") and not fs.exists("nope")
    assert not fs.exists("Not-A-Container/x")  # an invalid name names nothing


def test_size_modified_ukey_and_checksum_follow_the_content(fs: XtstoreFileSystem) -> None:
    etag = fs.ukey("exp1/top.txt")
    checksum = fs.checksum("exp1/top.txt")
    assert etag == fs.store().get_blob_properties("exp1", "top.txt").properties.etag  # type: ignore[union-attr]
    assert fs.size("exp1/top.txt") == 3
    assert fs.modified("exp1/top.txt").tzinfo == timezone.utc
    fs.pipe_file("exp1/top.txt", b"rewritten")
    assert fs.ukey("exp1/top.txt") != etag and fs.checksum("exp1/top.txt") != checksum
    with pytest.raises(IsADirectoryError):
        fs.modified("exp1/logs")


# ---- reading ----

@pytest.mark.parametrize(("start", "end"), [
    (None, None), (3, None), (3, 8), (-4, None), (None, -3), (-8, -2), (2, -2), (-100, 4),
    (8, 3), (0, 0), (25, None), (5, 100), (-3, -5),
])
def test_cat_file_reads_what_a_slice_takes(fs: XtstoreFileSystem, start: int | None,
                                           end: int | None) -> None:
    assert fs.cat_file("exp1/logs/a.txt", start, end) == CONTENT[start:end]


def test_cat_file_of_a_range_is_one_ranged_read(fs: XtstoreFileSystem,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ranges: list[tuple[Any, ...]] = []
    original = Store.get_blob_range

    def recorded(self: Store, container: str, blob: str, start: int,
                 end: int | None = None, snapshot: str | None = None) -> bytes:
        ranges.append((container, blob, start, end))
        return original(self, container, blob, start, end, snapshot)

    monkeypatch.setattr(Store, "get_blob_range", recorded)
    assert fs.cat_file("exp1/logs/a.txt", 4, 9) == b"45678"
    assert fs.cat_file("exp1/logs/a.txt", -5) == b"fghij"
    assert fs.read_block("exp1/logs/a.txt", 10, 4) == b"abcd"
    assert ranges == [("exp1", "logs/a.txt", 4, 9), ("exp1", "logs/a.txt", 15, None)]


def test_open_for_reading_is_seekable_with_a_size(fs: XtstoreFileSystem) -> None:
    with fs.open("xtstore://local:exp1/logs/a.txt", "rb") as f:
        assert f.readable() and f.seekable() and not f.writable()
        assert f.size == len(CONTENT)
        f.seek(-5, os.SEEK_END)
        assert f.read() == b"fghij"
        f.seek(2)
        assert f.read(3) == b"234" and f.tell() == 5
    fs.pipe_file("exp1/lines.txt", b"one\ntwo\nthree\n")
    with fs.open("exp1/lines.txt", "r", encoding="utf-8") as text:
        assert text.readlines() == ["one\n", "two\n", "three\n"]
    assert fs.read_text("exp1/lines.txt") == "one\ntwo\nthree\n"
    assert fs.head("exp1/logs/a.txt", 3) == b"012" and fs.tail("exp1/logs/a.txt", 3) == b"hij"


def test_opening_what_is_not_a_blob(fs: XtstoreFileSystem) -> None:
    with pytest.raises(FileNotFoundError, match="blob 'logs/none'"):
        fs.open("exp1/logs/none", "rb")
    with pytest.raises(IsADirectoryError, match="a folder"):
        fs.open("exp1/logs", "rb")
    with pytest.raises(IsADirectoryError):
        fs.open("exp1", "rb")
    with pytest.raises(FileNotFoundError, match="container 'nope'"):
        fs.open("nope/a", "rb")
    with pytest.raises(ValueError, match="mode 'ab'"):
        fs.open("exp1/top.txt", "ab")


# ---- writing ----

def test_a_written_file_appears_whole_on_close(fs: XtstoreFileSystem) -> None:
    with fs.open("exp1/out.bin", "wb") as f:
        f.write(b"part one, ")
        assert f.tell() == 10
        f.write(b"part two")
        assert not fs.exists("exp1/out.bin")
    assert fs.cat_file("exp1/out.bin") == b"part one, part two"
    fs.write_text("exp1/out.txt", "text\n")
    assert fs.cat_file("exp1/out.txt") == b"text\n"


def test_a_failed_write_leaves_the_old_content(fs: XtstoreFileSystem) -> None:
    with pytest.raises(RuntimeError), fs.open("exp1/top.txt", "wb") as f:
        f.write(b"half")
        raise RuntimeError("the writer failed")
    assert fs.cat_file("exp1/top.txt") == b"top"

    abandoned = fs.open("exp1/never.txt", "wb")
    abandoned.write(b"never closed")
    del abandoned
    assert not fs.exists("exp1/never.txt")


def test_a_transaction_makes_its_files_visible_at_its_end(fs: XtstoreFileSystem) -> None:
    with fs.transaction:
        with fs.open("exp1/tx/a", "wb") as f:
            f.write(b"a")
        assert not fs.exists("exp1/tx/a")
    assert fs.cat_file("exp1/tx/a") == b"a"

    with pytest.raises(RuntimeError), fs.transaction:
        with fs.open("exp1/tx/b", "wb") as f:
            f.write(b"b")
        raise RuntimeError("rolled back")
    assert not fs.exists("exp1/tx/b")


def test_exclusive_writes(fs: XtstoreFileSystem) -> None:
    with pytest.raises(FileExistsError, match="mode 'xb'"):
        fs.open("exp1/top.txt", "xb")
    with pytest.raises(FileExistsError, match=r"blob 'top\.txt'"):
        fs.pipe_file("exp1/top.txt", b"x", mode="create")
    assert fs.cat_file("exp1/top.txt") == b"top"
    with fs.open("exp1/fresh.txt", "xb") as f:
        f.write(b"fresh")
    assert fs.cat_file("exp1/fresh.txt") == b"fresh"


def test_writes_into_a_missing_container_fail_naming_it(fs: XtstoreFileSystem) -> None:
    with pytest.raises(FileNotFoundError, match=r"^service 'local', container 'nope', blob"
                                                r" 'a': container not found$"):
        fs.pipe_file("nope/a", b"x")
    with pytest.raises(FileNotFoundError, match="container 'nope'"):
        fs.open("nope/a", "wb")
    with pytest.raises(IsADirectoryError):
        fs.pipe_file("exp1", b"x")


# ---- containers, folders, deleting ----

def test_mkdir_makes_containers_and_folders_are_virtual(fs: XtstoreFileSystem) -> None:
    with pytest.raises(FileExistsError, match="container 'exp1'"):
        fs.mkdir("exp1")
    fs.mkdir("fresh/folder/inner")
    assert fs.ls("fresh") == []  # the container, no folder
    assert not fs.exists("fresh/folder")
    with pytest.raises(FileNotFoundError, match="no such container"):
        fs.mkdir("other/folder", create_parents=False)
    fs.makedirs("exp1/logs", exist_ok=True)
    with pytest.raises(FileExistsError):
        fs.makedirs("exp1/logs")
    with pytest.raises(FileExistsError):
        fs.makedirs("exp1")
    fs.makedirs("made/a/b")
    assert fs.ls("", detail=False) == ["exp1", "fresh", "made"]


def test_rmdir_deletes_only_empty_containers(fs: XtstoreFileSystem) -> None:
    with pytest.raises(OSError, match="not empty") as raised:
        fs.rmdir("exp1")
    assert raised.value.errno == errno.ENOTEMPTY
    with pytest.raises(OSError, match="folder is not empty"):
        fs.rmdir("exp1/logs")
    fs.rmdir("exp1/no-such-folder")  # nothing to remove
    fs.mkdir("empty")
    fs.rmdir("empty")
    assert not fs.exists("empty")
    with pytest.raises(FileNotFoundError):
        fs.rmdir("empty")


def test_rm_of_blobs_folders_and_containers(fs: XtstoreFileSystem) -> None:
    with pytest.raises(FileNotFoundError, match="blob 'gone'"):
        fs.rm("exp1/gone")
    with pytest.raises(IsADirectoryError):
        fs.rm("exp1/logs")
    fs.rm("exp1/top.txt")
    assert fs.find("exp1") == ["exp1/logs/a.txt", "exp1/logs/deep/b.txt"]
    fs.rm("exp1/logs/deep", recursive=True)
    assert fs.find("exp1") == ["exp1/logs/a.txt"]
    with pytest.raises(IsADirectoryError):
        fs.rm("exp1")
    fs.rm("xtstore://local:exp1", recursive=True)
    assert fs.ls("") == []


# ---- copies and transfers ----

def test_cp_file_within_a_service_is_the_store_s_copy(fs: XtstoreFileSystem,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    copies: list[tuple[str, ...]] = []
    original = Store.copy_blob

    def recorded(self: Store, *names: str) -> None:
        copies.append(names)
        original(self, *names)

    monkeypatch.setattr(Store, "copy_blob", recorded)
    fs.mkdir("exp2")
    fs.cp_file("exp1/logs/a.txt", "local:exp2/a-copy.txt")
    assert copies == [("exp1", "logs/a.txt", "exp2", "a-copy.txt")]
    assert fs.cat_file("exp2/a-copy.txt") == CONTENT
    fs.copy("exp1/logs", "exp2/logs-copy", recursive=True)
    assert fs.find("exp2") == ["exp2/a-copy.txt", "exp2/logs-copy/a.txt",
                               "exp2/logs-copy/deep/b.txt"]
    with pytest.raises(FileNotFoundError):
        fs.cp_file("exp1/missing", "exp2/x")


def test_cp_file_between_services_streams_the_content(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"one": file_service(tmp_path / "one"),
                                     "two": file_service(tmp_path / "two")}, "one")
    fs = XtstoreFileSystem(config=config)
    fs.mkdir("src")
    fs.mkdir("two:dst")
    fs.pipe_file("src/big.bin", CONTENT * 1000)
    fs.cp_file("src/big.bin", "two:dst/big.bin")
    assert fs.cat_file("two:dst/big.bin") == CONTENT * 1000
    assert fs.info("two:dst/big.bin")["size"] == len(CONTENT) * 1000


def test_put_and_get_of_many_files_run_on_the_transfer_engine(
        fs: XtstoreFileSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()
    for name in ("create_blob_from_path", "get_blob_to_path"):
        original = getattr(Store, name)

        def recorded(self: Store, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            threads.add(threading.current_thread().name.rpartition("_")[0])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Store, name, recorded)
    local = tmp_path / "local"
    (local / "sub").mkdir(parents=True)
    for index in range(12):
        (local / ("sub" if index % 2 else "") / f"f{index}.txt").write_text(str(index))

    fs.put(str(local), "exp1/uploaded", recursive=True)
    assert len(fs.find("exp1/uploaded")) == 12
    assert fs.cat_file("exp1/uploaded/sub/f3.txt") == b"3"
    fs.get("exp1/uploaded", str(tmp_path / "back"), recursive=True)
    assert sorted(p.relative_to(tmp_path / "back").as_posix()
                  for p in (tmp_path / "back").rglob("*.txt")) == sorted(
        p.relative_to(local).as_posix() for p in local.rglob("*.txt"))
    assert (tmp_path / "back" / "sub" / "f5.txt").read_text() == "5"
    assert threads == {"xtstore-transfer"}


def test_put_file_and_get_file_of_one_file(fs: XtstoreFileSystem, tmp_path: Path) -> None:
    source = tmp_path / "one.bin"
    source.write_bytes(CONTENT)
    sizes: list[int] = []

    class Sizes(fsspec.callbacks.Callback):
        def call(self, *args: Any, **kwargs: Any) -> None:
            sizes.append(self.value)

    fs.put_file(str(source), "exp1/one.bin", callback=Sizes())
    assert fs.cat_file("exp1/one.bin") == CONTENT and sizes[-1] == len(CONTENT)
    fs.get_file("exp1/one.bin", str(tmp_path / "deep" / "copy.bin"))
    assert (tmp_path / "deep" / "copy.bin").read_bytes() == CONTENT
    with pytest.raises(FileExistsError):
        fs.put_file(str(source), "exp1/one.bin", mode="create")


# ---- the filesystem object ----

def test_the_filesystem_pickles_without_its_stores(fs: XtstoreFileSystem) -> None:
    copy = pickle.loads(pickle.dumps(fs))
    assert copy.cat_file("exp1/top.txt") == b"top"
    assert b"Store" not in pickle.dumps(fs)


def test_instances_are_cached_by_their_options(file_config: str) -> None:
    first = fsspec.filesystem("xtstore", config=file_config)
    assert fsspec.filesystem("xtstore", config=file_config) is first
    assert fsspec.filesystem("xtstore", config=file_config, service="local") is not first


def run_python(code: str, **env: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env},
                            check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_xtstore_imports_no_fsspec_and_the_filesystem_no_sdk() -> None:
    assert run_python("import sys, xtstore; print('fsspec' in sys.modules)") == "False"
    assert run_python(
        "import sys, xtstore.filesystem;"
        " print(sorted(m for m in ('boto3', 'botocore', 'azure', 'pandas', 'pyarrow')"
        " if m in sys.modules))") == "[]"


def test_fsspec_finds_the_filesystem_through_the_entry_point(tmp_path: Path) -> None:
    """The entry point as pyproject.toml declares it, installed as a distribution's metadata
    is: fsspec's own start-up registers it."""
    lines = (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index('[project.entry-points."fsspec.specs"]')
    entries = [line for line in lines[start + 1:] if line.strip()]
    entry = entries[0]
    assert entry == 'xtstore = "xtstore.filesystem:XtstoreFileSystem"'
    info = tmp_path / "site" / "xtstore_entry-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xtstore-entry\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[fsspec.specs]\n" + entry.replace('"', "") + "\n")
    site = tmp_path / "site"
    found = run_python(
        "import fsspec, xtstore.filesystem as f;"
        " print(fsspec.get_filesystem_class('xtstore') is f.XtstoreFileSystem)",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(site)]))
    assert found == "True"
