"""``xtstore sync`` through the console script: local -> store, store -> local, store -> store,
within and across services (store-file, S3 on moto, Azure on Azurite).

Each pair runs the same story: the first run copies everything, a second copies nothing (the
--json summary says so and no blob's etag, no file's inode or mtime changed; at 26bebe7 there
was no ``sync`` and a repeated upload copied everything again), --dry-run changes nothing, a
changed file is copied while --delete removes exactly the extras, and --checksum catches a change
that kept the size and the modification time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.cloud import LocalSide, Side, StoreSide, write_cloud_config
from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok

TREE = {
    "a.txt": b"alpha\n",
    "sub/b.bin": bytes(range(256)) * 8,
    "sub/deep/c.csv": b"x,y\n1,2\n",
}


def side(kind: str, services: Services, name: str) -> Side:
    if kind == "dir":
        return LocalSide(services.work / name)
    return StoreSide(services, kind)


def sync(xt: Runner, *args: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(ok(xt("sync", *args, "--json")))
    assert summary["failed"] == [], summary
    return summary


def counts(summary: dict[str, Any]) -> tuple[int, int, int]:
    return summary["copied"], summary["skipped"], summary["deleted"]


PAIRS = [
    ("dir", "local"),
    ("local", "dir"),
    ("local", "s3"),
    ("s3", "local"),
    ("local", "az"),
    ("az", "local"),
]
"""local folder <-> store-file, and store-file <-> S3 and Azure (store -> store across
services); more pairs cost some 2 s each (one subprocess per run)."""


@pytest.fixture
def cloud(services: Services, request: pytest.FixtureRequest) -> Services:
    kinds = set(request.node.callspec.params["pair"])
    moto = request.getfixturevalue("moto_server") if "s3" in kinds else None
    azurite = request.getfixturevalue("azurite") if "az" in kinds else None
    write_cloud_config(services, moto, azurite)
    return services


@pytest.mark.parametrize("pair", PAIRS, ids=["-to-".join(pair) for pair in PAIRS])
def test_sync_copies_once_then_only_changes(xt: Runner, cloud: Services,
                                            pair: tuple[str, str]) -> None:
    source, dest = side(pair[0], cloud, "src"), side(pair[1], cloud, "dst")
    for relative, data in TREE.items():
        source.write(relative, data)

    assert counts(sync(xt, source.address, dest.address)) == (3, 0, 0)
    assert dest.contents() == TREE
    stamps = dest.stamps()
    assert counts(sync(xt, source.address, dest.address)) == (0, 3, 0)
    assert dest.stamps() == stamps

    # --dry-run: the plan on stdout, nothing changed.
    source.write("a.txt", b"alpha, and longer\n")
    dest.write("extra.txt", b"not in source")
    dest.write("sub/extra.txt", b"nor this")
    stamps = dest.stamps()
    planned = ok(xt("sync", source.address, dest.address, "--dry-run", "--delete"))
    lines = planned.splitlines()
    assert len(lines) == 3, planned
    assert lines[0].startswith("copy ") and lines[0].endswith("a.txt (18 B)"), planned
    assert [line.rsplit("/", 2)[-2:] for line in lines[1:]] == [
        ["dst" if pair[1] == "dir" else "run1", "extra.txt"], ["sub", "extra.txt"]], planned
    assert all(line.startswith("delete ") for line in lines[1:])
    assert dest.stamps() == stamps

    # The changed file is copied and --delete removes exactly what SOURCE lacks.
    assert counts(sync(xt, source.address, dest.address, "--delete")) == (1, 2, 2)
    assert dest.contents() == {**TREE, "a.txt": b"alpha, and longer\n"}

    # Same size, same modification time, other bytes: only --checksum sees it.
    mtime = source.mtime_ns("sub/deep/c.csv")
    source.write("sub/deep/c.csv", b"x,y\n3,4\n", mtime_ns=mtime)
    assert counts(sync(xt, source.address, dest.address)) == (0, 3, 0)
    assert counts(sync(xt, source.address, dest.address, "--checksum")) == (1, 2, 0)
    assert dest.contents() == source.contents()
