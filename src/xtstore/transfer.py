"""Parallel many-file transfers with one progress report and a clean stop.

A batch is a list of :class:`Transfer` items, each a single-blob operation (an upload, a
download, a copy, a move) that reports progress through a callback. :func:`run_transfers` runs
them on a thread pool. On Ctrl-C or the first failure (unless it keeps going past failures) it
stops submitting, makes every running transfer's next progress call raise
:class:`TransferCancelled` and waits for them: the stores write blobs and downloaded files
whole-or-nothing (temporary name, then rename), so nothing partial is left behind. The same
callback feeds a :class:`BandwidthLimit`, so a rate limit works whatever the provider.

Ctrl-C is taken as a flag while a batch runs in the main thread (under Python's default
handler): a ``KeyboardInterrupt`` raised at an arbitrary point of the waiting thread can land
between a lock's acquire and its ``with`` block (``concurrent.futures.wait`` takes each future's
lock that way), leave the lock held and hang every worker that finishes. The batch raises
``KeyboardInterrupt`` itself once everything stopped.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Protocol

from xtstore import fingerprints
from xtstore.fingerprints import MTIME_KEY, SHA256_KEY, format_mtime, mtime_ns
from xtstore.interface import ProgressCallback

if TYPE_CHECKING:
    from xtstore.store import Store
    from xtstore.values import BlobProperties

__all__ = [
    "DEFAULT_WORKERS",
    "BandwidthLimit",
    "Failure",
    "ProgressSink",
    "Transfer",
    "TransferCancelled",
    "TransferInterrupted",
    "TransferSummary",
    "copy_transfer",
    "download_transfer",
    "download_with_properties",
    "move_transfer",
    "run_transfers",
    "upload_transfer",
    "workers_for",
]

DEFAULT_WORKERS = 8
"""Enough to hide per-file latency on a cloud store without flooding a local disk."""

_POLL_SECONDS = 0.1
_MAX_GROUP = 16
_GROUPS_PER_WORKER = 8


_SMALL_FILE = 1024 * 1024
"""Below this average size a batch between local stores runs on one worker (workers_for)."""


def workers_for(requested: int | None, stores: Sequence[Store],
                transfers: Sequence[Transfer]) -> int:
    """``requested``, else the default. Small files between local stores take one worker:
    each costs some 30-50 us of Python that holds the interpreter lock, so more threads only
    contend for it (measured on 2 cores: 0.23 s for 2,000 files with 1 worker, 0.31 s with 8)."""
    if requested is not None:
        return requested
    if transfers and all(store.capabilities().local for store in stores):
        average = sum(item.size for item in transfers) / len(transfers)
        if average < _SMALL_FILE:
            return 1
    return DEFAULT_WORKERS


class TransferCancelled(Exception):
    """Raised inside a running transfer's progress callback once its batch was stopped."""


@dataclass(frozen=True)
class Transfer:
    """One single-blob operation: ``action(progress_callback)`` moves ``size`` bytes."""

    label: str
    size: int
    action: Callable[[ProgressCallback], None]
    moves_bytes: bool = True
    """False for a server-side copy: its bytes never pass through this machine, so a
    :class:`BandwidthLimit` does not count them."""


@dataclass(frozen=True)
class Failure:
    """A transfer that failed in a batch that kept going: its label and its error."""

    label: str
    error: BaseException


