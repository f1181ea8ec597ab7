"""``copy_whole``: a whole-file copy into a new file is a reflink (``FICLONE``) where the file
system shares extents, and a plain copy everywhere else."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tests.localfiles.reflinks import reflink_dir, shared_bytes
from xtstore.localfiles import oscalls

__all__ = ["reflink_dir"]  # the fixture, used by name

SIZE = 4 * 1024 * 1024


def _copy(folder: Path) -> tuple[bytes, Path]:
    content = os.urandom(SIZE)
    (folder / "source").write_bytes(content)
    source = os.open(folder / "source", os.O_RDONLY)
    dest = os.open(folder / "dest", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        oscalls.copy_whole(source, dest, SIZE, None)
        assert os.lseek(source, 0, os.SEEK_CUR) == SIZE
        assert os.lseek(dest, 0, os.SEEK_CUR) == SIZE  # a write after it appends
        os.write(dest, b"after")
    finally:
        os.close(source)
        os.close(dest)
    return content, folder / "dest"


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "without"])
def test_a_whole_copy_shares_the_source_s_extents(
    reflink_dir: Path, kernel_copy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # copy_file_range clones by itself on some kernels and file systems; without it (an older
    # kernel, another system) only FICLONE makes the copy share.
    if not kernel_copy:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    content, dest = _copy(reflink_dir)
    assert dest.read_bytes() == content + b"after"
    assert shared_bytes(dest) >= SIZE - 65536
    assert (reflink_dir / "source").read_bytes() == content


def test_a_refused_reflink_falls_back_to_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusals = []

    def refuse(fd: int, request: int, arg: int) -> int:
        refusals.append(request)
        raise OSError(errno.EOPNOTSUPP, "no shared extents here")

    monkeypatch.setattr(oscalls.fcntl, "ioctl", refuse)
    content, dest = _copy(tmp_path)
    assert refusals, "no reflink was tried"
    assert dest.read_bytes() == content + b"after"


def test_small_copies_try_no_reflink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tried = []
    monkeypatch.setattr(oscalls, "clone_file", lambda source, dest: tried.append(1) or False)
    (tmp_path / "small").write_bytes(b"x" * 1000)
    source = os.open(tmp_path / "small", os.O_RDONLY)
    dest = os.open(tmp_path / "copy", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        oscalls.copy_whole(source, dest, 1000, None)
    finally:
        os.close(source)
        os.close(dest)
    assert (tmp_path / "copy").read_bytes() == b"x" * 1000
    assert tried == []
