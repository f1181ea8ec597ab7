"""Ctrl-C (SIGINT) in the middle of a large upload and a large download: exit code 130, one
"interrupted" line, and nothing partial left in the store or the destination folder."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Runner, Services, xtstore_command
from tests.cli.helpers import leftovers, ok

FILES, SIZE = 8, 64 * 1024 * 1024  # 512 MiB: long enough to be stopped mid-way


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("interrupt") / "big"
    folder.mkdir()
    block = os.urandom(4 * 1024 * 1024)
    for index in range(FILES):
        with open(folder / f"part{index:02}.bin", "wb") as out:
            for _ in range(SIZE // len(block)):
                out.write(block)
    return folder


def _interrupt_when(services: Services, args: list[str],
                    in_flight: Callable[[subprocess.Popen[bytes]], bool]
                    ) -> subprocess.CompletedProcess[bytes]:
    process = subprocess.Popen([*xtstore_command(), *args], cwd=services.work,
                               env=services.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not in_flight(process):
        assert process.poll() is None, "finished before it could be interrupted"
        assert time.monotonic() < deadline, "no transfer started"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _temp_files(folder: Path) -> bool:
    return folder.exists() and any(folder.iterdir())


def _writing_unnamed_file(process: subprocess.Popen[bytes], root: Path) -> bool:
    """True while ``process`` holds an unnamed file (O_TMPFILE) below ``root`` open: store-file
    writes a blob's new version, and a download its file, that way before linking it in."""
    fds = Path(f"/proc/{process.pid}/fd")
    try:
        targets = [os.readlink(fd) for fd in fds.iterdir()]
    except OSError:
        return False
    return any(target.startswith(str(root)) and target.endswith("(deleted)")
               for target in targets)


def _check_interrupted(result: subprocess.CompletedProcess[bytes]) -> None:
    stderr = result.stderr.decode()
    assert result.returncode == 130, stderr
    lines = stderr.splitlines()
    assert lines[-1] == "xtstore: interrupted"
    # What finished, and what resumes the rest.
    assert re.fullmatch(rf"xtstore: interrupted after \d+ of {FILES} files: "
                        "running it again with --skip-existing, or 'xtstore sync', resumes",
                        lines[-2]), lines
    assert "Traceback" not in stderr


def test_sigint_during_upload_leaves_no_partial_blob(
    xt: Runner, services: Services, big_folder: Path
) -> None:
    ok(xt("containers", "create", "runs"))
    tmp_area = services.local_root / ".xtstore" / "tmp"
    result = _interrupt_when(services, ["upload", "-w", "2", str(big_folder), "runs/big"],
                             lambda process: _temp_files(tmp_area)
                             or _writing_unnamed_file(process, services.local_root))
    _check_interrupted(result)
    assert leftovers(services.local_root) == []
    listed = json.loads(ok(xt("--json", "ls", "-r", "runs")))
    assert len(listed) < FILES, "the upload was not stopped"
    assert all(entry["size"] == SIZE for entry in listed), listed


def test_sigint_during_download_leaves_no_partial_file(
    xt: Runner, services: Services, big_folder: Path
) -> None:
    ok(xt("containers", "create", "runs"))
    ok(xt("-q", "upload", str(big_folder), "runs/big"))
    dest = services.work / "dest"

    def downloading(process: subprocess.Popen[bytes]) -> bool:
        # A named temporary file where the file system has no O_TMPFILE, else an unnamed one.
        return ((dest.exists() and any(path.name.endswith(".tmp") for path in dest.rglob("*")))
                or _writing_unnamed_file(process, dest))

    result = _interrupt_when(services, ["download", "-w", "2", "runs/big", "dest"],
                             downloading)
    _check_interrupted(result)
    files = [path for path in dest.rglob("*") if path.is_file()]
    assert leftovers(dest) == []
    assert len(files) < FILES, "the download was not stopped"
    assert all(path.stat().st_size == SIZE for path in files)
    assert leftovers(services.local_root) == []
