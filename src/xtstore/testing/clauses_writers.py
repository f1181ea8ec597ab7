"""Clauses "Writable blobs" of docs/contract.md §1 ("Ranged reads and writable blobs"):
``open_blob(..., mode="wb")`` makes its content visible whole on ``close()`` and never
otherwise, with memory bounded by one part; and content types where the store keeps them."""

from __future__ import annotations

import gc
import hashlib
import inspect
import io
import os
import pickle
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from xtstore.errors import BlobNotFound, ContainerNotFound, InvalidArgument, Unsupported
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, new_container_name, put_bytes
from xtstore.testing.checks import (
    check,
    check_equal,
    check_raises,
    fail,
    precondition,
    properties_of,
    short,
)
from xtstore.testing.clauses_ranges import check_bytes
from xtstore.testing.clauses_streaming import _heap_growth, _PeakRss
from xtstore.testing.options import MiB, SuiteOptions
from xtstore.testing.workers import stall_mid_write
from xtstore.values import BlobProperties, Support

__all__ = ["ContentTypeClauses", "WriterClauses"]

VISIBLE = ("open_blob(mode='wb'): the content becomes the blob's whole content on close(), "
           "once; until then readers see the old blob or none")
EXACT = ("open_blob(mode='wb'): the blob holds exactly the bytes written, whatever the sizes "
         "of the writes; write returns their count and tell() the total")
ABORTED = ("open_blob(mode='wb'): nothing becomes visible if the writer is aborted (an "
           "exception leaving its with block, abort(), the writer collected unclosed)")
KILLED = "open_blob(mode='wb'): nothing becomes visible if the writing process is killed"
METADATA = ("open_blob(mode='wb'): the content replaces the old blob, clearing metadata as "
            "create_blob does")
MISSING = "open_blob(mode='wb'): ContainerNotFound is raised by the open_blob call itself"
ARGUMENTS = ("open_blob: a snapshot cannot be written, and no mode but 'rb' and 'wb' opens "
             "(InvalidArgument, before any I/O)")
MEMORY = ("open_blob(mode='wb'): memory is bounded by one part, whatever the size written "
          "in small writes (the torch.save pattern)")
ARCHIVE = ("open_blob: a zip archive (what torch.save writes) round-trips: written through "
           "open_blob(mode='wb'), which cannot seek, and read back by seeking open_blob")
CONTENT_TYPE = ("Content types: a content_type given to open_blob(mode='wb') or a create "
                "method is read back in BlobProperties.content_type")

SMALL_WRITE = 64 * 1024
"""The size of each write of the bounded-memory clause (torch.save writes in small pieces)."""
TEST_TYPE = "application/x-xtstore-suite"
"""A content type no store guesses from a name, so reading it back proves it was kept."""


def crossing_size(options: SuiteOptions) -> int:
    """Bytes enough to fill several parts of any store's writer (4 MiB default spool, 5 MiB
    S3 minimum, 8 MiB chunks) and end in a partial one, within ``large_blob_size``; or
    ``options.writer_size``."""
    if options.writer_size is not None:
        return options.writer_size
    return max(min(options.large_blob_size, 9 * MiB), 1) + 17


def write_sizes(budget: int) -> Iterator[int]:
    """The sizes of the exact-bytes clause's writes, at most ``budget`` bytes in all: many
    small writes (that cross a 256 KiB chunk), then sizes around every plausible part size
    (256 KiB, 4 MiB, 5 MiB, 8 MiB), then small ones again."""
    sizes = [*(1 + (n * 37) % 997 for n in range(400)), 255 * 1024, 256 * 1024 + 1, 1,
             MiB - 1, 5 * MiB + 1, *(1 + (n * 53) % 4093 for n in range(150)), 3 * MiB + 7,
             *range(1, 40)]
    total = 0
    for size in sizes:
        if total + size <= budget:
            total += size
            yield size


