"""Clauses "Streaming" and "Whole or nothing" of docs/contract.md §1: bounded memory, progress,
parent folders, zero-byte blobs, no torn reads, no partial downloads."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from xtstore.errors import BlobNotFound
from xtstore.store import Store
from xtstore.testing.base import SuiteBase
from xtstore.testing.checks import (
    check,
    check_equal,
    check_raises,
    fail,
    precondition,
    properties_of,
)
from xtstore.testing.options import MiB

__all__ = ["StreamingClauses", "WholeOrNothingClauses", "file_size_limit", "provider_of"]

PROGRESS = ("Streaming: progress_callback(current, total) is called with non-decreasing "
            "values and ends at (total, total)")
MEMORY = "Streaming: memory bounded independently of the blob's size"
WHOLE = "Whole or nothing: a reader never sees a partly written blob"
NO_PARTIAL = "Whole or nothing: a download never leaves a partial dest_fn behind after a failure"


def write_pattern_file(path: Path, size: int) -> str:
    """Write ``size`` bytes that differ from MiB to MiB; return their sha256."""
    digest = hashlib.sha256()
    block = os.urandom(MiB)
    with open(path, "wb") as out:
        written, number = 0, 0
        while written < size:
            chunk = (number.to_bytes(8, "big") + block[8:])[: size - written]
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            number += 1
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_progress(calls: list[tuple[int, int]], total: int, what: str) -> None:
    check(calls, PROGRESS, f"{what}: progress_callback was never called")
    currents = [current for current, _ in calls]
    for before, after in itertools.pairwise(currents):
        check(after >= before, PROGRESS, f"{what}: current went from {before} to {after}")
    check_equal(calls[-1], (total, total), PROGRESS, f"{what}: last call")
    totals = sorted({seen_total for _, seen_total in calls})
    check_equal(totals, [total], PROGRESS, f"{what}: total_bytes passed to the callback")


def provider_of(store: Store) -> Any:
    """The provider inside ``store``: what a clause calls to see what the provider itself does
    (``Store`` completes a progress sequence the provider left unfinished)."""
    return getattr(store, "provider", store)


def recorder() -> tuple[list[tuple[int, int]], Callable[[int, int], None]]:
    """A progress callback and the list of the calls it receives."""
    calls: list[tuple[int, int]] = []
    return calls, lambda current, total: calls.append((current, total))


try:
    import resource
except ImportError:  # not on Windows: the clauses then fail transfers another way only
    resource = None  # type: ignore[assignment]


@contextmanager
def file_size_limit(limit: int) -> Iterator[bool]:
    """While inside, no file this process writes can grow past ``limit`` bytes (a write beyond
    it raises ``OSError`` EFBIG; Python ignores SIGXFSZ): a transfer to or from a local file
    fails part-way whether or not its code cooperates. Yields False where that cannot be set."""
    if resource is None:
        yield False
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if hard != resource.RLIM_INFINITY and hard < limit:
        yield False
        return
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield True
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


class _PeakRss:
    """Samples the process's resident size in a thread; ``growth`` is peak minus start."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.start = int(self._process.memory_info().rss)
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, int(self._process.memory_info().rss))

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start


