"""fingerprints.py: content hashes for --checksum and check (digests, CRC32C, which hash two
sides compare), beside the mtime metadata."""

from __future__ import annotations

import hashlib
import io
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from xtstore.fingerprints import (
    Crc32c,
    blob_checksums,
    comparable,
    file_digest,
    format_mtime,
    new_hasher,
    parse_mtime,
    stream_digest,
)
from xtstore.values import BlobProperties

DATA = b"The quick brown fox jumps over the lazy dog" * 1000


def test_crc32c_matches_the_published_check_values() -> None:
    # RFC 3720 B.4 and the CRC catalogue's check value for "123456789".
    for data, expected in ((b"123456789", "e3069283"), (bytes(32), "8a9136aa"),
                           (b"\xff" * 32, "62a8ab43"), (b"", "00000000")):
        crc = Crc32c()
        crc.update(data)
        assert crc.hexdigest() == expected


def test_crc32c_of_new_hasher_is_the_table_drivens() -> None:
    # google_crc32c (C) where the GCS SDK brought it, else the table: the same digests.
    fast, table = new_hasher("crc32c"), Crc32c()
    fast.update(DATA[:3000])
    table.update(DATA[:3000])
    assert fast.hexdigest() == table.hexdigest()


def test_crc32c_in_pieces_equals_crc32c_at_once() -> None:
    whole, parts = Crc32c(), Crc32c()
    whole.update(DATA[:5000])
    for start in range(0, 5000, 333):
        parts.update(DATA[start:min(start + 333, 5000)])
    assert whole.hexdigest() == parts.hexdigest()


def test_file_and_stream_digests_are_hashlibs(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    for algorithm in ("md5", "sha256"):
        expected = hashlib.new(algorithm, DATA).hexdigest()
        assert file_digest(str(path), algorithm) == expected
        assert stream_digest(io.BytesIO(DATA), algorithm) == expected
    assert file_digest(str(path), "crc32") == f"{zlib.crc32(DATA):08x}"
    with pytest.raises(ValueError, match="sha1"):
        new_hasher("sha1")


def _properties(metadata: dict[str, str], checksums: dict[str, str]) -> BlobProperties:
    return BlobProperties.from_datetime(3, datetime(2025, 1, 1, tzinfo=timezone.utc), "e",
                                        metadata=metadata, checksums=checksums)


def test_blob_checksums_add_the_sha256_kept_in_metadata() -> None:
    digest = hashlib.sha256(b"abc").hexdigest()
    assert blob_checksums(_properties({"sha256": digest.upper()}, {"md5": "m"})) == {
        "md5": "m", "sha256": digest}
    # Not a SHA-256: ignored, never compared.
    assert blob_checksums(_properties({"sha256": "nonsense"}, {})) == {}


def test_comparable_prefers_a_hash_both_have_then_reads_the_cheaper_side() -> None:
    assert comparable({"md5", "crc32c"}, {"crc32c", "md5"}) == ("md5", False, False)
    assert comparable({"crc32c"}, {"crc32c"}) == ("crc32c", False, False)
    # A blob's md5, computed from the local file.
    assert comparable(set(), {"md5"}) == ("md5", True, False)
    assert comparable({"sha256"}, set()) == ("sha256", False, True)
    # Nothing stored anywhere: read both.
    assert comparable(set(), set()) == ("sha256", True, True)
    with pytest.raises(ValueError):
        comparable(set(), set(), dest_reads=False)
    assert comparable({"crc32c"}, {"md5"}, dest_reads=False) == ("md5", True, False)


def test_mtime_round_trips_at_nanoseconds() -> None:
    assert parse_mtime(format_mtime(1_700_000_000_123_456_789)) == 1_700_000_000_123_456_789
    assert parse_mtime("2023-11-14T22:13:20.5Z") == 1_700_000_000_500_000_000
    assert parse_mtime("yesterday") is None
