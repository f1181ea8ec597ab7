"""``du ADDRESS``: size and blob count per folder, then the total; depth, summary, human
sizes, filters and JSON; the sums stream (a folder is printed once its last blob went by)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok, one_error_line
from xtstore.cli.cmd_du import Usage, folder_usage

TREE = {
    "exp1/run1/log.txt": b"l" * 10,
    "exp1/run1/ckpt/e1.pt": b"c" * 1000,
    "exp1/run1/ckpt/e2.pt": b"c" * 1000,
    "exp1/run2/log.txt": b"l" * 20,
    "exp2/log.txt": b"l" * 5,
    "top.txt": b"t" * 3,
}


def _pairs(usages: Iterator[Usage]) -> list[tuple[str, int, int]]:
    return [(usage.path, usage.size, usage.blobs) for usage in usages]


def test_folder_usage_is_post_order_per_depth() -> None:
    blobs = [("a/x/1", 1), ("a/x/2", 2), ("a/y", 4), ("b/z/3", 8), ("c", 16)]
    assert _pairs(folder_usage(blobs, 0)) == [("", 31, 5)]
    assert _pairs(folder_usage(blobs, 1)) == [("a/", 7, 3), ("b/", 8, 1), ("", 31, 5)]
    assert _pairs(folder_usage(blobs, 2)) == [
        ("a/x/", 3, 2), ("a/", 7, 3), ("b/z/", 8, 1), ("b/", 8, 1), ("", 31, 5)]
    assert _pairs(folder_usage([], 1)) == [("", 0, 0)]
    # Sorted names put 'a.b/...' and 'a-b/...' around 'a/...': still one entry per folder.
    assert _pairs(folder_usage([("a-b/1", 1), ("a.b/2", 2), ("a/3", 4), ("a/4", 8)], 1)) == [
        ("a-b/", 1, 1), ("a.b/", 2, 1), ("a/", 12, 2), ("", 15, 4)]


def test_folder_usage_streams() -> None:
    consumed = 0

    def blobs() -> Iterator[tuple[str, int]]:
        nonlocal consumed
        for index in range(1_000_000):
            consumed += 1
            yield f"f{index:07d}/blob", 1

    usages = folder_usage(blobs(), 1)
    assert next(usages) == Usage("f0000000/", 1, 1)
    assert consumed == 2  # the second folder's first blob closed the first folder


@pytest.fixture
def runs(xt: Runner, services: Services) -> str:
    make_tree(services.work / "src", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("-q", "upload", "src/exp1", "src/exp2", "src/top.txt", "runs"))
    return "runs"


def _table(text: str) -> list[tuple[str, str, str]]:
    rows = []
    for line in text.splitlines():
        *size, blobs, path = line.split()
        rows.append((" ".join(size), blobs, path))
    return rows


def test_du_one_level_by_default_then_the_total(xt: Runner, runs: str) -> None:
    assert _table(ok(xt("du", "runs"))) == [
        ("2030", "4", "runs/exp1/"), ("5", "1", "runs/exp2/"), ("2038", "6", "runs")]
    assert _table(ok(xt("du", "runs/exp1"))) == [
        ("2010", "3", "runs/exp1/run1/"), ("20", "1", "runs/exp1/run2/"),
        ("2030", "4", "runs/exp1")]


def test_du_depth_summary_and_human(xt: Runner, runs: str) -> None:
    assert _table(ok(xt("du", "-d", "2", "runs/exp1"))) == [
        ("2000", "2", "runs/exp1/run1/ckpt/"), ("2010", "3", "runs/exp1/run1/"),
        ("20", "1", "runs/exp1/run2/"), ("2030", "4", "runs/exp1")]
    assert _table(ok(xt("du", "--max-depth", "0", "runs"))) == [("2038", "6", "runs")]
    assert _table(ok(xt("du", "-s", "runs/exp1/"))) == [("2030", "4", "runs/exp1")]
    assert _table(ok(xt("du", "-sh", "runs"))) == [("2.0 KiB", "6", "runs")]
    assert _table(ok(xt("du", "--human", "runs/exp2"))) == [("5 B", "1", "runs/exp2")]
    # One blob: its own size.
    assert _table(ok(xt("du", "runs/top.txt"))) == [("3", "1", "runs/top.txt")]


def test_du_filters_and_json(xt: Runner, runs: str) -> None:
    assert _table(ok(xt("du", "runs/exp1", "--exclude", "*.pt"))) == [
        ("10", "1", "runs/exp1/run1/"), ("20", "1", "runs/exp1/run2/"),
        ("30", "2", "runs/exp1")]
    assert _table(ok(xt("du", "runs", "--include", "exp1/run1/**"))) == [
        ("2010", "3", "runs/exp1/"), ("2010", "3", "runs")]
    listed = json.loads(ok(xt("du", "runs", "--json")))
    assert listed == [{"path": "runs/exp1/", "size": 2030, "blobs": 4},
                      {"path": "runs/exp2/", "size": 5, "blobs": 1},
                      {"path": "runs", "size": 2038, "blobs": 6}]
    assert json.loads(ok(xt("--json", "du", "-s", "runs"))) == [
        {"path": "runs", "size": 2038, "blobs": 6}]


def test_du_of_an_empty_container_and_of_nothing(xt: Runner, runs: str) -> None:
    ok(xt("containers", "create", "empty"))
    assert _table(ok(xt("du", "empty"))) == [("0", "0", "empty")]
    line = one_error_line(xt("du", "runs/exp9"))
    assert "blob 'exp9': no blob or folder by this name" in line
    assert "see 'xtstore ls local:runs'" in line
    line = one_error_line(xt("du", "nosuch"))
    assert "container 'nosuch': container not found" in line
    one_error_line(xt("du", "runs/exp*"), code=2)