@contextmanager
def _heap_growth() -> Iterator[list[int]]:
    """Yields a list that receives the Python heap's peak growth (bytes) at exit."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    result: list[int] = []
    try:
        yield result
    finally:
        _, peak = tracemalloc.get_traced_memory()
        result.append(peak - start)
        if not was_tracing:
            tracemalloc.stop()


class StreamingClauses(SuiteBase):
    def test_streaming_uses_bounded_memory(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        options = self.options
        if not options.bounded_memory:
            pytest.skip("SuiteOptions(bounded_memory=False): this store holds blobs in memory")
        size = options.large_blob_size
        source, dest = tmp_path / "large.bin", tmp_path / "down" / "large.bin"
        # dest's folder exists: creating it is another clause's subject, not this one's.
        dest.parent.mkdir()
        digest = write_pattern_file(source, size)
        for direction in ("upload", "download"):
            rss = _PeakRss()
            with _heap_growth() as heap, rss:
                if direction == "upload":
                    store.create_blob_from_path(container, "large.bin", str(source))
                else:
                    store.get_blob_to_path(container, "large.bin", str(dest))
            check(heap[0] <= options.memory_limit, MEMORY,
                  f"{direction} of {size} bytes grew the Python heap by {heap[0]} bytes "
                  f"(limit {options.memory_limit})")
            limit = options.memory_limit + options.rss_slack
            check(rss.growth <= limit, MEMORY, f"{direction} of {size} bytes grew the "
                  f"resident size by {rss.growth} bytes (limit {limit})")
        check_equal(file_sha256(dest), digest, "Streaming: the download is the uploaded file",
                    "sha256")
        props = properties_of(store.get_blob_properties(container, "large.bin"), MEMORY,
                              "large.bin")
        check_equal(props.content_length, size, MEMORY, "content_length of the large blob")

    def test_progress_is_non_decreasing_and_ends_at_total(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        size = min(self.options.large_blob_size, 5 * MiB) + 12_345
        source = tmp_path / "p.bin"
        write_pattern_file(source, size)
        calls, record = recorder()
        # Store ends every sequence at (total, total) itself; the provider must report too.
        for caller, blob, dest, whose in ((store, "p.bin", "p.out", ""),
                                          (provider_of(store), "p2.bin", "p2.out",
                                           "the provider's own ")):
            calls.clear()
            caller.create_blob_from_path(container, blob, str(source), progress_callback=record)
            check_progress(calls, size, f"{whose}create_blob_from_path")
            calls.clear()
            caller.get_blob_to_path(container, "p.bin", str(tmp_path / dest),
                                    progress_callback=record)
            check_progress(calls, size, f"{whose}get_blob_to_path")
        check_equal(file_sha256(tmp_path / "p.out"), file_sha256(source),
                    "Streaming: get_blob_to_path writes the blob's content", "sha256")

    def test_get_blob_to_path_creates_parent_folders(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        clause = "Streaming: get_blob_to_path creates the parent folders of dest_fn"
        store.create_blob(container, "x/y.txt", "nested")
        dest = tmp_path / "new" / "deeper" / "still" / "y.txt"
        try:
            store.get_blob_to_path(container, "x/y.txt", str(dest))
        except Exception as error:
            fail(clause, f"downloading to {dest} raised {type(error).__name__}: {error}")
        check(dest.is_file(), clause, f"{dest} was not written")
        check_equal(dest.read_text(encoding="utf-8"), "nested", clause, "content")

    def test_zero_byte_blob(self, store: Store, container: str, tmp_path: Path) -> None:
        clause = "Streaming: a zero-byte blob is a blob like any other"
        store.create_blob(container, "empty.txt", "")
        empty = tmp_path / "empty.src"
        empty.write_bytes(b"")
        calls: list[tuple[int, int]] = []
        store.create_blob_from_path(container, "empty.bin", str(empty),
                                    progress_callback=lambda c, t: calls.append((c, t)))
        check_progress(calls, 0, "create_blob_from_path of an empty file")
        check_equal(store.list_blobs(container), ["empty.bin", "empty.txt"], clause, "listing")
        for name in ("empty.txt", "empty.bin"):
            check_equal(store.get_blob_text(container, name), "", clause, f"{name} text")
            props = properties_of(store.get_blob_properties(container, name), clause, name)
            check_equal(props.content_length, 0, clause, f"{name} content_length")
            dest = tmp_path / "out" / name
            dest.parent.mkdir(exist_ok=True)
            calls.clear()
            store.get_blob_to_path(container, name, str(dest),
                                   progress_callback=lambda c, t: calls.append((c, t)))
            check_equal(dest.read_bytes(), b"", clause, f"{name} downloaded")
            check_progress(calls, 0, f"get_blob_to_path of {name}")


class _Abort(Exception):
    """Raised by a progress callback to make a transfer fail part-way."""


_STOPPED = "stopped by the suite"


def _abort_by_progress(transfer: Callable[[Callable[[int, int], None]], object]) -> list[int]:
    """Run ``transfer(progress_callback)`` with a callback that raises at its first call, and
    return the currents of the calls the transfer went on after: ``[]`` when it failed with
    that error (a provider may wrap it in its own) or never called back. Any other error
    propagates."""
    calls: list[int] = []

    def abort(current: int, total: int) -> None:
        calls.append(current)
        raise _Abort(f"{_STOPPED} at {current}/{total}")

    try:
        transfer(abort)
    except Exception as error:
        if _STOPPED not in str(error):
            raise
        return []
    return calls


def _leftovers(folder: Path, allowed: set[str]) -> list[str]:
    return sorted(set(os.listdir(folder)) - allowed) if folder.exists() else []


class WholeOrNothingClauses(SuiteBase):
    def _part_way_source(self, path: Path, odd: int) -> bytes:
        """Write a file for a transfer to fail part-way through: up to 3 MiB plus ``odd``
        bytes, so that its size is no multiple of a chunk; return its content."""
        write_pattern_file(path, min(self.options.large_blob_size, 3 * MiB) + odd)
        return path.read_bytes()

    def test_reader_never_sees_a_partly_written_blob(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        size = min(self.options.large_blob_size, 4 * MiB)
        # str, which every provider takes (some XT-style create_blob open the file as text).
        texts = ["a" * size, "b" * (size + MiB // 2)]
        versions = [text.encode("ascii") for text in texts]
        source = tmp_path / "b.src"
        source.write_bytes(versions[1])
        with precondition(WHOLE, "writing the first version"):
            store.create_blob(container, "torn.bin", texts[0])
        readings = tmp_path / "r"
        readings.mkdir()
        done = threading.Event()
        errors: list[BaseException] = []

        def overwrite() -> None:
            try:
                deadline = time.monotonic() + 30
                for number in range(12):
                    if time.monotonic() > deadline:
                        break
                    if number % 2:
                        store.create_blob(container, "torn.bin", texts[0])
                    else:
                        store.create_blob_from_path(container, "torn.bin", str(source))
            except BaseException as error:
                errors.append(error)
            finally:
                done.set()

        writer = threading.Thread(target=overwrite, daemon=True)
        writer.start()
        reads = 0
        try:
            while not done.is_set() or reads < 2:
                dest = readings / f"{reads}.bin"
                try:
                    if reads % 2:
                        seen = store.get_blob_bytes(container, "torn.bin")
                    else:
                        store.get_blob_to_path(container, "torn.bin", str(dest))
                        seen = dest.read_bytes()
                        dest.unlink()
                except BlobNotFound:
                    fail(WHOLE, "the blob vanished while it was being overwritten")
                if seen not in versions:
                    fail(WHOLE, f"read {len(seen)} bytes starting {seen[:1]!r} and ending "
                         f"{seen[-1:]!r}: neither the old ({size} x 'a') nor the new "
                         f"({len(versions[1])} x 'b') version")
                reads += 1
        finally:
            writer.join(60)
        if errors:
            raise errors[0]

    def test_upload_failing_part_way_leaves_the_old_blob(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        source = tmp_path / "new.bin"
        new = self._part_way_source(source, 555)
        size = len(new)

        def check_whole(how: str) -> None:
            seen = store.get_blob_bytes(container, "up.bin")
            if seen not in (b"old content", new):
                fail(WHOLE, f"after an upload that failed part-way ({how}) the blob holds "
                     f"{len(seen)} bytes: neither the old content (11 bytes) nor the whole new "
                     f"file ({size} bytes)")
            check_equal(store.list_blobs(container), ["up.bin"], WHOLE,
                        f"listing after the failed upload ({how})")

        # Two ways to fail part-way, neither needing the provider's cooperation for the other:
        # a local file that cannot grow past half the new size (a provider writing the blob
        # into a local file fails, whether or not it calls progress_callback), and a
        # progress_callback that raises (a provider streaming elsewhere fails).
        limit = size // 2
        with precondition(WHOLE, "writing the old version"):
            store.create_blob(container, "up.bin", "old content")
        with file_size_limit(limit) as limited:
            if limited:
                with contextlib.suppress(Exception):
                    store.create_blob_from_path(container, "up.bin", str(source))
        if limited:
            check_whole(f"no local file could grow past {limit} bytes")
            with precondition(WHOLE, "writing the old version again"):
                store.create_blob(container, "up.bin", "old content")

        # Whether or not the upload stops, the blob must be one version or the other.
        _abort_by_progress(lambda progress: store.create_blob_from_path(
            container, "up.bin", str(source), progress_callback=progress))
        check_whole("progress_callback raised")

    def test_failed_download_of_missing_blob_leaves_nothing(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        folder = tmp_path / "dl"
        folder.mkdir()
        dest = folder / "missing.bin"
        check_raises(BlobNotFound, "get_blob_to_path of a missing blob raises BlobNotFound",
                     store.get_blob_to_path, container, "missing.bin", str(dest))
        check(not dest.exists(), NO_PARTIAL, f"{dest.name} exists after the failed download")
        check_equal(_leftovers(folder, set()), [], NO_PARTIAL, "files left beside dest_fn")

    def test_download_failing_part_way_leaves_no_partial_file(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        source = tmp_path / "big.src"
        content = self._part_way_source(source, 777)
        size = len(content)
        with precondition(NO_PARTIAL, "uploading the blob with create_blob_from_path"):
            store.create_blob_from_path(container, "big.bin", str(source))
        folder = tmp_path / "dl"
        folder.mkdir()
        dest = folder / "big.bin"

        def check_clean(how: str) -> None:
            if dest.exists():
                check_equal(dest.stat().st_size, size, NO_PARTIAL,
                            f"size of the dest_fn left by a download that failed ({how})")
                check(dest.read_bytes() == content, NO_PARTIAL,
                      f"the dest_fn left by a download that failed ({how}) has the wrong content")
                dest.unlink()
            check_equal(_leftovers(folder, set()), [], NO_PARTIAL,
                        f"temporary files left beside dest_fn ({how})")

        # The download writes a local file, so a file size limit makes any provider fail
        # part-way; a progress_callback that raises is the second way.
        limit = size // 2
        with file_size_limit(limit) as limited:
            if limited:
                try:
                    store.get_blob_to_path(container, "big.bin", str(dest))
                except Exception:
                    pass
                else:
                    fail(NO_PARTIAL, f"a download of {size} bytes succeeded although no file "
                         f"could grow past {limit} bytes")
        if limited:
            check_clean(f"no file could grow past {limit} bytes")

        went_on = _abort_by_progress(lambda progress: store.get_blob_to_path(
            container, "big.bin", str(dest), progress_callback=progress))
        check(not went_on, NO_PARTIAL, "an error raised by progress_callback did not stop the "
              "download")
        check_clean("progress_callback raised")

    def test_failed_download_into_unusable_folder_leaves_nothing(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        with precondition(NO_PARTIAL, "writing the blob"):
            store.create_blob(container, "x.bin", "x" * 1000)
        folder = tmp_path / "dl"
        folder.mkdir()
        (folder / "not-a-folder").write_text("a file where dest_fn's parent should be")
        dest = folder / "not-a-folder" / "x.bin"
        check_raises(OSError, "get_blob_to_path into a folder that cannot be made fails",
                     store.get_blob_to_path, container, "x.bin", str(dest))
        check_equal(_leftovers(folder, {"not-a-folder"}), [], NO_PARTIAL, "files left behind")
        if os.name == "posix" and os.geteuid() != 0:
            locked = tmp_path / "locked"
            locked.mkdir()
            locked.chmod(0o555)
            try:
                check_raises(OSError, "get_blob_to_path into an unwritable folder fails",
                             store.get_blob_to_path, container, "x.bin", str(locked / "x.bin"))
                check_equal(_leftovers(locked, set()), [], NO_PARTIAL, "files left behind")
            finally:
                locked.chmod(0o755)
