"""``mv`` (docs/cli.md "upload, download, cp, mv"): copy, then delete each source blob only
once its copy succeeded; cp's naming, filters, dry run and keep-going rules."""

from __future__ import annotations

import json

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok, one_error_line

TREE = {"a.txt": b"alpha\n", "b.csv": b"x,y\n", "sub/c.txt": b"gamma\n"}


def _names(xt: Runner, address: str) -> list[str]:
    return sorted(ok(xt("ls", "-r", address)).split())


def _setup(xt: Runner, services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "run1", "runs/run1"))


def test_mv_within_a_service_and_across_services(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    result = xt("mv", "runs/run1", "runs/moved")
    ok(result)
    assert result.stderr.decode().startswith("xtstore: moved: 3 copied (16 B), 3 deleted in ")
    assert _names(xt, "runs") == sorted(f"moved/{name}" for name in TREE)
    ok(xt("containers", "create", "other:backup"))
    ok(xt("mv", "runs/moved/sub/c.txt", "other:backup/c.txt"))
    assert xt("cat", "other:backup/c.txt").stdout == TREE["sub/c.txt"]
    assert "moved/sub/c.txt" not in _names(xt, "runs")
    # Into an existing folder by name, as cp does.
    ok(xt("mv", "runs/moved", "other:backup/"))
    assert _names(xt, "other:backup") == ["c.txt", "moved/a.txt", "moved/b.csv"]
    assert _names(xt, "runs") == []


def test_a_failed_copy_deletes_nothing(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    ok(xt("upload", "run1/a.txt", "runs/dest/run1/sub"))  # a blob where the folder 'sub' must go
    result = xt("mv", "-w", "1", "runs/run1", "runs/dest")
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 2 and lines[0].startswith("xtstore: error: dest/run1/sub/c.txt: "), lines
    assert lines[1].startswith("xtstore: moved: 2 copied (10 B), 2 deleted, 1 failed in ")
    assert _names(xt, "runs") == ["dest/run1/a.txt", "dest/run1/b.csv", "dest/run1/sub",
                                "run1/sub/c.txt"]


def test_mv_dry_run_filters_and_refusals(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    result = xt("mv", "-n", "--include", "*.txt", "runs/run1", "runs/txt")
    assert ok(result).splitlines() == [
        "copy runs/run1/a.txt -> runs/txt/a.txt (6 B)",
        "delete runs/run1/a.txt",
        "copy runs/run1/sub/c.txt -> runs/txt/sub/c.txt (6 B)",
        "delete runs/run1/sub/c.txt",
    ]
    assert result.stderr.decode() == "xtstore: dry run: would copy 2 files (12 B), delete 2\n"
    assert _names(xt, "runs") == sorted(f"run1/{name}" for name in TREE)
    plan = json.loads(ok(xt("--json", "mv", "-n", "runs/run1/b.csv", "runs/b.csv")))
    assert plan == [{"action": "copy", "source": "runs/run1/b.csv", "dest": "runs/b.csv",
                     "size": 4}, {"action": "delete", "dest": "runs/run1/b.csv"}]
    ok(xt("mv", "--include", "*.txt", "runs/run1", "runs/txt"))
    assert _names(xt, "runs") == ["run1/b.csv", "txt/a.txt", "txt/sub/c.txt"]
    # A blob onto itself would be deleted after its copy: refused.
    line = one_error_line(xt("mv", "runs/run1/b.csv", "runs/run1/b.csv"))
    assert "'runs/run1/b.csv' is its own destination" in line
    # The re-run nest rule, as for cp.
    ok(xt("cp", "runs/txt", "runs/keep/txt"))
    line = one_error_line(xt("mv", "runs/txt", "runs/keep/txt"))
    assert "'runs/keep/txt' already holds a copy of 'txt'" in line
    assert "txt/a.txt" in _names(xt, "runs")
    assert xt("cat", "runs/run1/b.csv").stdout == TREE["b.csv"]
