"""Running upload, download and cp again (docs/cli.md "upload, download, cp, mv"): a re-run
never nests a second copy silently, --skip-existing and --update copy only what is missing or
newer, -r is accepted, --include/--exclude choose the files, --dry-run changes nothing, and
downloads keep the blobs' modification times."""

from __future__ import annotations

import json
import os
import subprocess

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok, one_error_line, read_tree

TREE = {
    "a.txt": b"alpha\n",
    "b.csv": b"x,y\n1,2\n",
    "sub/c.txt": b"gamma\n",
    "sub/d.log": b"log\n",
}


def _etags(xt: Runner, address: str) -> dict[str, str]:
    listing = json.loads(ok(xt("--json", "ls", "-r", "-l", address)))
    return {entry["name"]: entry["etag"] for entry in listing if not entry.get("is_dir")}


def _summary(result: subprocess.CompletedProcess[bytes]) -> str:
    """The last stderr line of a run that must have succeeded."""
    ok(result)
    return result.stderr.decode().splitlines()[-1]


def _setup(xt: Runner, services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))


def test_a_second_download_refuses_to_nest_and_says_what_to_run(
    xt: Runner, services: Services
) -> None:
    _setup(xt, services)
    ok(xt("upload", "run1", "runs/exp1/run1"))
    ok(xt("download", "runs/exp1/run1", "dl/run1"))
    assert read_tree(services.work / "dl" / "run1") == TREE
    line = one_error_line(xt("download", "runs/exp1/run1", "dl/run1"))
    assert line == (
        "xtstore: error: 'dl/run1' already holds a copy of 'run1' (copying again would nest "
        "it as dl/run1/run1): to update it run 'xtstore sync runs/exp1/run1 dl/run1', to nest "
        "on purpose give 'dl/run1/'")
    assert not (services.work / "dl" / "run1" / "run1").exists()
    # Nesting on purpose: DEST ends in '/'.
    ok(xt("download", "runs/exp1/run1", "dl/run1/"))
    assert read_tree(services.work / "dl" / "run1" / "run1") == TREE


