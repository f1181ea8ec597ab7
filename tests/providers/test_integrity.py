"""Integrity on the local providers (issue 2.3): store-file with ``checksum: crc32`` refuses a
blob whose file was damaged on disk, on whole reads and downloads, leaving nothing at the
destination; a blob appended to in place is never falsely refused; store-fsspec never installs
a download that ended early. The shared check itself (``xtstore.providers._shared``) is
tested here too. Azure and S3: tests/providers/{azure,s3}/test_integrity.py."""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import ConfigError, IntegrityError, TransientError
from xtstore.localfiles.oscalls import PROGRESS_CHUNK
from xtstore.providers._shared import Expected, check_bytes, verified_local_file

CONTENT = os.urandom(300 * 1024)


def _file_store(root: Path, **keys: Any) -> Any:
    entry = {"type": "storage", "provider": "store-file", "path": str(root),
             "retry": {"attempts": 2, "base-delay": 0.01, "max-delay": 0.01}, **keys}
    return xtstore.get_storage("local", config={"external-services": {"local": entry}})


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


@pytest.fixture
def checked(tmp_path: Path) -> Any:
    store = _file_store(tmp_path / "root", checksum="crc32")
    store.create_container("ccc")
    return store


def _write(store: Any, how: str, name: str, source_dir: Path) -> None:
    if how == "bytes":
        store.create_blob("ccc", name, CONTENT)
    elif how == "stream":
        store.create_blob_from_stream("ccc", name, io.BytesIO(CONTENT))
    else:
        source = source_dir / "source.bin"
        source.write_bytes(CONTENT)
        store.create_blob_from_path("ccc", name, str(source))


@pytest.mark.parametrize("how", ["bytes", "stream", "path"])
def test_a_blob_damaged_on_disk_is_refused(checked: Any, tmp_path: Path, how: str) -> None:
    _write(checked, how, "d/blob.bin", tmp_path)
    assert checked.get_blob_bytes("ccc", "d/blob.bin") == CONTENT
    _flip(tmp_path / "root" / "ccc" / "d" / "blob.bin", 1234)
    with pytest.raises(IntegrityError) as raised:
        checked.get_blob_bytes("ccc", "d/blob.bin")
    assert raised.value.container == "ccc" and raised.value.blob == "d/blob.bin"
    assert raised.value.algorithm == "crc32"
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.bin").write_bytes(b"old")
    with pytest.raises(IntegrityError):
        checked.get_blob_to_path("ccc", "d/blob.bin", str(out / "new.bin"))
    with pytest.raises(IntegrityError):
        checked.get_blob_to_path("ccc", "d/blob.bin", str(out / "kept.bin"))
    assert sorted(p.name for p in out.iterdir()) == ["kept.bin"]  # no temporary file either
    assert (out / "kept.bin").read_bytes() == b"old"


def test_an_intact_blob_reads_and_downloads(checked: Any, tmp_path: Path) -> None:
    checked.create_blob("ccc", "blob.bin", CONTENT)
    checked.get_blob_to_path("ccc", "blob.bin", str(tmp_path / "got.bin"))
    assert (tmp_path / "got.bin").read_bytes() == CONTENT
    recorded = os.getxattr(tmp_path / "root" / "ccc" / "blob.bin", "user.xtstore.crc32")
    assert recorded == f"{len(CONTENT)}:{zlib.crc32(CONTENT):08x}".encode()


def test_appends_in_place_are_never_falsely_refused(checked: Any) -> None:
    checked.create_blob("ccc", "log.txt", b"first\n")
    checked.append_blob("ccc", "log.txt", b"second\n")
    checked.append_blob("ccc", "log.txt", b"third\n", append_with_rewrite=True)
    checked.append_blob("ccc", "log.txt", b"fourth\n")
    assert checked.get_blob_bytes("ccc", "log.txt") == b"first\nsecond\nthird\nfourth\n"


def test_a_snapshot_shares_the_record_of_its_blob(checked: Any, tmp_path: Path) -> None:
    checked.create_blob("ccc", "blob.bin", CONTENT)
    snapshot = checked.snapshot_blob("ccc", "blob.bin")
    assert checked.get_blob_bytes("ccc", "blob.bin", snapshot=snapshot.snapshot) == CONTENT
    _flip(tmp_path / "root" / "ccc" / "blob.bin", 7)  # the same file: a hard link
    with pytest.raises(IntegrityError):
        checked.get_blob_bytes("ccc", "blob.bin", snapshot=snapshot.snapshot)


