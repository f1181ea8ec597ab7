"""XT's own ``FileStore`` (``xtlib.storage.store_file.FileStore`` from xtlib 1.0.0, as shipped)
loaded as a user provider through ``providers.storage`` in an ``xt_config.yaml``, and every
command ``xtstore --help`` lists run on it in XT's environment.

XT's FileStore has real flaws (text-mode, non-atomic writes; whole-file downloads; a print in
``get_blob_to_path``; bags, ``os.stat_result`` and ``None`` where values are due): every
command must still do its job, or fail with one typed ``xtstore: error:`` line, never a
traceback or a raw ``AttributeError``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.xt.conftest import REPO

XT_FILESTORE = "xtlib.storage.store_file.FileStore"
RAW_ERRORS = ("Traceback", "AttributeError", "TypeError", "KeyError", "NameError")
CONTENT = {"a.txt": b"alpha\n", "sub/b.bin": b"\x00\x01\xfe\xffbinary", "sub/deep/c.txt": b"c"}


@dataclass
class XtCli:
    """``python -m xtstore`` with XT's interpreter, this checkout's xtstore first."""

    python: Path
    work: Path
    env: dict[str, str]
    ran: set[str] = field(default_factory=set)

    def __call__(self, *args: str, input: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        words = [arg for arg in args if not arg.startswith("-")]
        command = words[0] if words else "--help"
        if command == "containers" and len(words) > 1 and words[1] in _CONTAINER_COMMANDS:
            command = f"containers {words[1]}"
        self.ran.add(command)
        return subprocess.run([str(self.python), "-m", "xtstore", *args], input=input,
                              capture_output=True, cwd=self.work, env=self.env, timeout=120,
                              check=False)

    def ok(self, *args: str, input: bytes = b"") -> bytes:
        result = self(*args, input=input)
        stderr = result.stderr.decode()
        assert result.returncode == 0, (args, stderr)
        assert "xtstore: error" not in stderr and not any(raw in stderr for raw in RAW_ERRORS)
        return result.stdout

    def text(self, *args: str) -> str:
        return self.ok(*args).decode()

    def fails(self, *args: str, code: int = 1, says: str = "") -> str:
        """The one error line of a run that must fail cleanly."""
        result = self(*args)
        stderr = result.stderr.decode()
        assert result.returncode == code, (args, result.returncode, stderr)
        errors = [line for line in stderr.splitlines() if line.startswith("xtstore: error: ")]
        assert len(errors) == 1, stderr
        assert not any(raw in stderr for raw in RAW_ERRORS), stderr
        assert says in errors[0], errors[0]
        return errors[0]


_CONTAINER_COMMANDS = ("list", "create", "props", "delete")


@pytest.fixture
def cli(xtlib_python: Path, tmp_path: Path) -> XtCli:
    work = tmp_path / "work"
    work.mkdir()
    (work / "xt_config.yaml").write_text(
        "providers:\n"
        f"    storage: {{xt-file: {XT_FILESTORE}}}\n"
        "external-services:\n"
        f"    xtfs: {{type: storage, provider: xt-file, path: '{tmp_path / 'xt-one'}'}}\n"
        f"    xtfs2: {{type: storage, provider: xt-file, path: '{tmp_path / 'xt-two'}'}}\n"
        f"    local: {{type: storage, provider: store-file, path: '{tmp_path / 'local'}'}}\n"
        "xt-services: {storage: xtfs}\n",
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("XTSTORE")}
    env.update({"HOME": str(tmp_path / "home"), "COLUMNS": "200",
                "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])})
    return XtCli(xtlib_python, work, env)


def _listed_commands(cli: XtCli) -> set[str]:
    def commands(help_text: str) -> list[str]:
        section = help_text.split("Commands:", 1)[1]
        return re.findall(r"^  (\S+)", section, flags=re.MULTILINE)

    top = commands(cli.text("--help"))
    nested = commands(cli.text("containers", "--help"))
    return {name for name in top if name != "containers"} | {
        f"containers {name}" for name in nested} | {"containers"}


def _tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_every_cli_command_works_on_xts_own_filestore(cli: XtCli, tmp_path: Path) -> None:
    listed = _listed_commands(cli)
    source = cli.work / "data"
    for relative, data in CONTENT.items():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_bytes(data)
    (cli.work / "f.txt").write_bytes(b"first\n")

    # config, services, providers
    config = cli.text("config")
    assert "providers.storage.xt-file" in config and XT_FILESTORE in config
    services = cli.text("services")
    assert re.search(r"\*\s+xtfs\s+xt-file", services), services
    assert "xt-file" in cli.text("providers")

    # containers
    cli.ok("containers", "create", "runs")
    cli.fails("containers", "create", "runs", says="container 'runs': container already exists")
    cli.ok("containers", "create", "--exist-ok", "runs")
    assert cli.text("containers").split() == ["runs"]
    assert cli.text("containers", "list").split() == ["runs"]
    props = cli.text("containers", "props", "runs")
    assert re.search(r"name:\s+runs", props) and "last modified:" in props
    assert json.loads(cli.text("--json", "props", "runs"))["name"] == "runs"

    # upload a file and a folder; ls in every form
    cli.ok("-q", "upload", "f.txt", "runs/f.txt")
    cli.ok("-q", "upload", "data", "runs/data")
    assert cli.text("ls", "runs").split() == ["data/", "f.txt"]
    assert cli.text("ls", "runs/data").split() == ["data/a.txt", "data/sub/"]
    assert cli.text("ls", "-r", "runs").split() == [
        "data/a.txt", "data/sub/b.bin", "data/sub/deep/c.txt", "f.txt"]
    long_lines = cli.text("ls", "-l", "-r", "runs").splitlines()
    assert [line.split()[0] for line in long_lines] == ["6", "10", "1", "6"]
    assert cli.text("du", "runs").split() == ["17", "3", "runs/data/", "23", "4", "runs"]
    assert cli.text("ls", "-l", "runs").splitlines()[0].split() == ["-", "-", "data/"]
    assert cli.text("ls", "--subdirs", "1", "runs/data").split() == [
        "data/a.txt", "data/sub/b.bin", "data/sub/deep/"]
    assert cli.text("ls", "runs/data/**/*.txt").split() == ["data/a.txt", "data/sub/deep/c.txt"]
    entries = json.loads(cli.text("--json", "ls", "-r", "runs"))
    assert {entry["name"]: entry["size"] for entry in entries}["data/sub/b.bin"] == 10
    assert all(entry["etag"] for entry in entries)

    # props and meta
    blob = json.loads(cli.text("--json", "props", "runs/data/sub/b.bin"))
    assert blob["size"] == 10 and blob["etag"] and blob["metadata"] == {}
    assert "size:" in cli.text("props", "runs/f.txt")
    cli.fails("props", "runs/data", says="it is a folder")
    assert cli.text("meta", "runs/f.txt") == ""
    cli.fails("meta", "runs/f.txt", "owner=me", says="cannot set blob metadata")

    # cat and download - carry only the blob's bytes (the provider's print goes to stderr)
    for args in (("cat", "runs/data/sub/b.bin"), ("download", "runs/data/sub/b.bin", "-")):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        assert result.stdout == CONTENT["sub/b.bin"]
        assert b"get_blob_to_path: full source path=" in result.stderr

    # download a file and a folder
    cli.ok("-q", "download", "runs/f.txt", str(tmp_path / "one" / "f.txt"))
    assert (tmp_path / "one" / "f.txt").read_bytes() == b"first\n"
    cli.ok("-q", "download", "runs/data", str(tmp_path / "folder"))
    assert _tree(tmp_path / "folder") == CONTENT

    # append: text, and stdin
    cli.ok("append", "runs/log.txt", "line 1\n")
    cli.ok("append", "runs/log.txt", input=b"line 2\n")
    assert cli.ok("cat", "runs/log.txt") == b"line 1\nline 2\n"

    # snapshot: an id to read back the old content
    snapshot = cli.text("snapshot", "runs/f.txt").strip()
    assert snapshot
    (cli.work / "f.txt").write_bytes(b"second\n")
    cli.ok("-q", "upload", "f.txt", "runs/f.txt")
    assert cli.ok("cat", "runs/f.txt") == b"second\n"
    assert cli.ok("cat", "--snapshot", snapshot, "runs/f.txt") == b"first\n"
    assert cli.ok("cat", "runs/f.txt") == b"second\n"
    cli.fails("snapshot", "--list", "runs/f.txt", says="cannot list snapshots")

    # cp within the service (also into folders that do not exist yet) and across services
    cli.ok("-q", "cp", "runs/f.txt", "runs/g.txt")
    assert cli.ok("cat", "runs/g.txt") == b"second\n"
    cli.ok("-q", "cp", "runs/data", "runs/copy")
    assert cli.ok("cat", "runs/copy/sub/b.bin") == CONTENT["sub/b.bin"]
    cli.ok("containers", "create", "local:runs", "xtfs2:runs")
    cli.ok("-q", "cp", "runs/data", "local:runs/data")
    assert _tree(tmp_path / "local" / "runs" / "data") == CONTENT
    cli.ok("-q", "cp", "local:runs/data/sub/b.bin", "runs/from-local/b.bin")
    assert cli.ok("cat", "runs/from-local/b.bin") == CONTENT["sub/b.bin"]
    cli.ok("-q", "cp", "runs/data", "xtfs2:runs/data")
    assert cli.ok("cat", "xtfs2:runs/data/sub/deep/c.txt") == b"c"

    # sync and check a local folder onto XT's store (no metadata there: times by
    # last_modified), a re-run copies nothing; mv a blob
    first = json.loads(cli.text("--json", "sync", str(tmp_path / "folder"), "runs/synced"))
    assert first["copied"] == len(CONTENT) and not first["failed"]
    again = json.loads(cli.text("--json", "sync", str(tmp_path / "folder"), "runs/synced"))
    assert again["copied"] == 0 and again["skipped"] == len(CONTENT)
    cli.ok("check", str(tmp_path / "folder"), "runs/synced")
    cli.ok("-q", "mv", "runs/from-local/b.bin", "runs/moved/b.bin")
    assert cli.ok("cat", "runs/moved/b.bin") == CONTENT["sub/b.bin"]
    cli.fails("cat", "runs/from-local/b.bin", says="no blob or folder by this name")

    # rm: a blob, a folder (-r), a missing blob; a missing blob read
    cli.ok("rm", "runs/g.txt")
    cli.fails("cat", "runs/g.txt", says="blob 'g.txt': no blob or folder by this name")
    cli.fails("rm", "runs/copy", code=2, says="use -r")
    cli.ok("rm", "-r", "-y", "runs/copy")
    remaining = cli.text("ls", "-r", "runs").split()
    assert not any(name.startswith("copy/") for name in remaining)
    assert "data/sub/b.bin" in remaining
    cli.fails("rm", "runs/missing.txt", says="blob 'missing.txt'")
    cli.fails("cat", "nothere/x", says="container 'nothere', blob 'x': container not found")

    # delete containers: with 'containers delete' and with 'rm -r'
    cli.ok("containers", "delete", "-y", "xtfs2:runs")
    assert cli.text("containers", "list", "xtfs2").split() == []
    cli.fails("containers", "delete", "-y", "xtfs2:runs", says="container not found")
    cli.ok("rm", "-r", "-y", "runs")
    assert cli.text("containers").split() == []

    # check-provider on the class itself, as a provider author runs it
    check = cli("check-provider", XT_FILESTORE, "-o", f"path={tmp_path / 'checked'}",
                "-k", "container")
    report = check.stdout.decode() + check.stderr.decode()
    assert check.returncode in (0, 1), report
    assert "passed" in report and "Traceback" not in report

    assert listed <= cli.ran, f"commands not run: {sorted(listed - cli.ran)}"