def test_a_second_upload_and_cp_refuse_to_nest(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    ok(xt("upload", "run1", "runs/run1"))
    line = one_error_line(xt("upload", "run1", "runs/run1"))
    assert "'runs/run1' already holds a copy of 'run1'" in line
    assert "'xtstore sync run1 runs/run1'" in line
    ok(xt("cp", "runs/run1", "runs/copy/run1"))
    line = one_error_line(xt("cp", "runs/run1", "runs/copy/run1"))
    assert "(copying again would nest it as runs/copy/run1/run1)" in line
    listing = ok(xt("ls", "-r", "runs")).split()
    assert sorted(listing) == sorted([f"run1/{name}" for name in TREE]
                                     + [f"copy/run1/{name}" for name in TREE])
    # Several sources go into DEST by name, run after run, as cp -r does.
    for _ in range(2):
        ok(xt("upload", "run1/sub", "run1/a.txt", "runs/multi"))
    assert sorted(ok(xt("ls", "-r", "runs/multi")).split()) == [
        "multi/a.txt", "multi/sub/c.txt", "multi/sub/d.log"]


def test_skip_existing_rerun_copies_nothing_and_takes_dest_as_the_copy(
    xt: Runner, services: Services
) -> None:
    _setup(xt, services)
    ok(xt("upload", "run1", "runs/run1"))
    before = _etags(xt, "runs/run1")
    result = xt("upload", "--skip-existing", "run1", "runs/run1")
    ok(result)
    assert _summary(result).startswith("xtstore: uploaded: 0 copied (0 B), 4 skipped in ")
    assert _etags(xt, "runs/run1") == before
    # A new file is the one copied, onto the earlier copy (no nesting).
    (services.work / "run1" / "new.txt").write_bytes(b"new\n")
    result = xt("upload", "--skip-existing", "run1", "runs/run1")
    assert _summary(result).startswith("xtstore: uploaded: 1 copied (4 B), "
                                                      "4 skipped in ")
    assert sorted(_etags(xt, "runs/run1")) == sorted(["run1/new.txt", *before])

    ok(xt("download", "runs/run1", "dl/run1"))
    (services.work / "dl" / "run1" / "a.txt").write_bytes(b"edited locally\n")
    result = xt("download", "--skip-existing", "runs/run1", "dl/run1")
    assert _summary(result).startswith("xtstore: downloaded: 0 copied (0 B), "
                                                      "5 skipped")
    assert (services.work / "dl" / "run1" / "a.txt").read_bytes() == b"edited locally\n"


def test_update_copies_only_what_is_newer(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    ok(xt("upload", "run1", "runs/run1"))
    ok(xt("download", "runs/run1", "dl/run1"))
    before = _etags(xt, "runs/run1")
    # A file newer than its blob is uploaded; the others are as new as theirs or older.
    changed = services.work / "run1" / "sub" / "c.txt"
    changed.write_bytes(b"gamma 2\n")
    later = os.stat(changed).st_mtime_ns + 10 * 1_000_000_000
    os.utime(changed, ns=(later, later))
    result = xt("upload", "--update", "run1", "runs/run1")
    assert _summary(result).startswith("xtstore: uploaded: 1 copied (8 B), "
                                                      "3 skipped")
    after = _etags(xt, "runs/run1")
    assert [name for name in after if after[name] != before[name]] == ["run1/sub/c.txt"]
    # Downloads set each file's time from its blob, so an unchanged download is skipped
    # whole, and the blob replaced since is fetched.
    result = xt("download", "-u", "runs/run1", "dl/run1")
    assert _summary(result).startswith("xtstore: downloaded: 1 copied (8 B), "
                                                      "3 skipped")
    assert read_tree(services.work / "dl" / "run1")["sub/c.txt"] == b"gamma 2\n"


def test_downloads_take_the_blob_modification_time(xt: Runner, services: Services) -> None:
    import xtstore
    from xtstore.fingerprints import mtime_ns

    _setup(xt, services)
    ok(xt("upload", "run1", "runs/run1"))
    ok(xt("download", "runs/run1", "dl"))
    store = xtstore.get_storage("local", str(services.config))
    for name in TREE:
        info = store.get_blob_properties("runs", f"run1/{name}")
        assert info.properties is not None
        assert os.stat(services.work / "dl" / name).st_mtime_ns == mtime_ns(info.properties)


def test_recursive_flag_is_accepted(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    ok(xt("upload", "-r", "run1", "runs/run1"))
    ok(xt("cp", "--recursive", "runs/run1", "runs/again"))
    ok(xt("download", "-r", "runs/again", "dl"))
    assert read_tree(services.work / "dl") == TREE
    assert "always" in ok(xt("upload", "--help"))


def test_include_and_exclude_on_upload_download_and_cp(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    ok(xt("upload", "--exclude", "*.log", "--exclude", "b.csv", "run1", "runs/run1"))
    assert sorted(ok(xt("ls", "-r", "runs")).split()) == ["run1/a.txt", "run1/sub/c.txt"]
    ok(xt("upload", "--include", "sub/**", "run1", "runs/only-sub"))
    assert sorted(ok(xt("ls", "-r", "runs/only-sub")).split()) == [
        "only-sub/sub/c.txt", "only-sub/sub/d.log"]
    ok(xt("upload", "run1", "runs/all"))
    ok(xt("download", "--include", "*.txt", "--exclude", "sub/", "runs/all", "dl"))
    assert read_tree(services.work / "dl") == {"a.txt": TREE["a.txt"]}
    ok(xt("cp", "--include", "*.{csv,log}", "runs/all", "runs/data"))
    assert sorted(ok(xt("ls", "-r", "runs/data")).split()) == ["data/b.csv", "data/sub/d.log"]
    # A container source filters on the blob names, a pattern on the path below it.
    ok(xt("download", "--include", "all/sub/*", "runs", "whole"))
    assert read_tree(services.work / "whole") == {
        "all/sub/c.txt": TREE["sub/c.txt"], "all/sub/d.log": TREE["sub/d.log"]}
    ok(xt("download", "--exclude", "c.*", "runs/all/**/*.txt", "pat"))
    assert read_tree(services.work / "pat") == {"a.txt": TREE["a.txt"]}


def test_dry_run_prints_the_plan_and_changes_nothing(xt: Runner, services: Services) -> None:
    _setup(xt, services)
    result = xt("upload", "-n", "--exclude", "sub/", "run1", "runs/run1")
    assert ok(result).splitlines() == [
        "copy run1/a.txt -> runs/run1/a.txt (6 B)",
        "copy run1/b.csv -> runs/run1/b.csv (8 B)",
    ]
    assert result.stderr.decode() == "xtstore: dry run: would copy 2 files (14 B)\n"
    assert ok(xt("ls", "-r", "runs")) == ""
    ok(xt("upload", "run1", "runs/run1"))
    plan = json.loads(ok(xt("--json", "download", "--dry-run", "runs/run1/sub", "dl")))
    assert plan == [
        {"action": "copy", "source": "runs/run1/sub/c.txt", "dest": "dl/c.txt", "size": 6},
        {"action": "copy", "source": "runs/run1/sub/d.log", "dest": "dl/d.log", "size": 4},
    ]
    assert not (services.work / "dl").exists()
    result = xt("cp", "-n", "--skip-existing", "runs/run1", "other:runs/run1")
    assert result.returncode == 1  # the destination container is checked in a dry run too
    ok(xt("containers", "create", "other:runs"))
    ok(xt("cp", "runs/run1/a.txt", "other:runs/run1/a.txt"))
    result = xt("cp", "-n", "--skip-existing", "runs/run1", "other:runs/run1")
    assert len(ok(result).splitlines()) == 3
    assert result.stderr.decode() == "xtstore: dry run: would copy 3 files (18 B); 1 skipped\n"
    assert ok(xt("ls", "-r", "other:runs")).split() == ["run1/a.txt"]

