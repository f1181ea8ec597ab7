"""Helpers for the tests of reflinks: a folder whose file system shares extents, and how much
of a file shares its extents with another (``FIEMAP``).

The folder is ``$XTSTORE_REFLINK_DIR`` if set (e.g. a small XFS image made with
``mkfs.xfs -m reflink=1`` and mounted through a loop device), else the test's own temporary
folder; a test that needs reflinks skips, saying why, where ``FICLONE`` is refused there.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_FICLONE = 0x40049409
_FS_IOC_FIEMAP = 0xC020660B
_FIEMAP_FLAG_SYNC = 0x1
_FIEMAP_EXTENT_SHARED = 0x2000
_FIEMAP_EXTENT_LAST = 0x1
_HEAD = struct.Struct("=QQIIII")
_EXTENT = struct.Struct("=QQQQQI12x")
_PER_CALL = 64


def _file_system_of(path: Path) -> str:
    """The type of the file system holding ``path`` (from /proc/mounts), for a skip's proof."""
    best, kind = "", "unknown"
    real = os.path.realpath(path)
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                _, point, fs_type = line.split()[:3]
                if (real == point or real.startswith(point.rstrip("/") + "/")) and len(
                        point) > len(best):
                    best, kind = point, fs_type
    except OSError:
        pass
    return kind


def refused_reflink(folder: Path) -> str | None:
    """Why ``folder``'s file system makes no reflink (None if it does): ``FICLONE`` of a small
    file into a new one, tried there."""
    source, dest = folder / f".probe-{uuid.uuid4().hex}", folder / f".probe-{uuid.uuid4().hex}"
    source.write_bytes(b"x" * 65536)
    try:
        with open(source, "rb") as src, open(dest, "wb") as dst:
            try:
                fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
            except OSError as error:
                return (f"{folder} is on {_file_system_of(folder)}, which shares no extents: "
                        f"FICLONE failed with {errno.errorcode.get(error.errno or 0, '?')}; "
                        "set XTSTORE_REFLINK_DIR to a folder on btrfs or XFS (reflink=1)")
    finally:
        source.unlink(missing_ok=True)
        dest.unlink(missing_ok=True)
    return None


@pytest.fixture
def reflink_dir(tmp_path: Path) -> Iterator[Path]:
    """A new folder on a file system with reflinks; the test skips, with the proof, where
    there is none."""
    configured = os.environ.get("XTSTORE_REFLINK_DIR")
    folder = Path(configured) / f"test-{uuid.uuid4().hex}" if configured else tmp_path / "r"
    folder.mkdir(parents=True)
    try:
        reason = refused_reflink(folder)
        if reason is not None:
            pytest.skip(reason)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def shared_bytes(path: Path) -> int:
    """How many bytes of ``path`` lie in extents it shares with another file (``FIEMAP``)."""
    shared = 0
    start = 0
    with open(path, "rb") as handle:
        while True:
            request = bytearray(_HEAD.size + _EXTENT.size * _PER_CALL)
            _HEAD.pack_into(request, 0, start, 2**64 - 1 - start, _FIEMAP_FLAG_SYNC, 0,
                            _PER_CALL, 0)
            fcntl.ioctl(handle.fileno(), _FS_IOC_FIEMAP, request)
            mapped = _HEAD.unpack_from(request, 0)[3]
            if not mapped:
                return shared
            for number in range(mapped):
                logical, _, length, _, _, flags = _EXTENT.unpack_from(
                    request, _HEAD.size + number * _EXTENT.size)
                if flags & _FIEMAP_EXTENT_SHARED:
                    shared += length
                if flags & _FIEMAP_EXTENT_LAST:
                    return shared
                start = logical + length
