"""store-file ``open_blob`` streams under ``checksum: crc32`` (issue 2.3): a stream read in
order through to its end checks the blob's recorded CRC-32, and the read that reaches the end
raises ``IntegrityError`` naming the service, container and blob; a seek elsewhere turns the
check off (a seek back to the start begins it again); without the key, or without a current
record, the stream is the plain file it always was."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

import xtstore
from xtstore.errors import IntegrityError

CONTENT = os.urandom(300 * 1024 + 17)


def _store(root: Path, **keys: Any) -> Any:
    entry = {"type": "storage", "provider": "store-file", "path": str(root),
             "retry": {"attempts": 2, "base-delay": 0.01, "max-delay": 0.01}, **keys}
    store = xtstore.get_storage("local", config={"external-services": {"local": entry}})
    store.create_container("ccc")
    return store


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def _read_all(stream: IO[bytes]) -> bytes:
    return stream.read()


def _read_chunks(stream: IO[bytes]) -> bytes:
    parts = []
    while chunk := stream.read(7000):
        parts.append(chunk)
    return b"".join(parts)


def _read_big_chunks(stream: IO[bytes]) -> bytes:
    parts = []
    while chunk := stream.read(200 * 1024):  # larger than the buffer: straight into it
        parts.append(chunk)
    return b"".join(parts)


def _read_into(stream: IO[bytes]) -> bytes:
    out = bytearray()
    buffer = bytearray(65536)
    while count := stream.readinto(buffer):  # type: ignore[attr-defined]
        out += buffer[:count]
    return bytes(out)


def _read_lines(stream: IO[bytes]) -> bytes:
    return b"".join(stream)


def _read_after_peeking(stream: IO[bytes]) -> bytes:
    stream.read(100)
    stream.seek(0)  # back to the start: checked from there again
    return stream.read()


READS: dict[str, Callable[[IO[bytes]], bytes]] = {
    "read": _read_all, "chunks": _read_chunks, "big-chunks": _read_big_chunks,
    "readinto": _read_into, "lines": _read_lines, "restart": _read_after_peeking,
}


@pytest.mark.parametrize("offset", [0, 150_000, len(CONTENT) - 1])
@pytest.mark.parametrize("how", sorted(READS))
def test_a_damaged_blob_read_to_its_end_is_refused(tmp_path: Path, how: str,
                                                   offset: int) -> None:
    store = _store(tmp_path / "root", checksum="crc32")
    store.create_blob("ccc", "d/blob.bin", CONTENT)
    _flip(tmp_path / "root" / "ccc" / "d" / "blob.bin", offset)
    with store.open_blob("ccc", "d/blob.bin") as stream, \
            pytest.raises(IntegrityError) as raised:
        READS[how](stream)
    error = raised.value
    assert (error.service, error.container, error.blob) == ("local", "ccc", "d/blob.bin")
    assert error.algorithm == "crc32"


@pytest.mark.parametrize("how", sorted(READS))
def test_an_intact_blob_streams_whole(tmp_path: Path, how: str) -> None:
    store = _store(tmp_path / "root", checksum="crc32")
    store.create_blob("ccc", "blob.bin", CONTENT)
    with store.open_blob("ccc", "blob.bin") as stream:
        assert READS[how](stream) == CONTENT
        assert stream.read() == b""


def test_a_damaged_snapshot_stream_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path / "root", checksum="crc32")
    store.create_blob("ccc", "blob.bin", CONTENT)
    snapshot = store.snapshot_blob("ccc", "blob.bin").snapshot
    store.create_blob("ccc", "blob.bin", b"new")
    (snapshot_file,) = (tmp_path / "root" / ".xtstore" / "snapshots").rglob(snapshot)
    _flip(snapshot_file, 99)
    with store.open_blob("ccc", "blob.bin", snapshot=snapshot) as stream, \
            pytest.raises(IntegrityError):
        stream.read()
    with store.open_blob("ccc", "blob.bin") as stream:
        assert stream.read() == b"new"


def test_a_seek_turns_the_check_off(tmp_path: Path) -> None:
    store = _store(tmp_path / "root", checksum="crc32")
    store.create_blob("ccc", "blob.bin", CONTENT)
    _flip(tmp_path / "root" / "ccc" / "blob.bin", len(CONTENT) - 1)
    with store.open_blob("ccc", "blob.bin") as stream:
        stream.seek(200_000)
        assert len(stream.read()) == len(CONTENT) - 200_000  # read, not checked
    with store.open_blob("ccc", "blob.bin") as stream:
        stream.seek(10)
        stream.seek(0)  # the start again: checked
        with pytest.raises(IntegrityError):
            stream.read()


def test_bytes_appended_after_the_stream_opened_are_read_unchecked(tmp_path: Path) -> None:
    store = _store(tmp_path / "root", checksum="crc32")
    store.create_blob("ccc", "log", CONTENT)
    with store.open_blob("ccc", "log") as stream:
        first = stream.read(1000)
        store.append_blob("ccc", "log", b"more")  # in place: the file the stream reads
        assert first + stream.read() == CONTENT + b"more"


def test_an_appended_blob_streams_unchecked_and_is_never_falsely_refused(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path / "root", checksum="crc32")
    store.create_blob("ccc", "log", CONTENT)
    store.append_blob("ccc", "log", b"tail")  # the record no longer matches its size
    with store.open_blob("ccc", "log") as stream:
        assert type(stream.raw) is io.FileIO  # nothing to check: the plain file
        assert stream.read() == CONTENT + b"tail"


def test_without_the_key_the_stream_is_the_plain_file(tmp_path: Path) -> None:
    store = _store(tmp_path / "root")
    store.create_blob("ccc", "blob.bin", CONTENT)
    _flip(tmp_path / "root" / "ccc" / "blob.bin", 5)
    with store.open_blob("ccc", "blob.bin") as stream:
        assert type(stream.raw) is io.FileIO
        assert len(stream.read()) == len(CONTENT)  # the file system's word only
