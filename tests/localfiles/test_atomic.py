"""Downloads to a local file (``atomic_local_file``, used by store-file, store-memory and
store-fsspec): the file appears whole under its name or not at all, even when the process is
killed, and the path without unnamed files behaves the same."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.providers.killing import kill_while_writing
from xtstore.localfiles import oscalls
from xtstore.localfiles.atomic import atomic_local_file

_KILLED_DOWNLOAD = """
import os
import sys
import time
from xtstore.localfiles.atomic import atomic_local_file

with atomic_local_file(sys.argv[1], large=True) as fd:
    for _ in range(8):
        os.write(fd, b"x" * 1024 * 1024)
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("existing", [False, True])
def test_a_download_killed_midway_leaves_nothing(tmp_path: Path, existing: bool) -> None:
    dest = tmp_path / "out" / "model.bin"
    if existing:
        dest.parent.mkdir()
        dest.write_bytes(b"old")
    kill_while_writing(_KILLED_DOWNLOAD, str(dest))
    assert sorted(os.listdir(dest.parent)) == (["model.bin"] if existing else [])
    if existing:
        assert dest.read_bytes() == b"old"


@pytest.fixture(params=["unnamed", "named"])
def file_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Path) -> str:
    """Both ways a download is built: an unnamed file (Linux), and a named temporary file
    next to the destination (elsewhere, or a file system without O_TMPFILE)."""
    if request.param == "named":
        monkeypatch.setattr(oscalls, "_refusing_devices", {os.stat(tmp_path).st_dev})
    else:
        opened = oscalls.open_unnamed_in(str(tmp_path))
        if opened is None:
            pytest.skip("this system cannot make unnamed files")
        for fd in opened:
            os.close(fd)
    return str(request.param)


@pytest.mark.parametrize("large", [False, True])
def test_a_download_takes_the_name_whole(tmp_path: Path, file_kind: str, large: bool) -> None:
    dest = tmp_path / "a" / "b" / "file.bin"  # folders made as needed
    for content in (b"first", b"second, longer"):
        with atomic_local_file(str(dest), large=large) as fd:
            os.write(fd, content)
            assert not dest.exists() or dest.read_bytes() != content
        assert dest.read_bytes() == content
    assert os.listdir(dest.parent) == ["file.bin"]


def test_a_failed_download_leaves_the_old_file(tmp_path: Path, file_kind: str) -> None:
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"old")
    with pytest.raises(OSError, match="source went away"), \
            atomic_local_file(str(dest)) as fd:
        os.write(fd, b"partial")
        raise OSError("source went away")
    assert dest.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file.bin"]


def test_a_download_over_a_folder_fails_and_leaves_nothing(tmp_path: Path,
                                                            file_kind: str) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(IsADirectoryError), atomic_local_file(str(tmp_path / "taken")) as fd:
        os.write(fd, b"x")
    assert os.listdir(tmp_path) == ["taken"]
    assert os.listdir(tmp_path / "taken") == []