def test_without_the_key_nothing_is_recorded_or_checked(tmp_path: Path) -> None:
    store = _file_store(tmp_path / "root")
    store.create_container("ccc")
    store.create_blob("ccc", "blob.bin", CONTENT)
    path = tmp_path / "root" / "ccc" / "blob.bin"
    assert "user.xtstore.crc32" not in os.listxattr(path)
    _flip(path, 5)
    assert store.get_blob_bytes("ccc", "blob.bin") != CONTENT  # the file system's word only


def test_an_unknown_checksum_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="checksum"):
        _file_store(tmp_path / "root", checksum="md5")


def test_fsspec_never_installs_a_download_that_ended_early(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'root'}"
    config = {"external-services": {"fs": {
        "type": "storage", "provider": "store-fsspec", "url": url,
        "retry": {"attempts": 1}}}}
    store = xtstore.get_storage("fs", config=config)
    store.create_container("ccc")
    data = os.urandom(PROGRESS_CHUNK + 4096)
    store.create_blob("ccc", "big.bin", data)
    (blob_file,) = (tmp_path / "root" / "ccc").glob("big.bin")

    def cut_short(done: int, total: int) -> None:
        if 0 < done < total:  # the file shrinks after its first chunk was read
            os.truncate(blob_file, done + 100)

    out = tmp_path / "out"
    with pytest.raises(IntegrityError, match="bytes where the store has"):
        store.get_blob_to_path("ccc", "big.bin", str(out / "big.bin"), progress_callback=cut_short)
    assert not out.exists() or list(out.iterdir()) == []


# ---- the shared check ----

def test_the_shared_check_compares_length_and_digest(tmp_path: Path) -> None:
    md5 = hashlib.md5(b"abc").digest()
    assert check_bytes(b"abc", Expected(3, "md5", md5)) == b"abc"
    with pytest.raises(IntegrityError, match="md5"):
        check_bytes(b"abd", Expected(3, "md5", md5))
    with pytest.raises(IntegrityError) as raised:
        check_bytes(b"ab", Expected(3))
    assert raised.value.algorithm == "length"
    assert isinstance(raised.value, TransientError)  # the retry layer reads again
    # A checksum xtstore cannot compute (CRC64, CRC32C) leaves the length check only.
    assert check_bytes(b"abc", Expected(3, "crc64", b"\0" * 8)) == b"abc"
    assert Expected.from_base64(3, "crc32", "not base64!") == Expected(3)

    dest = tmp_path / "dest.bin"
    with pytest.raises(IntegrityError), verified_local_file(str(dest)) as local:
        local.expect(Expected(3, "crc32", zlib.crc32(b"abc").to_bytes(4, "big")))
        local.file.write(b"abd")
    assert list(tmp_path.iterdir()) == []
    with verified_local_file(str(dest)) as local:
        local.expect(Expected(3, "crc32", zlib.crc32(b"abc").to_bytes(4, "big")))
        local.file.write(b"abc")
    assert dest.read_bytes() == b"abc"


def _crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


@pytest.mark.parametrize("piece", [1, 777, 4096, 10**6])
def test_the_shared_check_computes_a_composite_checksum_part_by_part(piece: int) -> None:
    # S3's checksum of a multipart object: the checksum of its parts' checksums, concatenated;
    # the content may arrive in pieces that do not follow the parts.
    parts = [os.urandom(5000), os.urandom(5000), os.urandom(123)]
    data = b"".join(parts)
    sizes = tuple(len(part) for part in parts)
    for algorithm, digest in (("crc32", _crc32), ("sha256", lambda d: hashlib.sha256(d).digest())):
        composite = digest(b"".join(digest(part) for part in parts))
        expected = Expected(len(data), algorithm, composite, sizes)
        hasher = expected.hasher()
        assert hasher is not None
        for start in range(0, len(data), piece):
            hasher.update(data[start:start + piece])
        assert hasher.digest() == composite
        assert check_bytes(data, expected) == data
        damaged = bytearray(data)
        damaged[6000] ^= 1
        with pytest.raises(IntegrityError, match=f"composite {algorithm}"):
            check_bytes(bytes(damaged), expected)
        # The same bytes split at other part boundaries have another composite checksum.
        with pytest.raises(IntegrityError):
            check_bytes(data, Expected(len(data), algorithm, composite, (5000, 5123)))
