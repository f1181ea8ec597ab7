"""stdin, stdout, --bwlimit and -P (docs/cli.md "upload, download, cp, mv"): ``upload - DEST``
stores stdin as one blob, whole or not at all; ``download SRC -`` and ``cat`` write stdout
and no file named '-'; --bwlimit holds a command to its rate; -P reports each file in a
pipe; Ctrl-C in a batch says how many files finished and what resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.cli.conftest import Runner, Services, xtstore_command
from tests.cli.helpers import leftovers, make_tree, ok, one_error_line


def test_upload_from_stdin_stores_exactly_the_bytes(xt: Runner, services: Services) -> None:
    ok(xt("containers", "create", "runs"))
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one read of stdin
    result = xt("upload", "-", "runs/logs/stdin.bin", input=data)
    assert ok(result) == ""
    assert result.stderr.decode().startswith("xtstore: uploaded: 1 copied (3.0 MiB) in ")
    assert xt("cat", "runs/logs/stdin.bin").stdout == data
    assert not (services.work / "-").exists()
    # --skip-existing leaves an existing blob alone (stdin unread); a folder DEST is refused.
    ok(xt("upload", "--skip-existing", "-", "runs/logs/stdin.bin", input=b"other"))
    assert xt("cat", "runs/logs/stdin.bin").stdout == data
    assert one_error_line(xt("upload", "-", "runs/logs/", input=b"x"), 2)
    assert one_error_line(xt("upload", "-", "nosuch/x", input=b"x")).endswith(
        "(create it with 'xtstore containers create nosuch')")


def test_ctrl_c_during_a_stdin_upload_installs_nothing(services: Services, xt: Runner) -> None:
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "-", "runs/kept.bin", input=b"the earlier version"))
    process = subprocess.Popen([*xtstore_command(), "upload", "-", "runs/kept.bin"],
                               cwd=services.work, env=services.env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None
    # Writing 2 MiB into a 64 KiB pipe returns once the command has read most of it.
    process.stdin.write(os.urandom(2 * 1024 * 1024))
    process.stdin.flush()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert stderr.decode().splitlines()[-1] == "xtstore: interrupted"
    assert xt("cat", "runs/kept.bin").stdout == b"the earlier version"
    assert leftovers(services.local_root) == []


def test_download_to_dash_and_cat_write_stdout(xt: Runner, services: Services) -> None:
    ok(xt("containers", "create", "runs"))
    data = bytes(range(256)) * 64
    (services.work / "a.bin").write_bytes(data)
    ok(xt("upload", "a.bin", "runs/a.bin"))
    (services.work / "a.bin").unlink()
    result = xt("download", "runs/a.bin", "-")
    assert result.returncode == 0 and result.stdout == data and result.stderr == b""
    assert xt("cat", "runs/a.bin").stdout == data
    assert not (services.work / "-").exists()
    assert one_error_line(xt("download", "runs/a.bin", "runs/a.bin", "-"), 2)


def test_bwlimit_holds_an_upload_to_its_rate(xt: Runner, services: Services) -> None:
    ok(xt("containers", "create", "runs"))
    make_tree(services.work / "run1", {"a.bin": os.urandom(96 * 1024),
                                       "b.bin": os.urandom(96 * 1024)})
    started = time.monotonic()
    ok(xt("upload", "--bwlimit", "128K", "run1", "runs/run1"))
    elapsed = time.monotonic() - started
    # 192 KiB at 128 KiB/s, less the 12.8 KiB the bucket may burst: at least 1.4 s.
    assert elapsed >= 1.4, elapsed
    assert one_error_line(xt("upload", "--bwlimit", "fast", "run1", "runs/x"), 2).endswith(
        "(see 'xtstore upload --help')")


def test_progress_flag_reports_each_file_in_a_pipe(xt: Runner, services: Services) -> None:
    ok(xt("containers", "create", "runs"))
    make_tree(services.work / "run1", {"a.txt": b"a\n", "b.txt": b"b\n"})
    quiet = xt("upload", "run1", "runs/quiet")
    assert quiet.stderr.decode().splitlines() == [
        quiet.stderr.decode().splitlines()[-1]]  # off a terminal: the summary only
    result = xt("upload", "-P", "-w", "1", "run1", "runs/run1")
    assert ok(result) == ""
    lines = result.stderr.decode().splitlines()
    assert lines[:3] == ["xtstore: uploading 2 files (4 B)",
                         "xtstore: 1/2 files, 2 B/4 B: run1/a.txt",
                         "xtstore: 2/2 files, 4 B/4 B: run1/b.txt"]
    assert lines[3].startswith("xtstore: uploaded: 2 copied (4 B) in ")


def test_ctrl_c_in_a_batch_says_how_many_files_finished_and_what_resumes(
    services: Services, xt: Runner
) -> None:
    ok(xt("containers", "create", "runs"))
    files = {f"f{index:02}.bin": os.urandom(64 * 1024) for index in range(20)}
    make_tree(services.work / "run1", files)
    process = subprocess.Popen(
        [*xtstore_command(), "upload", "-P", "-w", "1", "--bwlimit", "256K", "run1",
         "runs/run1"], cwd=services.work, env=services.env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stderr is not None
    first = process.stderr.readline()  # "uploading 20 files": the batch is running
    assert first.startswith(b"xtstore: uploading 20 files"), first
    process.stderr.readline()  # the first file finished
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    lines = rest.decode().splitlines()
    assert process.returncode == 130, lines
    assert lines[-1] == "xtstore: interrupted"
    done = sum(1 for line in lines if "/20 files" in line) + 1
    assert lines[-2] == (f"xtstore: interrupted after {done} of 20 files: running it again "
                         "with --skip-existing, or 'xtstore sync', resumes")
    assert lines[-3].startswith(f"xtstore: uploaded: {done} copied ")
    result = xt("upload", "--skip-existing", "run1", "runs/run1")
    assert result.stderr.decode().startswith(
        f"xtstore: uploaded: {20 - done} copied (")
    assert f"{done} skipped" in result.stderr.decode()
