"""Clauses "Ranged reads" of docs/contract.md §1 ("Ranged reads and writable blobs", and
"Streaming" for ``open_blob``): ``get_blob_range`` and seekable ``open_blob`` streams, with
bounded memory over a large blob."""

from __future__ import annotations

import array
import os
import random
import sys
from pathlib import Path
from typing import IO, Any

import pytest

from xtstore.errors import BlobNotFound, InvalidArgument, PreconditionFailed
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, new_container_name, put_bytes
from xtstore.testing.checks import (
    check,
    check_equal,
    check_raises,
    fail,
    precondition,
    require_feature,
    short,
)
from xtstore.testing.clauses_streaming import _heap_growth, _PeakRss, write_pattern_file
from xtstore.testing.options import MiB

__all__ = ["RangeClauses"]

RANGE = ("get_blob_range: returns content[start:end], end exclusive, cut at the blob's end "
         "(b'' from at or past it)")
RANGE_SNAPSHOT = "get_blob_range: with snapshot=, the snapshot's bytes, not the changed blob's"
RANGE_MISSING = "get_blob_range: a missing blob or snapshot raises BlobNotFound"
RANGE_ARGS = ("get_blob_range: offsets that are not ints >= 0, or an end before the start, "
              "raise InvalidArgument before any request")
SEEKABLE = ("open_blob: the stream is readable and seekable: seek (SEEK_SET, SEEK_CUR, "
            "SEEK_END), tell, read(n), readinto and read() agree with the blob's bytes")
RANDOM = "open_blob: random seeks and reads over a large blob match the bytes"
RANDOM_MEMORY = ("open_blob: random seeks and reads over a large blob use memory bounded "
                 "independently of the blob's size")
COLUMNAR = ("open_blob: a columnar reader's pattern (the size from the end, the footer, then "
            "scattered ranges) reads the right bytes")
ONE_VERSION = ("open_blob: a stream never mixes two versions: after the blob is overwritten, "
               "seeks and reads give the version opened or raise PreconditionFailed")

RANDOM_READS = 64
"""Seek-and-read steps over the large blob (each a seek then one read of up to 1 MiB)."""
SEED = 20241
"""The random seeks' seed, so that a failure can be replayed."""


