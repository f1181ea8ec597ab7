"""``ls -lh`` (and ``-h``, ``-H``, ``--human``) prints human sizes; ``--include`` /
``--exclude`` on ``ls`` match the path below the listed folder (docs/cli.md "ls")."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok

TREE = {
    "exp1/log.txt": b"x" * 100,
    "exp1/model.pt": b"m" * 3 * 1024 * 1024,
    "exp1/ckpt/e1.pt": b"c" * 1536,
    "exp1/ckpt/e2.pt": b"c" * 2048,
    "exp1/tmp/scratch.bin": b"s",
}


@pytest.fixture
def runs(xt: Runner, services: Services) -> str:
    make_tree(services.work / "src", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("-q", "upload", "src/exp1", "runs"))
    return "runs"


def _sizes(text: str) -> dict[str, str]:
    """name -> the size column of ``ls -l`` lines (a human size is two words)."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        found[words[-1]] = "-" if words[:2] == ["-", "-"] else " ".join(words[:-3])
    return found


def test_ls_lh_prints_human_sizes_and_exits_0(xt: Runner, runs: str) -> None:
    # Before 2.5, -h was --help: 'ls -lh' printed the help text and exited 0.
    result = xt("ls", "-lh", "runs/exp1")
    text = ok(result)
    assert "Usage:" not in text
    assert _sizes(text) == {"exp1/ckpt/": "-", "exp1/log.txt": "100 B",
                            "exp1/model.pt": "3.0 MiB", "exp1/tmp/": "-"}
    for flags in (["-l", "-h"], ["-l", "--human"], ["-H", "-l"], ["-h"], ["-rH"]):
        listed = _sizes(ok(xt("ls", *flags, "runs/exp1/ckpt")))
        assert listed == {"exp1/ckpt/e1.pt": "1.5 KiB", "exp1/ckpt/e2.pt": "2.0 KiB"}, flags
    # Without -h the sizes stay exact bytes; JSON always carries bytes.
    assert _sizes(ok(xt("ls", "-l", "runs/exp1/ckpt")))["exp1/ckpt/e1.pt"] == "1536"
    entries = json.loads(ok(xt("--json", "ls", "-lh", "runs/exp1/ckpt")))
    assert [entry["size"] for entry in entries] == [1536, 2048]


def test_ls_include_and_exclude_match_below_the_listed_path(xt: Runner, runs: str) -> None:
    listed = ok(xt("ls", "-r", "runs/exp1", "--include", "*.pt")).split()
    assert listed == ["exp1/ckpt/e1.pt", "exp1/ckpt/e2.pt", "exp1/model.pt"]
    # Anchored at the listed folder, not at the container: 'ckpt/*' is exp1/ckpt/*.
    assert ok(xt("ls", "-r", "runs/exp1", "--include", "ckpt/*")).split() == [
        "exp1/ckpt/e1.pt", "exp1/ckpt/e2.pt"]
    assert ok(xt("ls", "-r", "runs", "--include", "ckpt/*")).split() == []
    assert ok(xt("ls", "-r", "runs", "--include", "exp1/ckpt/*")).split() == [
        "exp1/ckpt/e1.pt", "exp1/ckpt/e2.pt"]
    assert ok(xt("ls", "-r", "runs/exp1", "--exclude", "tmp/", "--exclude", "*.pt")
              ).split() == ["exp1/log.txt"]
    assert ok(xt("ls", "-r", "runs/exp1", "--include", "*.{txt,bin}")).split() == [
        "exp1/log.txt", "exp1/tmp/scratch.bin"]


def test_ls_filters_at_one_level_keep_folders_unless_excluded(xt: Runner, runs: str) -> None:
    # A folder entry may hold what an include takes: it stays; an exclude of it drops it.
    assert ok(xt("ls", "runs/exp1", "--include", "*.pt")).split() == [
        "exp1/ckpt/", "exp1/model.pt", "exp1/tmp/"]
    assert ok(xt("ls", "runs/exp1", "--exclude", "tmp/")).split() == [
        "exp1/ckpt/", "exp1/log.txt", "exp1/model.pt"]
    # With a pattern address, the filter matches below the pattern's literal part.
    assert ok(xt("ls", "runs/exp1/**/*.pt", "--exclude", "ckpt/e2.pt")).split() == [
        "exp1/ckpt/e1.pt", "exp1/model.pt"]


def test_ls_filter_that_takes_nothing_is_empty_not_an_error(xt: Runner, runs: str) -> None:
    result = xt("ls", "-r", "runs/exp1", "--include", "*.nothing")
    assert ok(result) == "" and result.stderr == b""
