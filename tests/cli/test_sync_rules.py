"""``xtstore sync``'s rules on store-file: the --delete guard, filters (an excluded file is
never deleted), verified downloads with --checksum, a file SOURCE, which argument is local,
invalid names, Ctrl-C, and the usage errors that come before anything moves."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.cli.cloud import OLD_NS, LocalSide, StoreSide
from tests.cli.conftest import Runner, Services, xtstore_command
from tests.cli.helpers import leftovers, ok, one_error_line


def _summary(result: object) -> dict[str, object]:
    return json.loads(ok(result))  # type: ignore[arg-type]


def test_delete_in_a_whole_container_or_of_most_of_dest_needs_yes(
        xt: Runner, services: Services) -> None:
    source = LocalSide(services.work / "src")
    source.write("a.txt", b"a")
    store = StoreSide(services, "local")
    container = f"local:{store.container}"
    for name in ("a.txt", "b.txt", "old/c.txt"):
        store.store.create_blob(store.container, name, b"x")
    refused = xt("sync", source.address, container, "--delete")
    line = one_error_line(refused)
    assert "--delete would remove 2 files" in line and "whole container" in line, line
    assert "--yes" in line
    assert sorted(store.store.list_blobs(store.container)) == ["a.txt", "b.txt", "old/c.txt"]
    # A folder (not the container) where most files would go: refused as well.
    extras = [f"run1/x{number}.txt" for number in range(11)]
    for name in extras:
        store.store.create_blob(store.container, name, b"x")
    line = one_error_line(xt("sync", source.address, f"{container}/run1", "--delete"))
    assert "that is 11 of the 11 files there" in line, line
    done = _summary(xt("sync", source.address, f"{container}/run1", "--delete", "--yes",
                       "--json"))
    assert (done["copied"], done["deleted"]) == (1, 11)
    assert sorted(store.store.list_blobs(store.container, "run1/")) == ["run1/a.txt"]


def test_filters_choose_the_files_and_excluded_ones_are_never_deleted(
        xt: Runner, services: Services) -> None:
    source = LocalSide(services.work / "src")
    for name in ("a.txt", "b.log", "ckpt/e1.pt", "ckpt/e2.pt"):
        source.write(name, b"data " + name.encode())
    dest = StoreSide(services, "local")
    dest.write("keep.log", b"excluded: stays")
    dest.write("gone.txt", b"extra: deleted")
    planned = json.loads(ok(xt("sync", source.address, dest.address, "--exclude", "*.log",
                               "--exclude", "ckpt/e1.pt", "--delete", "-n", "--json")))
    assert [(action["action"], action["dest"].rsplit("/", 1)[-1]) for action in planned] == [
        ("copy", "a.txt"), ("copy", "e2.pt"), ("delete", "gone.txt")]
    assert planned[0]["size"] == len(b"data a.txt") and planned[0]["reason"] == "missing"
    done = _summary(xt("sync", source.address, dest.address, "--exclude", "*.log",
                       "--exclude", "ckpt/e1.pt", "--delete", "--json"))
    assert (done["copied"], done["deleted"]) == (2, 1)
    assert sorted(dest.contents()) == ["a.txt", "ckpt/e2.pt", "keep.log"]
    only = _summary(xt("sync", source.address, dest.address, "--include", "ckpt/**",
                       "--json"))
    assert (only["copied"], only["skipped"]) == (1, 1)


def test_a_download_whose_bytes_fail_the_stored_hash_is_never_installed(
        xt: Runner, services: Services) -> None:
    source = StoreSide(services, "local")
    source.write("good.txt", b"good bytes")
    wrong = hashlib.sha256(b"other data").hexdigest()
    source.store.create_blob(source.container, "run1/bad.txt", b"damaged!!!",
                             metadata={"sha256": wrong})
    dest = services.work / "dl"
    result = xt("sync", source.address, str(dest), "--checksum")
    assert result.returncode == 1, result.stderr.decode()
    stderr = result.stderr.decode()
    assert "bad.txt" in stderr and "sha256" in stderr and "not installed" in stderr, stderr
    assert "1 copied" in stderr and "1 failed" in stderr, stderr
    assert sorted(os.listdir(dest)) == ["good.txt"]
    assert leftovers(dest) == []
    assert (dest / "good.txt").stat().st_mtime_ns == OLD_NS


def test_a_bare_local_path_is_local_when_no_container_has_its_name(
        xt: Runner, services: Services) -> None:
    source = StoreSide(services, "local")
    source.write("f.txt", b"f")
    for folder in ("dl/run1", "downloads/run1"):  # 'dl' cannot be a container's name
        (services.work / folder).mkdir(parents=True)
        # As 'download' suggests after refusing a nested copy: DEST is the local folder.
        ok(xt("sync", source.address, folder))
        assert (services.work / folder / "f.txt").read_bytes() == b"f"


def test_a_file_source_syncs_that_one_file_into_dest(xt: Runner, services: Services) -> None:
    source = LocalSide(services.work / "src")
    source.write("model.pt", b"weights")
    source.write("other.txt", b"not taken")
    dest = StoreSide(services, "local")
    dest.write("unrelated.txt", b"left alone")
    one = str(services.work / "src" / "model.pt")
    first = _summary(xt("sync", one, dest.address, "--delete", "--json"))
    assert (first["copied"], first["deleted"]) == (1, 0)
    assert dest.contents() == {"model.pt": b"weights", "unrelated.txt": b"left alone"}
    again = _summary(xt("sync", one, dest.address, "--json"))
    assert (again["copied"], again["skipped"]) == (0, 1)
    # A blob into a folder beside it: not onto itself.
    ok(xt("sync", f"{dest.address}/model.pt", f"{dest.address}/backup"))
    assert dest.contents()["backup/model.pt"] == b"weights"


def test_usage_errors_before_anything_moves(xt: Runner, services: Services) -> None:
    (services.work / "run1").mkdir()
    (services.work / "run1" / "f.txt").write_bytes(b"f")
    line = one_error_line(xt("sync", "./run1", "./copy"), 2)
    assert "both local paths" in line
    line = one_error_line(xt("sync", "./run1", "nosuch/run1"))
    assert "container 'nosuch'" in line and "xtstore containers create nosuch" in line, line
    assert "or write './nosuch/run1' for a local folder" in line, line
    # A bare name that is a local folder and a container of the default service.
    ok(xt("containers", "create", "run1"))
    line = one_error_line(xt("sync", "run1", "local:runs/run1"), 2)
    assert "'./run1'" in line and "SERVICE:run1" in line, line
    store = StoreSide(services, "local")
    store.write("f.txt", b"f")
    line = one_error_line(xt("sync", store.address, f"{store.address}/inner"), 2)
    assert "overlap" in line
    assert not (services.work / "copy").exists()


def test_names_that_cannot_be_blobs_are_listed_at_once_before_anything_moves(
        xt: Runner, services: Services) -> None:
    source = LocalSide(services.work / "src")
    for name in ("good.txt", "bad\\one.txt", "sub/bad\\two.txt"):
        source.write(name, b"data")
    dest = StoreSide(services, "local")
    refused = xt("sync", source.address, dest.address)
    assert refused.returncode == 1
    stderr = refused.stderr.decode()
    assert "2 names cannot be blob names" in stderr and "--skip-invalid" in stderr, stderr
    assert "bad\\\\one.txt" in stderr and "bad\\\\two.txt" in stderr, stderr
    assert dest.contents() == {}
    done = xt("sync", source.address, dest.address, "--skip-invalid", "--json")
    assert json.loads(ok(done))["copied"] == 1
    assert done.stderr.decode().count("warning: skipped") == 2
    assert dest.contents() == {"good.txt": b"data"}


def test_ctrl_c_says_what_finished_and_the_same_sync_resumes(
        xt: Runner, services: Services, tmp_path: Path) -> None:
    block = tmp_path / "block.bin"
    block.write_bytes(os.urandom(32 * 1024 * 1024))
    source = StoreSide(services, "local")
    names = [f"part{index}.bin" for index in range(6)]
    for name in names:
        source.store.create_blob_from_path(source.container, f"run1/{name}", str(block))
    dest = StoreSide(services, "other")
    # Streamed across services, one file at a time: long enough to be stopped mid-way.
    args = ["sync", source.address, dest.address, "-w", "1"]
    process = subprocess.Popen([*xtstore_command(), *args], cwd=services.work,
                               env=services.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not _writing_below(process, services.other_root):
        assert process.poll() is None, "finished before it could be interrupted"
        assert time.monotonic() < deadline, "no copy started"
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, stderr_bytes = process.communicate(timeout=60)
    stderr = stderr_bytes.decode()
    assert process.returncode == 130, stderr
    assert re.search(r"interrupted after \d of 6 files: running the same sync again resumes",
                     stderr), stderr
    assert "Traceback" not in stderr
    finished = len(dest.contents())
    assert finished < 6
    resumed = _summary(xt(*args, "--json"))
    assert (resumed["copied"], resumed["skipped"]) == (6 - finished, finished)
    assert sorted(dest.contents()) == names
    assert leftovers(services.other_root) == []


def _writing_below(process: subprocess.Popen[bytes], root: Path) -> bool:
    """True while ``process`` holds a file below ``root`` open for a blob it writes (an
    unnamed file, or a temporary one)."""
    try:
        targets = [os.readlink(fd) for fd in Path(f"/proc/{process.pid}/fd").iterdir()]
    except OSError:
        return False
    return any(target.startswith(str(root)) for target in targets)
