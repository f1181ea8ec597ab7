"""Clauses "Streaming" and "Whole or nothing" of DESIGN §1: bounded memory, progress,
parent folders, zero-byte blobs, no torn reads, no partial downloads."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from xtstore.errors import BlobNotFound
from xtstore.store import Store
from xtstore.testing.base import SuiteBase
from xtstore.testing.checks import check, check_equal, check_raises, fail, properties_of
from xtstore.testing.options import MiB

__all__ = ["StreamingClauses", "WholeOrNothingClauses"]

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


def _have_psutil() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


class _PeakRss:
    """Samples the process's resident size in a thread; ``growth`` is peak minus start."""

    def __init__(self) -> None:
        import psutil  # optional: only this check needs it

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
        digest = write_pattern_file(source, size)
        for direction in ("upload", "download"):
            rss = _PeakRss() if _have_psutil() else None
            with _heap_growth() as heap, rss or contextlib.nullcontext():
                if direction == "upload":
                    store.create_blob_from_path(container, "large.bin", str(source))
                else:
                    store.get_blob_to_path(container, "large.bin", str(dest))
            check(heap[0] <= options.memory_limit, MEMORY,
                  f"{direction} of {size} bytes grew the Python heap by {heap[0]} bytes "
                  f"(limit {options.memory_limit})")
            if rss is not None:
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
        calls: list[tuple[int, int]] = []
        store.create_blob_from_path(container, "p.bin", str(source),
                                    progress_callback=lambda c, t: calls.append((c, t)))
        check_progress(calls, size, "create_blob_from_path")
        calls.clear()
        store.get_blob_to_path(container, "p.bin", str(tmp_path / "p.out"),
                               progress_callback=lambda c, t: calls.append((c, t)))
        check_progress(calls, size, "get_blob_to_path")
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
            calls.clear()
            store.get_blob_to_path(container, name, str(dest),
                                   progress_callback=lambda c, t: calls.append((c, t)))
            check_equal(dest.read_bytes(), b"", clause, f"{name} downloaded")
            check_progress(calls, 0, f"get_blob_to_path of {name}")


class _Abort(Exception):
    """Raised by a progress callback to make a download fail part-way."""


def _leftovers(folder: Path, allowed: set[str]) -> list[str]:
    return sorted(set(os.listdir(folder)) - allowed) if folder.exists() else []


class WholeOrNothingClauses(SuiteBase):
    def test_reader_never_sees_a_partly_written_blob(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        size = min(self.options.large_blob_size, 4 * MiB)
        versions = [b"a" * size, b"b" * (size + MiB // 2)]
        source = tmp_path / "b.src"
        source.write_bytes(versions[1])
        store.create_blob(container, "torn.bin", versions[0])
        done = threading.Event()
        errors: list[BaseException] = []

        def overwrite() -> None:
            try:
                deadline = time.monotonic() + 30
                for number in range(12):
                    if time.monotonic() > deadline:
                        break
                    if number % 2:
                        store.create_blob(container, "torn.bin", versions[0])
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
                dest = tmp_path / "r" / f"{reads}.bin"
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
        size = min(self.options.large_blob_size, 3 * MiB) + 555
        source = tmp_path / "new.bin"
        write_pattern_file(source, size)
        store.create_blob(container, "up.bin", b"old content")

        def abort(current: int, total: int) -> None:
            raise _Abort(f"stopped by the suite at {current}/{total}")

        try:
            store.create_blob_from_path(container, "up.bin", str(source), progress_callback=abort)
        except Exception as error:
            if "stopped by the suite" not in str(error):
                raise
        seen = store.get_blob_bytes(container, "up.bin")
        if seen != b"old content":
            check_equal(len(seen), size, WHOLE, "size of the blob after an upload that failed "
                        "part-way (neither the old content nor the whole new file)")
            check(seen == source.read_bytes(), WHOLE, "the blob after an upload that failed "
                  "part-way is neither the old content nor the whole new file")
        check_equal(store.list_blobs(container), ["up.bin"], WHOLE,
                    "listing after the failed upload")

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
        size = min(self.options.large_blob_size, 3 * MiB) + 777
        content = os.urandom(size)
        store.create_blob(container, "big.bin", content)
        folder = tmp_path / "dl"
        folder.mkdir()
        dest = folder / "big.bin"

        def abort(current: int, total: int) -> None:
            raise _Abort(f"stopped by the suite at {current}/{total}")

        try:
            store.get_blob_to_path(container, "big.bin", str(dest), progress_callback=abort)
        except _Abort:
            pass
        except Exception as error:
            # A provider may wrap the callback's error; the download must still be clean.
            if "stopped by the suite" not in str(error):
                raise
        else:
            fail(NO_PARTIAL, "an error raised by progress_callback did not stop the download")
        if dest.exists():
            check_equal(dest.stat().st_size, size, NO_PARTIAL,
                        "size of dest_fn left by the aborted download")
            check(dest.read_bytes() == content, NO_PARTIAL,
                  "dest_fn left by the aborted download has the wrong content")
        check_equal(_leftovers(folder, {dest.name}), [], NO_PARTIAL,
                    "temporary files left beside dest_fn")

    def test_failed_download_into_unusable_folder_leaves_nothing(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        store.create_blob(container, "x.bin", b"x" * 1000)
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
