"""``SuiteOptions``: how the conformance suite adapts to one store (sizes, memory, processes)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MiB", "SuiteOptions"]

MiB = 1024 * 1024


@dataclass(frozen=True)
class SuiteOptions:
    """Knobs of :class:`xtstore.testing.ConformanceSuite`; the defaults suit a local folder.

    ``large_blob_size``: size of the blob streamed up and down by the streaming clauses (cloud
    emulators pass something smaller, e.g. 12 MiB, with small block sizes).
    ``bounded_memory``: False for stores that hold blobs in memory (``store-memory``); the
    bounded-memory clause is then skipped.
    ``memory_limit``: the most the Python heap peak (tracemalloc) may grow while the large blob
    is streamed; the process's resident size may grow by this plus ``rss_slack``.
    ``processes``: run the concurrency clauses in real processes (True) or threads (False);
    None asks ``store.capabilities().shared_between_processes``.
    ``concurrency_timeout``: seconds every concurrency clause may take before it fails.
    ``writer_size``: bytes each writable-blob clause writes to fill several parts and end in
    a partial one (aborted, killed and visible-on-close writers); None means
    ``min(large_blob_size, 9 MiB) + 17``, past a 4 MiB spool, a 5 MiB S3 part and an 8 MiB
    chunk. An emulator whose writer is configured with small parts may pass less.
    ``appends_per_worker``: calls each of the six workers of the concurrent-append clauses
    makes (1,200 appends in all by default). A slow emulator may pass fewer for a short run:
    one lost, repeated or torn line still fails the clause, but fewer calls meet fewer
    conflicts.
    ``race_seconds``: how long the create-only race runs in each of its modes (threads,
    processes), at most 200 rounds; a check-then-write has a window of microseconds, so
    the default is what catches one nearly every run.
    """

    large_blob_size: int = 256 * MiB
    bounded_memory: bool = True
    memory_limit: int = 64 * MiB
    processes: bool | None = None
    rss_slack: int = 64 * MiB
    concurrency_timeout: float = 240.0
    writer_size: int | None = None
    appends_per_worker: int = 200
    race_seconds: float = 3.0