def pattern_chunk(number: int, size: int) -> bytes:
    """Write number ``number``'s bytes: its number, then filler, so a lost or repeated write
    shows in the content."""
    head = number.to_bytes(4, "big")
    return (head * (size // 4 + 1))[:size]


def names(store: Store, container: str) -> list[str]:
    """The names of every blob in ``container``."""
    return [str(name) for name in store.list_blobs(container)]


def properties(store: Store, container: str, blob: str) -> BlobProperties:
    """``get_blob_properties(container, blob).properties``, failing if there is none."""
    return properties_of(store.get_blob_properties(container, blob), "Properties: "
                         "get_blob_properties has .properties", blob)


def read_digest(store: Store, container: str, blob: str) -> tuple[int, str]:
    """The blob's size and sha256, read through ``open_blob`` in 1 MiB reads."""
    digest = hashlib.sha256()
    size = 0
    with store.open_blob(container, blob) as stream:
        for data in iter(lambda: stream.read(MiB), b""):
            digest.update(data)
            size += len(data)
    return size, digest.hexdigest()


class WriterClauses(SuiteBase):
    def _check_untouched(self, store: Store, container: str, blob: str, old: bytes | None,
                         listing: list[str], clause: str, how: str) -> None:
        if old is None:
            check(not store.does_blob_exist(container, blob), clause,
                  f"{how}: the blob exists, though it did not before")
            check_raises(BlobNotFound, f"{clause} ({how}: reading the blob that was never "
                         "made)", store.get_blob_bytes, container, blob)
        else:
            seen = store.get_blob_bytes(container, blob)
            if seen != old:
                fail(clause, f"{how}: the blob holds {len(seen)} bytes starting "
                     f"{short(seen[:12])}, not its old content ({len(old)} bytes)")
        check_equal(names(store, container), listing, clause, f"{how}: listing")

    def test_writer_content_is_visible_whole_on_close_once(
        self, store: Store, container: str
    ) -> None:
        size = crossing_size(self.options)
        new = b"n" * size
        for blob, old in (("new.bin", None), ("old.bin", b"old content")):
            if old is not None:
                with precondition(VISIBLE, "writing the old version"):
                    put_bytes(store, container, blob, old)
            listing = names(store, container)
            writer = store.open_blob(container, blob, mode="wb")
            check(writer.writable(), VISIBLE, "writable() is False")
            self._check_untouched(store, container, blob, old, listing, VISIBLE,
                                  "once opened")
            for start in range(0, size, MiB):
                writer.write(new[start:start + MiB])
            writer.flush()
            self._check_untouched(store, container, blob, old, listing, VISIBLE,
                                  f"after {size} bytes written and flush(), before close()")
            writer.close()
            check(writer.closed, VISIBLE, "closed is False after close()")
            check_bytes(store.get_blob_bytes(container, blob), new, VISIBLE,
                        f"{blob} after close()")
            check_equal(names(store, container), sorted({*listing, blob}), VISIBLE,
                        f"listing after {blob} was closed")
            # A second close() must not commit again: it would bring back the writer's
            # content over what was written since.
            with precondition(VISIBLE, "overwriting the blob after close()"):
                put_bytes(store, container, blob, b"written after close")
            writer.close()
            check_bytes(store.get_blob_bytes(container, blob), b"written after close", VISIBLE,
                        f"{blob} after a second close() (it must commit once)")
            check_raises(ValueError, f"{VISIBLE} (write after close raises ValueError)",
                         writer.write, b"more")
        with store.open_blob(container, "with.bin", mode="wb") as writer:
            writer.write(b"in a with block")
            check(not store.does_blob_exist(container, "with.bin"), VISIBLE,
                  "with.bin exists before its with block ended")
        check_bytes(store.get_blob_bytes(container, "with.bin"), b"in a with block", VISIBLE,
                    "with.bin after its with block ended")
        with store.open_blob(container, "empty.bin", mode="wb"):
            pass
        check_bytes(store.get_blob_bytes(container, "empty.bin"), b"", VISIBLE,
                    "a writer closed with nothing written")
        check_equal(properties(store, container, "empty.bin").content_length,
                    0, VISIBLE, "content_length of the empty blob")

    def test_writer_stores_exactly_the_bytes_written(self, store: Store, container: str) -> None:
        budget = max(min(self.options.large_blob_size, 16 * MiB), 2 * MiB)
        expected = hashlib.sha256()
        total = 0
        with store.open_blob(container, "exact.bin", mode="wb") as writer:
            check_equal(writer.tell(), 0, EXACT, "tell() when opened")
            for number, size in enumerate(write_sizes(budget)):
                data = pattern_chunk(number, size)
                # bytes, bytearray and memoryview: what pickle, numpy and torch hand over.
                argument: Any = (data, bytearray(data), memoryview(data))[number % 3]
                count = writer.write(argument)
                kind = type(argument).__name__
                check_equal(count, size, EXACT, f"write number {number} ({kind} of {size} "
                            "bytes) returned")
                expected.update(data)
                total += size
                check_equal(writer.tell(), total, EXACT, f"tell() after write number {number}")
        size, digest = read_digest(store, container, "exact.bin")
        check_equal(size, total, EXACT, "the blob's size")
        check_equal(digest, expected.hexdigest(), EXACT, f"sha256 of the {total} bytes")
        check_equal(properties(store, container, "exact.bin").content_length, total, EXACT,
                    "content_length")
        with store.open_blob(container, "array.bin", mode="wb") as writer:
            writer.write(memoryview(bytes(range(256)) * 3).cast("B", (3, 256)))
        check_bytes(store.get_blob_bytes(container, "array.bin"), bytes(range(256)) * 3, EXACT,
                    "a two-dimensional memoryview written")

    def test_aborted_writer_leaves_the_old_blob(self, store: Store, container: str) -> None:
        size = crossing_size(self.options)
        data = b"x" * size

        class _Stop(Exception):
            pass

        def in_with_block(blob: str) -> None:
            try:
                with store.open_blob(container, blob, mode="wb") as writer:
                    writer.write(data)
                    raise _Stop
            except _Stop:
                return
            fail(ABORTED, "the exception raised in the with block did not propagate")

        def by_abort(blob: str) -> None:
            writer = store.open_blob(container, blob, mode="wb")
            writer.write(data)
            abort: Callable[[], None] | None = getattr(writer, "abort", None)
            if abort is None:
                fail(ABORTED, "the writer has no abort()")
            abort()
            check(writer.closed, ABORTED, "closed is False after abort()")
            abort()  # twice is harmless
            writer.close()  # close after abort commits nothing
            check_raises(ValueError, f"{ABORTED} (write after abort raises ValueError)",
                         writer.write, b"more")

        def dropped(blob: str) -> None:
            writer = store.open_blob(container, blob, mode="wb")
            writer.write(data)
            del writer
            gc.collect()

        ways: list[tuple[str, Callable[[str], None]]] = [
            ("an exception left the with block", in_with_block), ("abort()", by_abort),
            ("the writer was collected unclosed", dropped)]
        for how, end in ways:
            for blob, old in (("fresh.bin", None), ("kept.bin", b"old content")):
                if old is not None:
                    with precondition(ABORTED, "writing the old version"):
                        put_bytes(store, container, blob, old)
                listing = names(store, container)
                end(blob)
                self._check_untouched(store, container, blob, old, listing, ABORTED,
                                      f"{how} after {size} bytes")

    def test_killed_writer_leaves_the_old_blob(self, store: Store, container: str) -> None:
        processes = self.use_processes(store)
        size = crossing_size(self.options)
        kind = "a process killed with SIGKILL" if processes else \
            "a thread that never closes its writer (the store is not shared between processes)"
        clause = f"{KILLED} ({kind})"
        for blob, old in (("fresh.bin", None), ("kept.bin", b"old content")):
            if old is not None:
                with precondition(clause, "writing the old version"):
                    put_bytes(store, container, blob, old)
            listing = names(store, container)
            end = stall_mid_write(store, container, blob, size, processes=processes,
                                  timeout=self.options.concurrency_timeout, clause=clause)
            try:
                self._check_untouched(store, container, blob, old, listing, clause,
                                      f"while the worker holds {size} bytes written, unclosed")
            finally:
                end()
            gc.collect()
            self._check_untouched(store, container, blob, old, listing, clause,
                                  "after the worker ended without closing its writer")

    def test_writer_replaces_the_blob_and_clears_its_metadata(
        self, store: Store, container: str
    ) -> None:
        with precondition(METADATA, "writing the old version"):
            put_bytes(store, container, "m.bin", b"old content")
        metadata = store.capabilities().metadata is not Support.UNSUPPORTED
        if metadata:
            store.set_blob_metadata(container, "m.bin", {"stage": "old"})
        else:
            check_raises(Unsupported, "capabilities: a feature reported UNSUPPORTED (metadata) "
                         "raises Unsupported", store.set_blob_metadata, container, "m.bin",
                         {"stage": "old"})
        writer = store.open_blob(container, "m.bin", mode="wb")
        writer.write(b"new content, longer than the old")
        if metadata:
            check_equal(store.get_blob_properties(container, "m.bin").metadata,
                        {"stage": "old"}, METADATA, "metadata before close()")
        writer.close()
        check_bytes(store.get_blob_bytes(container, "m.bin"),
                    b"new content, longer than the old", METADATA, "content after close()")
        check_equal(properties(store, container, "m.bin").content_length, 32, METADATA,
                    "content_length")
        check_equal(store.get_blob_properties(container, "m.bin").metadata, {}, METADATA,
                    "metadata after close()")
        if not metadata:
            pytest.skip("metadata is UNSUPPORTED by this store (and raises Unsupported as it "
                        "must): content replaced, no metadata to clear")

    def test_writer_to_a_missing_container_raises_container_not_found_at_open(
        self, store: Store
    ) -> None:
        missing = new_container_name()
        error = check_raises(ContainerNotFound, MISSING, store.open_blob, missing, "a.bin",
                             mode="wb")
        check(missing in str(error), MISSING, f"the error does not name the container: {error}")
        check(not store.does_container_exist(missing), MISSING, "the container was created")

    def test_open_blob_bad_mode_or_written_snapshot_raises_invalid_argument(
        self, store: Store, container: str
    ) -> None:
        missing = new_container_name()
        # On a missing container, checked after any request they would raise
        # ContainerNotFound instead.
        for where in (container, missing):
            for mode in ("r", "w", "ab", "rb+", "wb+", "x", ""):
                error = check_raises(InvalidArgument, f"{ARGUMENTS} (mode={mode!r})",
                                     store.open_blob, where, "a.bin", mode=mode)
                check(isinstance(error, ValueError), ARGUMENTS,
                      f"InvalidArgument is not a ValueError: {type(error).__mro__}")
            error = check_raises(InvalidArgument, f"{ARGUMENTS} (snapshot with mode='wb')",
                                 store.open_blob, where, "a.bin", "some-snapshot", mode="wb")
            check(where in str(error) and "a.bin" in str(error), ARGUMENTS,
                  f"the error does not name the container and blob: {error}")
        check_equal(names(store, container), [], ARGUMENTS, "listing after the refusals")
        check(not store.does_container_exist(missing), ARGUMENTS, "the container was created")

    def test_zip_archive_round_trips_through_the_writer_and_a_seeking_reader(
        self, store: Store, container: str
    ) -> None:
        state = {"step": 12, "lr": 0.1, "name": "run-7"}
        members = {"archive/data.pkl": pickle.dumps(state),
                   "archive/data/0": os.urandom(min(self.options.large_blob_size, MiB) + 333),
                   "archive/version": b"3\n"}
        try:
            with store.open_blob(container, "model.pt", mode="wb") as writer, \
                    zipfile.ZipFile(writer, "w", zipfile.ZIP_STORED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
        except Exception as error:
            fail(ARCHIVE, f"writing the archive raised {type(error).__name__}: {error}")
        try:
            with store.open_blob(container, "model.pt") as stream, \
                    zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
                bad = archive.testzip()
                read = {name: archive.read(name) for name in members}
                with archive.open("archive/data.pkl") as member:
                    unpickled = pickle.load(member)
        except Exception as error:
            fail(ARCHIVE, f"reading the archive raised {type(error).__name__}: {error}")
        check_equal(names, list(members), ARCHIVE, "the archive's members")
        check_equal(bad, None, ARCHIVE, "the first member with a bad CRC")
        for name, data in members.items():
            check_bytes(read[name], data, ARCHIVE, f"member {name}")
        check_equal(unpickled, state, ARCHIVE, "the state unpickled from its member")

    def test_writer_memory_is_bounded_for_many_small_writes(
        self, store: Store, container: str
    ) -> None:
        options = self.options
        size = options.large_blob_size
        block = os.urandom(SMALL_WRITE)
        expected = hashlib.sha256()
        rss = _PeakRss()
        with _heap_growth() as heap, rss, \
                store.open_blob(container, "large.bin", mode="wb") as writer:
            for number, start in enumerate(range(0, size, SMALL_WRITE)):
                data = (number.to_bytes(8, "big") + block[8:])[: size - start]
                writer.write(data)
                expected.update(data)
        written, digest = read_digest(store, container, "large.bin")
        check_equal((written, digest), (size, expected.hexdigest()), MEMORY,
                    f"size and sha256 of {size} bytes written in {SMALL_WRITE}-byte writes")
        if not options.bounded_memory:
            pytest.skip("the bytes matched; memory not measured: SuiteOptions(bounded_memory="
                        "False), this store holds blobs in memory")
        check(heap[0] <= options.memory_limit, MEMORY, f"writing {size} bytes grew the Python "
              f"heap by {heap[0]} bytes (limit {options.memory_limit})")
        limit = options.memory_limit + options.rss_slack
        check(rss.growth <= limit, MEMORY, f"writing {size} bytes grew the resident size by "
              f"{rss.growth} bytes (limit {limit})")


def _takes_content_type(method: Callable[..., Any]) -> bool:
    try:
        return "content_type" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


class ContentTypeClauses(SuiteBase):
    def test_content_type_is_read_back_in_properties(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        # A name whose guessed type is another: reading TEST_TYPE back shows it was kept.
        blob = "typed/table.csv"
        with store.open_blob(container, blob, mode="wb", content_type=TEST_TYPE) as writer:
            writer.write(b"a,b\n1,2\n")
        check_bytes(store.get_blob_bytes(container, blob), b"a,b\n1,2\n", CONTENT_TYPE,
                    "the content written with a content_type")
        if not store.capabilities().content_types:
            pytest.skip("capabilities().content_types is False: the store keeps no content "
                        "types (a content_type given still writes the content)")
        check_equal(properties(store, container, blob).content_type, TEST_TYPE, CONTENT_TYPE,
                    "open_blob(mode='wb')")
        source = tmp_path / "typed.csv"
        source.write_bytes(b"x,y\n")
        creators: dict[str, Callable[..., object]] = {
            "create_blob": lambda name, **kw: store.create_blob(container, name, "x,y\n", **kw),
            "create_blob_from_path": lambda name, **kw: store.create_blob_from_path(
                container, name, str(source), **kw),
            "create_blob_from_stream": lambda name, **kw: store.create_blob_from_stream(
                container, name, io.BytesIO(b"x,y\n"), **kw),
        }
        without = []
        for method, create in creators.items():
            if not _takes_content_type(getattr(store, method)):
                without.append(method)
                continue
            name = f"typed/{method}.csv"
            create(name, content_type=TEST_TYPE)
            check_equal(properties(store, container, name).content_type,
                        TEST_TYPE, CONTENT_TYPE, method)
        if without:
            pytest.skip(f"open_blob(mode='wb') kept the content type; Store.{', '.join(without)} "
                        "take no content_type in this version of xtstore")
