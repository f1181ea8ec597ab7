"""``xtstore check SOURCE DEST`` (as rclone check): what is missing on either side and what
differs, by size and content hash; exit 1 if anything does. Absent at 26bebe7."""

from __future__ import annotations

import json

from tests.cli.cloud import LocalSide, StoreSide
from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok


def test_check_reports_every_difference_and_exits_1(xt: Runner, services: Services) -> None:
    source = LocalSide(services.work / "src")
    dest = StoreSide(services, "local")
    for name, data in (("same.txt", b"same"), ("sub/changed.txt", b"v1"),
                       ("resized.txt", b"short")):
        source.write(name, data)
        dest.write(name, data)
    clean = xt("check", source.address, dest.address)
    assert ok(clean) == ""
    assert "3 matching, 0 missing on DEST, 0 missing on SOURCE, 0 differ" in \
        clean.stderr.decode()

    source.write("only-here.txt", b"new")
    dest.write("only-there.txt", b"old")
    dest.write("sub/changed.txt", b"v2")  # same size, same mtime: only the hash tells
    dest.write("resized.txt", b"longer now")
    result = xt("check", source.address, dest.address)
    assert result.returncode == 1, result.stderr.decode()
    assert result.stdout.decode().splitlines() == [
        "missing on DEST: only-here.txt",
        "missing on SOURCE: only-there.txt",
        "differ: resized.txt",
        "differ: sub/changed.txt",
    ]
    # store-file keeps no hash of its own: the blobs were read to hash them, and it says so.
    assert "read to hash:" in result.stderr.decode()

    sizes = xt("check", source.address, dest.address, "--size-only", "--json")
    assert sizes.returncode == 1
    found = json.loads(sizes.stdout)
    assert found["differ"] == ["resized.txt"]
    assert (found["missing_on_dest"], found["missing_on_source"]) == (
        ["only-here.txt"], ["only-there.txt"])
    assert found["matching"] == 2


def test_check_after_sync_with_checksum_is_clean(xt: Runner, services: Services) -> None:
    source = StoreSide(services, "local")
    source.write("a.bin", bytes(range(256)) * 100)
    source.write("b/c.txt", b"text")
    dest = services.work / "copy"
    ok(xt("sync", source.address, str(dest), "--checksum"))
    ok(xt("check", source.address, str(dest), "--download"))
    (dest / "b" / "c.txt").write_bytes(b"TEXT")
    result = xt("check", source.address, str(dest), "--download")
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == ["differ: b/c.txt"]
