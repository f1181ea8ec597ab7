"""ls, cat, append, rm, snapshot, props and meta through the console script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli.conftest import Runner, Services, xtstore_command
from tests.cli.helpers import make_tree, ok, one_error_line

TREE = {
    "exp1/log.txt": b"line 1\n",
    "exp1/sub/a.txt": b"a",
    "exp1/sub/deeper/b.txt": b"bb",
    "exp2/log.txt": b"other\n",
    "exp10/log.txt": b"ten\n",
    "top.bin": bytes(range(256)),
}


@pytest.fixture
def runs(xt: Runner, services: Services) -> str:
    make_tree(services.work / "src", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("-q", "upload", "src/exp1", "src/exp2", "src/exp10", "src/top.bin", "runs"))
    return "runs"


def test_ls_levels_and_wildcards(xt: Runner, runs: str) -> None:
    assert ok(xt("ls", "runs")).split() == ["exp1/", "exp10/", "exp2/", "top.bin"]
    assert ok(xt("ls", "runs/exp1")).split() == ["exp1/log.txt", "exp1/sub/"]
    assert ok(xt("ls", "-r", "runs/exp1")).split() == [
        "exp1/log.txt", "exp1/sub/a.txt", "exp1/sub/deeper/b.txt"]
    assert ok(xt("ls", "--subdirs", "1", "runs/exp1")).split() == [
        "exp1/log.txt", "exp1/sub/a.txt", "exp1/sub/deeper/"]
    # A folder never matches a longer name ('exp1' is not 'exp10').
    assert "exp10/log.txt" not in ok(xt("ls", "-r", "runs/exp1"))
    assert ok(xt("ls", "runs/exp?")).split() == ["exp1/", "exp2/"]
    assert ok(xt("ls", "runs/*/log.txt")).split() == [
        "exp1/log.txt", "exp10/log.txt", "exp2/log.txt"]
    assert ok(xt("ls", "runs/**/*.txt")).split() == [
        "exp1/log.txt", "exp1/sub/a.txt", "exp1/sub/deeper/b.txt", "exp10/log.txt",
        "exp2/log.txt"]
    assert ok(xt("ls", "runs/top.bin")).split() == ["top.bin"]


def test_ls_long_and_json(xt: Runner, runs: str) -> None:
    lines = ok(xt("ls", "-l", "runs")).splitlines()
    top = next(line for line in lines if line.endswith("top.bin"))
    size, day, clock, _name = top.split()
    assert size == "256" and len(day) == 10 and len(clock) == 8
    assert any(line.split()[-1] == "exp1/" for line in lines)
    entries = json.loads(ok(xt("--json", "ls", "runs")))
    by_name = {entry["name"]: entry for entry in entries}
    assert by_name["top.bin"]["size"] == 256 and by_name["top.bin"]["is_dir"] is False
    assert by_name["top.bin"]["last_modified"].endswith("+00:00")
    assert by_name["exp1/"]["is_dir"] is True


def test_ls_without_address_lists_containers(xt: Runner, runs: str) -> None:
    ok(xt("containers", "create", "other:backup"))
    assert ok(xt("ls")).split() == ["runs"]
    assert ok(xt("ls", "other:")).split() == ["backup"]
    assert json.loads(ok(xt("--json", "--service", "other", "ls"))) == ["backup"]


def test_cat_writes_exact_bytes(xt: Runner, runs: str, services: Services) -> None:
    data = bytes(range(256)) * 1000 + b"\r\n\x00end"
    (services.work / "raw.bin").write_bytes(data)
    ok(xt("upload", "raw.bin", "runs/raw.bin"))
    assert xt("cat", "runs/raw.bin").stdout == data
    assert xt("cat", "runs/top.bin").stdout == TREE["top.bin"]


def test_append_text_and_stdin(xt: Runner, runs: str) -> None:
    ok(xt("append", "runs/exp1/log.txt", "line 2\n"))
    ok(xt("append", "runs/exp1/log.txt", input="line 3 é\n".encode()))
    ok(xt("append", "runs/exp1/log.txt", "-", input=b"line 4\n"))
    ok(xt("append", "--rewrite", "runs/new.txt", "created\n"))
    assert xt("cat", "runs/exp1/log.txt").stdout == "line 1\nline 2\nline 3 é\nline 4\n".encode()
    assert xt("cat", "runs/new.txt").stdout == b"created\n"


def test_rm_blob_folder_and_container(xt: Runner, runs: str) -> None:
    ok(xt("rm", "runs/top.bin"))
    assert "top.bin" not in ok(xt("ls", "runs"))
    refused = xt("rm", "runs/exp1")
    line = one_error_line(refused, code=2)
    assert "-r" in line
    ok(xt("rm", "-r", "runs/exp1"))  # stdin is not a terminal: no question
    assert ok(xt("ls", "runs")).split() == ["exp10/", "exp2/"]
    one_error_line(xt("rm", "runs/exp1*"), code=2)  # matches the folder exp10/
    ok(xt("rm", "runs/**/log.txt"))  # blobs in folders, not whole folders: no -r needed
    assert ok(xt("ls", "-r", "runs")).split() == []
    ok(xt("append", "runs/exp1/a.txt", "a"))
    ok(xt("append", "runs/exp10/b.txt", "b"))
    ok(xt("rm", "-r", "runs/exp1*"))
    assert ok(xt("ls", "runs")).split() == []
    one_error_line(xt("rm", "runs"), code=2)
    ok(xt("rm", "-r", "--yes", "runs"))
    assert ok(xt("containers")).split() == []


def test_snapshot_create_list_read_delete(xt: Runner, runs: str) -> None:
    snapshot = ok(xt("snapshot", "runs/exp1/log.txt")).strip()
    ok(xt("append", "runs/exp1/log.txt", "after\n"))
    assert xt("cat", "--snapshot", snapshot, "runs/exp1/log.txt").stdout == b"line 1\n"
    assert xt("cat", "runs/exp1/log.txt").stdout == b"line 1\nafter\n"
    listed = json.loads(ok(xt("--json", "snapshot", "--list", "runs/exp1/log.txt")))
    assert [entry["snapshot"] for entry in listed] == [snapshot]
    made = json.loads(ok(xt("--json", "snapshot", "runs/exp1/log.txt")))
    assert made["blob"] == "exp1/log.txt" and made["snapshot"] != snapshot
    ok(xt("rm", "--snapshot", snapshot, "runs/exp1/log.txt"))
    listed = json.loads(ok(xt("--json", "snapshot", "--list", "runs/exp1/log.txt")))
    assert [entry["snapshot"] for entry in listed] == [made["snapshot"]]
    # Snapshots never show in listings.
    assert ok(xt("ls", "runs/exp1")).split() == ["exp1/log.txt", "exp1/sub/"]


def test_props_and_meta(xt: Runner, runs: str) -> None:
    props = json.loads(ok(xt("--json", "props", "runs/top.bin")))
    assert props["size"] == 256 and props["name"] == "top.bin" and props["etag"]
    assert "size:" in ok(xt("props", "runs/top.bin"))
    ok(xt("meta", "runs/top.bin", "owner=ana", "epoch=3"))
    ok(xt("meta", "runs/top.bin", "epoch=4", "--delete", "owner"))
    # The upload kept the file's modification time beside the keys set here.
    metadata = json.loads(ok(xt("--json", "meta", "runs/top.bin")))
    assert metadata.pop("mtime") and metadata == {"epoch": "4"}
    assert ok(xt("meta", "runs/top.bin")).split()[:3] == ["epoch:", "4", "mtime:"]
    properties = json.loads(ok(xt("--json", "props", "runs/top.bin")))
    assert set(properties["metadata"]) == {"epoch", "mtime"}
    ok(xt("meta", "runs", "team=vision"))
    container = json.loads(ok(xt("--json", "props", "runs")))
    assert container["name"] == "runs" and container["metadata"] == {"team": "vision"}
    ok(xt("meta", "--replace", "runs", "a=1"))
    assert json.loads(ok(xt("--json", "meta", "runs"))) == {"a": "1"}


def test_python_dash_m_works_too(services: Services) -> None:
    result = subprocess.run([sys.executable, "-m", "xtstore", "--help"], capture_output=True,
                            env=services.env, timeout=60, check=False)
    assert result.returncode == 0 and b"check-provider" in result.stdout


def test_cat_into_a_reader_that_stops_early_is_not_an_error(
    xt: Runner, runs: str, services: Services
) -> None:
    (services.work / "big.bin").write_bytes(b"x" * (8 * 1024 * 1024))
    ok(xt("-q", "upload", "big.bin", "runs/big.bin"))
    process = subprocess.Popen([*xtstore_command(), "cat", "runs/big.bin"], env=services.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10) == b"x" * 10
    process.stdout.close()  # like `| head -c 10`
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""
