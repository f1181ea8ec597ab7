"""Content types through the console script: ``upload`` guesses each blob's from its name,
``--content-type`` sets one for every file of an upload, ``props`` shows it, and ``cp``
between two services keeps it."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok

TREE = {
    "log.txt": b"epoch 1\n",
    "metrics/acc.csv": b"step,acc\n1,0.9\n",
    "data/train.parquet": b"PAR1",
    "model.pt": b"\x80\x02weights",
}


def content_type(xt: Runner, address: str) -> str | None:
    found: str | None = json.loads(ok(xt("--json", "props", address)))["content_type"]
    return found


def test_upload_guesses_each_content_type_from_the_name(xt: Runner,
                                                        services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "run1", "runs/exp1"))
    assert {name: content_type(xt, f"runs/exp1/{name}") for name in TREE} == {
        "log.txt": "text/plain",
        "metrics/acc.csv": "text/csv",
        "data/train.parquet": "application/vnd.apache.parquet",
        "model.pt": "application/octet-stream",
    }


def test_upload_content_type_sets_it_for_every_file(xt: Runner, services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "--content-type", "application/x-run; version=2", "run1", "runs/exp1"))
    assert {content_type(xt, f"runs/exp1/{name}") for name in TREE} == {
        "application/x-run; version=2"}
    assert re.search(r"^content type: +application/x-run; version=2$",
                     ok(xt("props", "runs/exp1/log.txt")), re.MULTILINE)
    # ...and cp to another service keeps it, where the new name would guess text/csv.
    ok(xt("containers", "create", "other:backup"))
    ok(xt("cp", "runs/exp1/log.txt", "other:backup/copied.csv"))
    assert content_type(xt, "other:backup/copied.csv") == "application/x-run; version=2"


def test_a_bad_content_type_is_a_usage_error_before_any_upload(xt: Runner,
                                                               services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    result = xt("upload", "--content-type", "text", "run1", "runs/exp1")
    assert result.returncode == 2
    assert b"--content-type" in result.stderr and b"not a content type" in result.stderr
    assert ok(xt("ls", "-r", "runs")).split() == []