@dataclass
class TransferSummary:
    """What a finished batch did: ``files`` and ``bytes`` count the transfers that succeeded
    (``labels``, in the order they finished); ``failures`` those that raised, when the batch
    kept going."""

    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    labels: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class TransferInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch; ``summary`` says what finished before it (every running
    transfer was stopped and cleaned up first)."""

    def __init__(self, summary: TransferSummary) -> None:
        super().__init__()
        self.summary = summary


class ProgressSink(Protocol):
    """Receives a batch's progress; calls are serialised by :func:`run_transfers`."""

    def start(self, files: int, total_bytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def file_done(self, label: str) -> None: ...

    def close(self, completed: bool) -> None: ...


def upload_transfer(store: Store, container: str, blob: str, source_fn: str, size: int,
                    *, content_type: str | None = None, keep_mtime: bool = False,
                    mtime_ns: int | None = None, sha256: str | None = None) -> Transfer:
    """Upload the local file ``source_fn`` (``size`` bytes) to ``container/blob``, with
    ``content_type`` (None: the Store guesses it from the blob name). ``keep_mtime`` stores
    the file's modification time in the blob's ``mtime`` metadata (:mod:`xtstore.fingerprints`):
    ``mtime_ns`` where the caller stated the file when it measured ``size``, else a stat when
    the upload starts. ``sha256`` (the file's digest, lower-case hex) goes in its ``sha256``
    metadata, in the same write: pass them only for a store whose
    ``capabilities().create_metadata``."""

    def action(progress: ProgressCallback) -> None:
        metadata: dict[str, str] | None = None
        if keep_mtime or sha256 is not None:
            metadata = {}
            if keep_mtime:
                stated = os.stat(source_fn).st_mtime_ns if mtime_ns is None else mtime_ns
                metadata[MTIME_KEY] = format_mtime(stated)
            if sha256 is not None:
                metadata[SHA256_KEY] = sha256
        store.create_blob_from_path(container, blob, source_fn, progress_callback=progress,
                                    content_type=content_type, metadata=metadata)

    return Transfer(blob, size, action)


def download_with_properties(store: Store, container: str, blob: str, dest_fn: str,
                             progress: ProgressCallback | None = None
                             ) -> BlobProperties | None:
    """Download ``container/blob`` to ``dest_fn`` and return the properties of the version
    written: those the download returns (no more requests) where the provider declares
    ``capabilities().download_properties``. Elsewhere (docs/contract.md, get_blob_to_path)
    they come from a ``get_blob_properties`` read before the content, one more request, so a
    blob replaced in between is described as older than it is, never newer."""
    if store.capabilities().download_properties:
        downloaded = store.get_blob_to_path(container, blob, dest_fn, progress_callback=progress)
        if downloaded is not None:
            return downloaded
    properties = store.get_blob_properties(container, blob).properties
    store.get_blob_to_path(container, blob, dest_fn, progress_callback=progress,
                           properties=False)
    return properties


def download_transfer(store: Store, container: str, blob: str, dest_fn: str, size: int,
                      *, mtime_ns: int | None = None, read_mtime: bool = False) -> Transfer:
    """Download ``container/blob`` (``size`` bytes) to the local file ``dest_fn``, then give
    the file the modification time ``mtime_ns`` (ns since the epoch) when one is given.
    ``read_mtime`` takes the time from the blob's properties instead
    (:func:`~xtstore.fingerprints.mtime_ns`: its ``mtime`` metadata, which a listing lacks),
    as :func:`download_with_properties` gets them."""

    def action(progress: ProgressCallback) -> None:
        stated = mtime_ns
        if read_mtime:
            properties = download_with_properties(store, container, blob, dest_fn, progress)
            if properties is not None:
                stated = fingerprints.mtime_ns(properties)
        else:
            # Nothing here uses the blob's properties (the time, if any, is mtime_ns): the
            # download need not read them (docs/contract.md, "get_blob_to_path returns").
            store.get_blob_to_path(container, blob, dest_fn, progress_callback=progress,
                                   properties=False)
        if stated is not None:
            os.utime(dest_fn, ns=(stated, stated))

    return Transfer(blob, size, action)


def copy_transfer(source: Store, source_container: str, source_blob: str, dest: Store,
                  dest_container: str, dest_blob: str, size: int) -> Transfer:
    """Copy a blob: with the store's own ``copy_blob`` (server-side where it can) when both
    ends are the same service, else streamed from ``source.open_blob`` into
    ``dest.create_blob_from_stream`` (no temporary file, bounded memory) with the source's
    content type and metadata, its ``mtime`` set (read from its properties first: one more
    request; a source that keeps no type leaves the Store to guess it from the destination's
    name)."""
    if source.get_service_name() == dest.get_service_name():

        def server_side(progress: ProgressCallback) -> None:
            dest.copy_blob(source_container, source_blob, dest_container, dest_blob)

        return Transfer(dest_blob, size, server_side, moves_bytes=False)

    def streamed(progress: ProgressCallback) -> None:
        content_type = None
        metadata = None
        capabilities = dest.capabilities()
        if capabilities.content_types or capabilities.create_metadata:
            properties = source.get_blob_properties(source_container, source_blob).properties
            if properties is not None:
                content_type = properties.content_type if capabilities.content_types else None
                if capabilities.create_metadata:
                    # As copy_blob does: the metadata (its mtime among it) goes along.
                    metadata = {MTIME_KEY: format_mtime(mtime_ns(properties)),
                                **properties.metadata}
        with source.open_blob(source_container, source_blob) as stream:
            reader: Any = _CountingReader(stream, size, progress)
            dest.create_blob_from_stream(dest_container, dest_blob, reader, length=size,
                                         content_type=content_type, metadata=metadata)

    return Transfer(dest_blob, size, streamed)


def move_transfer(source: Store, source_container: str, source_blob: str, dest: Store,
                  dest_container: str, dest_blob: str, size: int) -> Transfer:
    """:func:`copy_transfer`, then the source blob deleted: only once its copy succeeded, so
    a failed copy deletes nothing."""
    copy = copy_transfer(source, source_container, source_blob, dest, dest_container,
                         dest_blob, size)

    def action(progress: ProgressCallback) -> None:
        copy.action(progress)
        source.delete_blob(source_container, source_blob)

    return Transfer(copy.label, copy.size, action, moves_bytes=copy.moves_bytes)


class _CountingReader:
    """A read-only stream that reports the bytes read, so a copy shows progress (and can be
    stopped) whatever the destination store does with its own progress callback. It seeks
    where the source does (every provider's ``open_blob`` stream can), so the destination's
    upload stays repeatable: the Store retries a transient failure from the start instead
    of failing the copy (XT's FileStore racing itself to make a new folder, say)."""

    def __init__(self, stream: IO[bytes], size: int, progress: ProgressCallback) -> None:
        self.stream = stream
        self.size = size
        self.progress = progress
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.done += len(data)
        self.progress(self.done, self.size)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.stream.seekable()

    def tell(self) -> int:
        return self.stream.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        # Progress stays where it got to: a repeat re-reads bytes already counted.
        position = self.stream.seek(offset, whence)
        self.done = position
        return position


class BandwidthLimit:
    """A token bucket shared by every transfer of a batch (``--bwlimit``): ``rate`` bytes a
    second on average, bursts of at most ``burst`` bytes (default: a tenth of a second's
    worth). It starts empty, so a batch never moves more than ``rate`` bytes in its first
    second. Fed from the transfers' progress callbacks, so it works for every provider: a
    transfer whose store reports progress in chunks waits after each chunk."""

    def __init__(self, rate: int, burst: int | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"a bandwidth limit must be positive, not {rate}")
        self.rate = rate
        self.burst = burst if burst is not None else max(1, rate // 10)
        self._tokens = 0.0
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, nbytes: int) -> float:
        """Take ``nbytes`` from the bucket; returns how many seconds the caller must wait
        before going on (0 when the bucket held them)."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(float(self.burst),
                               self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= nbytes
            return -self._tokens / self.rate if self._tokens < 0 else 0.0


class _Batch:
    def __init__(self, sink: ProgressSink | None, keep_going: bool = False,
                 limit: BandwidthLimit | None = None) -> None:
        self.sink = sink
        self.keep_going = keep_going
        self.limit = limit
        # Plain flags, no lock: the Ctrl-C handler sets one, and a handler must not take a
        # lock the interrupted thread may hold.
        self.cancelled = False
        self.interrupted = False
        self.lock = threading.Lock()
        self.summary = TransferSummary()

    def callback(self, limited: bool) -> tuple[ProgressCallback, Callable[[], int]]:
        done = 0

        def progress(current: int, total: int) -> None:
            nonlocal done
            if self.cancelled or self.interrupted:
                raise TransferCancelled("transfer stopped")
            if current > done:
                self._advance(current - done)
                if limited:
                    self._throttle(current - done)
                done = current

        return progress, lambda: done

    def _throttle(self, nbytes: int) -> None:
        """Wait as the bandwidth limit says, in short sleeps so a stop is seen soon."""
        assert self.limit is not None
        wait = self.limit.reserve(nbytes)
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            if self.cancelled or self.interrupted:
                raise TransferCancelled("transfer stopped")
            time.sleep(min(left, _POLL_SECONDS))

    def _advance(self, nbytes: int) -> None:
        with self.lock:
            self.summary.bytes += nbytes
            if self.sink is not None:
                self.sink.advance(nbytes)

    def run_many(self, transfers: Sequence[Transfer]) -> None:
        for transfer in transfers:
            self.run_one(transfer)

    def run_one(self, transfer: Transfer) -> None:
        if self.cancelled or self.interrupted:
            raise TransferCancelled("transfer stopped")
        limited = self.limit is not None and transfer.moves_bytes
        progress, done = self.callback(limited)
        try:
            transfer.action(progress)
        except Exception as error:
            if not self.keep_going or self.cancelled or self.interrupted:
                raise
            with self.lock:
                self.summary.failures.append(Failure(transfer.label, error))
                if self.sink is not None:
                    self.sink.file_done(transfer.label)
            return
        rest = transfer.size - done()
        if rest > 0:
            self._advance(rest)
        with self.lock:
            self.summary.files += 1
            self.summary.labels.append(transfer.label)
            if self.sink is not None:
                self.sink.file_done(transfer.label)
        if limited and rest > 0:
            # Bytes the store did not report while it moved them: the next transfer waits.
            self._throttle(rest)


def run_transfers(
    transfers: Sequence[Transfer],
    *,
    workers: int = DEFAULT_WORKERS,
    progress: ProgressSink | None = None,
    keep_going: bool = False,
    bwlimit: int | None = None,
) -> TransferSummary:
    """Run ``transfers`` on ``workers`` threads and return what was done.

    Raises the first transfer's error (store errors, ``OSError``) after stopping the others;
    with ``keep_going`` each failure is recorded in the summary's ``failures`` instead and the
    rest go on. Raises :class:`TransferInterrupted` (a ``KeyboardInterrupt``) after stopping
    every transfer when interrupted. ``bwlimit`` (bytes a second) is shared by all the
    transfers that move bytes through this machine (:class:`BandwidthLimit`).
    """
    limit = BandwidthLimit(bwlimit) if bwlimit is not None else None
    batch = _Batch(progress, keep_going, limit)
    try:
        with _ctrl_c_as_flag(batch):
            summary = _run(batch, transfers, workers, progress)
    except KeyboardInterrupt:
        raise TransferInterrupted(batch.summary) from None
    if batch.interrupted:
        raise TransferInterrupted(summary)
    return summary


def _run(batch: _Batch, transfers: Sequence[Transfer], workers: int,
         progress: ProgressSink | None) -> TransferSummary:
    import concurrent.futures  # here: a sync that copies nothing never loads it

    started = time.monotonic()
    completed = False
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, workers), thread_name_prefix="xtstore-transfer"
    )
    try:
        # Inside the try: a Ctrl-C while the report starts must still close it.
        if progress is not None:
            progress.start(len(transfers), sum(item.size for item in transfers))
        pending = {executor.submit(batch.run_many, group)
                   for group in _groups(transfers, max(1, workers))}
        while pending:
            if batch.interrupted:
                raise KeyboardInterrupt
            # A timeout keeps the calling thread checking for Ctrl-C.
            done, pending = concurrent.futures.wait(
                pending, timeout=_POLL_SECONDS, return_when=concurrent.futures.FIRST_EXCEPTION
            )
            for future in done:
                error = future.exception()
                if error is not None:
                    # A worker may see the Ctrl-C flag (and stop) before this thread does.
                    raise KeyboardInterrupt if batch.interrupted else error
        completed = True
    finally:
        if not completed:
            batch.cancelled = True
        _uninterrupted(lambda: executor.shutdown(wait=True, cancel_futures=True))
        if progress is not None:
            sink = progress
            _uninterrupted(lambda: sink.close(completed))
        batch.summary.seconds = time.monotonic() - started
    return batch.summary


@contextlib.contextmanager
def _ctrl_c_as_flag(batch: _Batch) -> Iterator[None]:
    """While the batch runs, Ctrl-C sets ``batch.interrupted`` instead of raising: only in the
    main thread (the one Python delivers signals to) and only over the default handler, so an
    application's own SIGINT handler is left alone."""
    import signal  # here, as concurrent.futures in _run

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        batch.interrupted = True

    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _groups(transfers: Sequence[Transfer], workers: int) -> list[Sequence[Transfer]]:
    """Consecutive runs of transfers, one per pool task: thousands of small files cost one
    task each otherwise, while a few large ones still spread over every worker."""
    size = max(1, min(_MAX_GROUP, len(transfers) // (workers * _GROUPS_PER_WORKER)))
    return [transfers[start:start + size] for start in range(0, len(transfers), size)]


def _uninterrupted(step: Callable[[], None]) -> None:
    """Run a clean-up step (safe to repeat) to the end: a second Ctrl-C must not skip waiting
    for running transfers to clean up, nor leave a progress bar on the screen."""
    while True:
        try:
            step()
            return
        except KeyboardInterrupt:
            continue
