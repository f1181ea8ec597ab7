"""Run one function in N workers at once, as real processes or as threads.

The concurrency clauses (create-only races, concurrent appends, moving a store to a worker)
run through :func:`run_parallel`. Processes use the ``spawn`` start method, so each child
gets the store by pickling it (``Store`` pickles via its origin, re-resolving secrets in the
child). The worker functions live here, at module level, so a child can import them; this
module imports nothing heavier than the standard library and xtstore.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from xtstore.errors import BlobAlreadyExists
from xtstore.store import Store
from xtstore.testing.checks import fail

__all__ = ["Outcome", "append_lines", "create_only", "line_text", "read_and_write", "run_parallel"]

Target = Callable[..., Any]


@dataclass(frozen=True)
class Outcome:
    """What one worker returned, or the error it raised (as type name and message)."""

    index: int
    value: Any = None
    error_type: str | None = None
    error: str | None = None


def _work(
    store: Store, target: Target, args: tuple[Any, ...], index: int, barrier: Any, results: Any
) -> None:
    try:
        # Every worker starts its calls at the same moment, so that they really race.
        barrier.wait()
        outcome = Outcome(index, value=target(store, *args))
    except BaseException as error:
        outcome = Outcome(index, error_type=type(error).__name__, error=str(error))
    results.put(outcome)


def run_parallel(
    store: Store,
    target: Target,
    args_list: Sequence[tuple[Any, ...]],
    *,
    processes: bool,
    timeout: float,
    clause: str,
) -> list[Outcome]:
    """Run ``target(store, *args)`` for every ``args`` of ``args_list`` at once and return
    the outcomes in ``args_list`` order. Fails ``clause`` if a worker cannot be started, dies
    without reporting, or the whole run takes longer than ``timeout`` seconds."""
    if processes:
        outcomes = _in_processes(store, target, args_list, timeout, clause)
    else:
        outcomes = _in_threads(store, target, args_list, timeout, clause)
    return sorted(outcomes, key=lambda outcome: outcome.index)


def _in_threads(
    store: Store, target: Target, args_list: Sequence[tuple[Any, ...]], timeout: float,
    clause: str,
) -> list[Outcome]:
    barrier = threading.Barrier(len(args_list), timeout=timeout)
    results: queue.Queue[Outcome] = queue.Queue()
    threads = [
        threading.Thread(
            target=_work, args=(store, target, args, index, barrier, results), daemon=True
        )
        for index, args in enumerate(args_list)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        fail(clause, f"worker threads did not finish within {timeout:.0f} s")
    return [results.get_nowait() for _ in threads]


def _in_processes(
    store: Store, target: Target, args_list: Sequence[tuple[Any, ...]], timeout: float,
    clause: str,
) -> list[Outcome]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args_list), timeout=timeout)
    results = context.Queue()
    workers = [
        context.Process(
            target=_work, args=(store, target, args, index, barrier, results), daemon=True
        )
        for index, args in enumerate(args_list)
    ]
    try:
        for worker in workers:
            try:
                worker.start()
            except Exception as error:
                fail(
                    clause,
                    f"the store could not be sent to a worker process "
                    f"({type(error).__name__}: {error})",
                )
        return _collect(workers, results, barrier, timeout, clause)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            if worker.pid is not None:
                worker.join(10)
        results.close()


def _collect(
    workers: list[Any], results: Any, barrier: Any, timeout: float, clause: str
) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    deadline = time.monotonic() + timeout
    while len(outcomes) < len(workers):
        try:
            outcome = results.get(timeout=0.2)
            outcomes[outcome.index] = outcome
            continue
        except queue.Empty:
            pass
        for index, worker in enumerate(workers):
            if index not in outcomes and worker.exitcode is not None:
                # The result may still be in flight; give the queue one more chance.
                try:
                    outcome = results.get(timeout=1.0)
                    outcomes[outcome.index] = outcome
                    break
                except queue.Empty:
                    barrier.abort()
                    fail(
                        clause,
                        f"worker process {index} exited with code {worker.exitcode} without "
                        f"reporting (can the store be rebuilt in a new process?)",
                    )
        if time.monotonic() > deadline:
            fail(clause, f"worker processes did not finish within {timeout:.0f} s")
    return list(outcomes.values())


# ---- worker functions (module level, so that spawned children can import them) ----


def create_only(store: Store, container: str, blob: str, text: str) -> str:
    """``create_blob(fail_if_exists=True)``: "won", or "lost" on BlobAlreadyExists."""
    try:
        store.create_blob(container, blob, text, fail_if_exists=True)
    except BlobAlreadyExists:
        return "lost"
    return "won"


def line_text(worker: int, number: int) -> str:
    """The text of one append call: one line that shows if anything cut into it."""
    return f"<w{worker:02d}-{number:04d}:" + "abcdefghij" * 6 + f":w{worker:02d}-{number:04d}>\n"


def append_lines(
    store: Store, container: str, blob: str, worker: int, count: int, rewrite: bool
) -> int:
    """Append ``count`` lines (one call each) and return how many calls were made."""
    for number in range(count):
        store.append_blob(container, blob, line_text(worker, number), append_with_rewrite=rewrite)
    return count


def read_and_write(store: Store, container: str, blob: str) -> str:
    """Read ``blob``, write its text reversed beside it as ``blob + ".back"``, return it."""
    text = store.get_blob_text(container, blob)
    store.create_blob(container, blob + ".back", text[::-1])
    return text