def sample(size: int) -> bytes:
    """``size`` bytes in which every 4-byte word is its own offset: a wrong range shows where
    it came from."""
    words = array.array("I", range((size + 3) // 4))
    if sys.byteorder == "little":
        words.byteswap()
    return words.tobytes()[:size]


def _where(data: bytes, expected: bytes) -> str:
    if data == expected:
        return "same"
    if len(data) != len(expected):
        return f"{len(data)} bytes instead of {len(expected)}"
    first = next(i for i, (a, b) in enumerate(zip(data, expected, strict=True)) if a != b)
    return f"{len(data)} bytes, first difference at byte {first}"


def check_bytes(got: object, expected: bytes, clause: str, what: str) -> None:
    """Fail unless ``got`` is ``bytes`` equal to ``expected`` (the message says where not)."""
    if not isinstance(got, bytes):
        fail(clause, f"{what}: returned {type(got).__name__} {short(got)}, not bytes")
    if got != expected:
        fail(clause, f"{what}: {_where(got, expected)}; expected {short(expected[:40])}..., "
             f"got {short(got[:40])}...")


def read_exactly(stream: IO[bytes], size: int) -> bytes:
    """``size`` bytes from ``stream`` (fewer only at its end), over as many reads as it needs:
    a raw stream may return less than asked."""
    parts = []
    while size > 0:
        data = stream.read(size)
        if not data:
            break
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


def readinto_exactly(stream: Any, size: int) -> bytes:
    """Like :func:`read_exactly`, through ``readinto`` into a ``bytearray``."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        count = stream.readinto(view[filled:])
        if not count:
            break
        filled += count
    return bytes(buffer[:filled])


def range_of(store: Store, container: str, blob: str, start: int, end: int | None,
             clause: str, what: str, snapshot: str | None = None) -> bytes:
    """``store.get_blob_range(...)``; an error fails ``clause`` (a valid range must not raise)."""
    try:
        return store.get_blob_range(container, blob, start, end, snapshot=snapshot)
    except Exception as error:
        fail(clause, f"{what} raised {type(error).__name__}: {error}")


class RangeClauses(SuiteBase):
    def test_get_blob_range_returns_the_slice(self, store: Store, container: str) -> None:
        size = 300_007
        content = sample(size)
        with precondition(RANGE, "uploading the blob with create_blob_from_path"):
            put_bytes(store, container, "r.bin", content)
            put_bytes(store, container, "empty.bin", b"")
        cases: list[tuple[int, int | None]] = [
            (0, None), (0, size), (0, 1), (1, 2), (4097, 200_001), (size - 1, None),
            (size - 10, size), (0, size + 1), (5, size + 10 * MiB), (size, None),
            (size, size), (size, size + 5), (size + 1, None), (size + MiB, size + 2 * MiB),
            (123, 123), (0, 0),
        ]
        for start, end in cases:
            what = f"get_blob_range(start={start}, end={end}) of {size} bytes"
            check_bytes(range_of(store, container, "r.bin", start, end, RANGE, what),
                        content[start:end], RANGE, what)
        check_bytes(store.get_blob_range(container, "r.bin", 10), content[10:], RANGE,
                    "get_blob_range(start=10) with end left out")
        for start, end in ((0, None), (0, 10), (3, None), (3, 7)):
            what = f"get_blob_range(start={start}, end={end}) of an empty blob"
            check_bytes(range_of(store, container, "empty.bin", start, end, RANGE, what), b"",
                        RANGE, what)

    def test_get_blob_range_of_a_snapshot_while_the_blob_changed(
        self, store: Store, container: str
    ) -> None:
        old, new = sample(70_000), bytes(reversed(sample(90_000)))
        with precondition(RANGE_SNAPSHOT, "uploading the first version"):
            put_bytes(store, container, "s.bin", old)
        require_feature(store, "snapshots", lambda: store.snapshot_blob(container, "s.bin"))
        snapshot = store.snapshot_blob(container, "s.bin").snapshot
        with precondition(RANGE_SNAPSHOT, "overwriting the blob"):
            put_bytes(store, container, "s.bin", new)
        for start, end in ((0, None), (100, 60_000), (69_990, None), (70_000, None),
                           (80_000, 85_000)):
            what = f"the snapshot's range (start={start}, end={end})"
            check_bytes(range_of(store, container, "s.bin", start, end, RANGE_SNAPSHOT, what,
                                 snapshot=snapshot), old[start:end], RANGE_SNAPSHOT, what)
            what = f"the blob's range (start={start}, end={end})"
            check_bytes(range_of(store, container, "s.bin", start, end, RANGE_SNAPSHOT, what),
                        new[start:end], RANGE_SNAPSHOT, what)
        with store.open_blob(container, "s.bin", snapshot=snapshot) as stream:
            stream.seek(1000)
            check_bytes(read_exactly(stream, 500), old[1000:1500], RANGE_SNAPSHOT,
                        "open_blob(snapshot=...) after seek(1000), read(500)")

    def test_get_blob_range_of_a_missing_blob_raises_blob_not_found(
        self, store: Store, container: str
    ) -> None:
        store.create_blob(container, "present.txt", "here")
        for start, end in ((0, None), (0, 10), (5, None)):
            check_raises(BlobNotFound, f"{RANGE_MISSING} (start={start}, end={end})",
                         store.get_blob_range, container, "missing.bin", start, end)
        check_raises(BlobNotFound, f"{RANGE_MISSING} (below a blob)", store.get_blob_range,
                     container, "present.txt/below", 0, 4)
        if store.capabilities().snapshots.available:
            snapshot = store.snapshot_blob(container, "present.txt").snapshot
            store.delete_blob(container, "present.txt", snapshot=snapshot)
            check_raises(BlobNotFound, f"{RANGE_MISSING} (a deleted snapshot)",
                         store.get_blob_range, container, "present.txt", 0, 4,
                         snapshot=snapshot)

    def test_get_blob_range_bad_offsets_raise_invalid_argument_before_any_request(
        self, store: Store, container: str
    ) -> None:
        missing_container = new_container_name()
        bad: list[tuple[Any, Any]] = [
            (-1, None), (-1, 5), (0, -1), (10, 9), (5, 0), ("0", None), (0, "10"), (1.5, None),
            (0, 2.0), (True, None), (0, False), (None, None),
        ]
        for start, end in bad:
            what = f"start={start!r}, end={end!r}"
            # On a missing blob and a missing container: an offset checked after a request
            # would raise BlobNotFound or ContainerNotFound instead.
            for where, blob in ((container, "missing.bin"), (missing_container, "a.bin")):
                error = check_raises(InvalidArgument, f"{RANGE_ARGS} ({what})",
                                     store.get_blob_range, where, blob, start, end)
                check(isinstance(error, ValueError), RANGE_ARGS,
                      f"InvalidArgument is not a ValueError: {type(error).__mro__}")
                check(where in str(error) and blob in str(error), RANGE_ARGS,
                      f"({what}) the error does not name the container and blob: {error}")
        check(not store.does_container_exist(missing_container), RANGE_ARGS,
              "a refused range created the container")
        check_equal(store.list_blobs(container), [], RANGE_ARGS, "listing after refused ranges")

    def test_open_blob_is_readable_and_seekable(self, store: Store, container: str) -> None:
        size = 200_003
        content = sample(size)
        with precondition(SEEKABLE, "uploading the blob with create_blob_from_path"):
            put_bytes(store, container, "seek.bin", content)
        with store.open_blob(container, "seek.bin") as stream:
            check(stream.readable(), SEEKABLE, "readable() is False")
            check(stream.seekable(), SEEKABLE, "seekable() is False")
            check_equal(stream.tell(), 0, SEEKABLE, "tell() when opened")
            check_bytes(read_exactly(stream, 10), content[:10], SEEKABLE, "read(10) first")
            check_equal(stream.tell(), 10, SEEKABLE, "tell() after read(10)")
            steps: list[tuple[int, int]] = [
                (1000, os.SEEK_SET), (500, os.SEEK_CUR), (-100, os.SEEK_CUR),
                (-10, os.SEEK_END), (0, os.SEEK_SET), (0, os.SEEK_END),
                (size - 70_000, os.SEEK_SET), (-size, os.SEEK_END), (150_000, os.SEEK_SET),
                (-149_000, os.SEEK_CUR), (0, os.SEEK_CUR),
            ]
            position = 10
            for offset, whence in steps:
                name = ("SEEK_SET", "SEEK_CUR", "SEEK_END")[whence]
                expected = offset + (0, position, size)[whence]
                moved = stream.seek(offset, whence)
                check_equal(moved, expected, SEEKABLE, f"seek({offset}, {name}) from "
                            f"{position} returned")
                check_equal(stream.tell(), expected, SEEKABLE, f"tell() after seek({offset}, "
                            f"{name})")
                check_bytes(read_exactly(stream, 600), content[expected:expected + 600],
                            SEEKABLE, f"read(600) after seek({offset}, {name}) to {expected}")
                position = min(expected + 600, size)
                check_equal(stream.tell(), position, SEEKABLE, "tell() after read(600)")
            stream.seek(5000)
            check_bytes(readinto_exactly(stream, 4096), content[5000:9096], SEEKABLE,
                        "readinto(4096 bytes) after seek(5000)")
            check_equal(stream.tell(), 9096, SEEKABLE, "tell() after readinto")
            stream.seek(size - 33)
            check_bytes(stream.read(), content[-33:], SEEKABLE, "read() after seek(size - 33)")
            check_bytes(stream.read(), b"", SEEKABLE, "read() at the end")
            check_bytes(stream.read(10), b"", SEEKABLE, "read(10) at the end")
            stream.seek(size + 1000)
            check_bytes(stream.read(10), b"", SEEKABLE, "read(10) after a seek past the end")
            stream.seek(3)
            check_bytes(stream.read(0), b"", SEEKABLE, "read(0)")
            check_bytes(read_exactly(stream, 4), content[3:7], SEEKABLE,
                        "read(4) after seek(3) from past the end")
            stream.seek(100_000)
            check_bytes(stream.read(), content[100_000:], SEEKABLE, "read() after seek(100000)")
            try:
                stream.seek(-1)
            except (ValueError, OSError):
                pass
            else:
                fail(SEEKABLE, "seek(-1) did not raise ValueError or OSError")

    def test_random_seeks_and_reads_over_a_large_blob_match_the_bytes(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        options = self.options
        size = options.large_blob_size
        source = tmp_path / "large.bin"
        write_pattern_file(source, size)
        with precondition(RANDOM, f"uploading {size} bytes with create_blob_from_path"):
            store.create_blob_from_path(container, "large.bin", str(source))
        chance = random.Random(SEED)
        rss = _PeakRss()
        with _heap_growth() as heap, rss, open(source, "rb") as local, \
                store.open_blob(container, "large.bin") as stream:
            position = 0
            for step in range(RANDOM_READS):
                kind = chance.randrange(4)
                length = chance.choice((1, 7, 4096, 65_537, chance.randrange(1, MiB)))
                if kind == 3:
                    start = chance.randrange(size + 1)
                    got = store.get_blob_range(container, "large.bin", start, start + length)
                    local.seek(start)
                    expected = local.read(length)
                    what = f"get_blob_range({start}, {start + length})"
                else:
                    whence = kind
                    target = chance.randrange(size + 1)
                    offset = target - (0, position, size)[whence]
                    name = ("SEEK_SET", "SEEK_CUR", "SEEK_END")[whence]
                    try:
                        moved = stream.seek(offset, whence)
                    except Exception as error:
                        fail(RANDOM, f"step {step} (seed {SEED}): seek({offset}, {name}) from "
                             f"{position} raised {type(error).__name__}: {error}")
                    check_equal(moved, target, RANDOM, f"step {step} (seed {SEED}): "
                                f"seek({offset}, {name}) from {position} returned")
                    local.seek(target)
                    expected = local.read(length)
                    into = step % 3 == 0
                    got = readinto_exactly(stream, length) if into else read_exactly(
                        stream, length)
                    what = (f"seek({offset}, {name}) to {target}, then "
                            f"{'readinto' if into else 'read'}({length})")
                    position = local.tell()
                    check_equal(stream.tell(), position, RANDOM,
                                f"step {step} (seed {SEED}): tell() after {what}")
                check_bytes(got, expected, RANDOM, f"step {step} (seed {SEED}): {what}")
            local.seek(size - 5000)
            stream.seek(-5000, os.SEEK_END)
            check_bytes(stream.read(), local.read(), RANDOM, "read() of the last 5000 bytes")
        if not options.bounded_memory:
            pytest.skip("the bytes matched; memory not measured: SuiteOptions(bounded_memory="
                        "False), this store holds blobs in memory")
        check(heap[0] <= options.memory_limit, RANDOM_MEMORY,
              f"{RANDOM_READS} seeks and reads over {size} bytes grew the Python heap by "
              f"{heap[0]} bytes (limit {options.memory_limit})")
        limit = options.memory_limit + options.rss_slack
        check(rss.growth <= limit, RANDOM_MEMORY, f"{RANDOM_READS} seeks and reads over {size} "
              f"bytes grew the resident size by {rss.growth} bytes (limit {limit})")

    def test_columnar_reader_pattern_reads_the_footer_then_scattered_ranges(
        self, store: Store, container: str
    ) -> None:
        # What pyarrow.parquet does with a file object (without needing pyarrow): the size
        # from seek(0, SEEK_END), the 8-byte footer naming the metadata's length, the
        # metadata, then column chunks here and there, some through readinto.
        body = sample(min(self.options.large_blob_size, 3 * MiB) + 4321)
        chunks = [(11, 70_000), (len(body) // 3, 12_345), (len(body) - 80_000, 80_000),
                  (len(body) // 2, 1), (200_000, 300_000)]
        metadata = b"".join(f"{start}:{length};".encode() for start, length in chunks)
        content = body + metadata + len(metadata).to_bytes(4, "little") + b"PAR1"
        with precondition(COLUMNAR, "uploading the blob with create_blob_from_path"):
            put_bytes(store, container, "table.parquet", content)
        with store.open_blob(container, "table.parquet") as stream:
            check(stream.seekable(), COLUMNAR, "seekable() is False")
            size = stream.seek(0, os.SEEK_END)
            check_equal(size, len(content), COLUMNAR, "seek(0, SEEK_END): the size")
            check_equal(stream.tell(), size, COLUMNAR, "tell() at the end")
            stream.seek(size - 8)
            footer = read_exactly(stream, 8)
            check_bytes(footer[4:], b"PAR1", COLUMNAR, "the footer's magic")
            length = int.from_bytes(footer[:4], "little")
            check_equal(length, len(metadata), COLUMNAR, "the metadata length in the footer")
            stream.seek(size - 8 - length)
            check_bytes(read_exactly(stream, length), metadata, COLUMNAR, "the metadata")
            for number, (start, count) in enumerate(chunks):
                stream.seek(start)
                got = readinto_exactly(stream, count) if number % 2 else read_exactly(
                    stream, count)
                check_bytes(got, content[start:start + count], COLUMNAR,
                            f"column chunk {number} ({count} bytes at {start})")
                check_bytes(store.get_blob_range(container, "table.parquet", start,
                                                 start + count),
                            content[start:start + count], COLUMNAR,
                            f"get_blob_range of column chunk {number}")

    def test_open_blob_never_mixes_two_versions_after_an_overwrite(
        self, store: Store, container: str
    ) -> None:
        size = min(self.options.large_blob_size, 2 * MiB) + 999
        old, new = b"o" * size, b"n" * (size + 10)
        with precondition(ONE_VERSION, "uploading the first version"):
            put_bytes(store, container, "v.bin", old)
        with store.open_blob(container, "v.bin") as stream:
            seen = [read_exactly(stream, 100)]
            check_bytes(seen[0], old[:100], ONE_VERSION, "read(100) first")
            with precondition(ONE_VERSION, "overwriting the blob"):
                put_bytes(store, container, "v.bin", new)
            try:
                for start in (size // 2, 10, size - 50):
                    stream.seek(start)
                    seen.append(read_exactly(stream, 100))
            except PreconditionFailed:
                pass
            versions = {bytes(chunk[:1]) for chunk in seen}
            check(len(versions) == 1, ONE_VERSION, f"the reads before and after the overwrite "
                  f"gave both versions: {sorted(versions)}")
            for chunk in seen:
                check(chunk in (old[:len(chunk)], new[:len(chunk)]) and len(set(chunk)) <= 1,
                      ONE_VERSION, f"a read gave {short(chunk)}, a mix of two versions")
