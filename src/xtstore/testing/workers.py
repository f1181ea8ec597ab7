"""Run one function in N workers at once, as real processes or as threads.

The concurrency clauses run through :func:`run_parallel` (concurrent appends, moving a store
to a worker) and :func:`race_create_only` (the create-only race, round after round).
Processes use the ``spawn`` start method, so each child gets the store by pickling it
(``Store`` pickles via its origin, re-resolving secrets in the child). The worker functions
live here, at module level, so a child can import them; this module imports nothing heavier
than the standard library and xtstore.
"""

from __future__ import annotations

import multiprocessing
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from xtstore.store import Store
from xtstore.testing.checks import fail

__all__ = [
    "Outcome",
    "RaceRound",
    "append_lines",
    "line_text",
    "race_create_only",
    "read_and_write",
    "run_parallel",
    "write_and_stall",
]

Target = Callable[..., Any]
_RACE_SWITCH_INTERVAL = 1e-6


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


@dataclass(frozen=True)
class RaceRound:
    """One round of the create-only race: what each contender's create_blob did."""

    number: int
    blob: str
    texts: tuple[str, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def winners(self) -> list[int]:
        """The contenders whose create_blob(fail_if_exists=True) returned (not raised)."""
        return [o.index for o in self.outcomes if o.error_type is None]


def _contend(
    store: Store, container: str, prefix: str, index: int, contenders: int, rounds: int,
    budget: float, barrier: Any, stop: Any, results: Any,
) -> None:
    """Contender ``index``: in each round, wait until all are ready, then create the round's
    blob at once with the others. Contender 0 decides between two barriers whether another
    round starts, so that all agree and none waits for a partner that stopped."""
    started: float | None = None
    try:
        for number in range(rounds):
            first = barrier.wait() == 0
            if started is None:
                # The budget runs from when all contenders are ready, not from this one's
                # start: a loaded machine may take longer than the budget to spawn them all.
                started = time.monotonic()
            if first and time.monotonic() - started > budget:
                stop.set()
            barrier.wait()  # releases every contender at the same moment
            if stop.is_set():
                break
            text = race_text(number, index)
            try:
                store.create_blob(container, race_blob(prefix, number), text,
                                  fail_if_exists=True)
                outcome = Outcome(index, value=number)
            except BaseException as error:
                outcome = Outcome(index, value=number, error_type=type(error).__name__,
                                  error=str(error))
            results.put(outcome)
    except threading.BrokenBarrierError:
        pass
    finally:
        results.put(Outcome(-1 - index))  # this contender is done


def race_blob(prefix: str, number: int) -> str:
    return f"{prefix}/round-{number:04d}.txt"


def race_text(number: int, index: int) -> str:
    return f"contender {index} of round {number}"


def race_create_only(
    store: Store, container: str, prefix: str, *, contenders: int, rounds: int, budget: float,
    processes: bool, timeout: float, clause: str,
) -> list[RaceRound]:
    """Race ``contenders`` creators of one new blob per round, for at most ``rounds`` rounds
    or ``budget`` seconds, in threads or in ``spawn`` processes started once; round ``n``
    creates ``prefix/round-000n.txt``. Returns the
    rounds that ran, in order. A check-then-write (exists? then write) has a window of
    microseconds; many rounds released by a barrier are what open it."""
    if processes:
        context: Any = multiprocessing.get_context("spawn")
        barrier, stop, results = context.Barrier(contenders, timeout=timeout), \
            context.Event(), context.Queue()
        make = context.Process
    else:
        barrier, stop = threading.Barrier(contenders, timeout=timeout), threading.Event()
        results = queue.Queue()
        make = threading.Thread
    workers = [
        make(target=_contend, args=(store, container, prefix, index, contenders, rounds,
                                    budget, barrier, stop, results), daemon=True)
        for index in range(contenders)
    ]
    by_round: dict[int, list[Outcome]] = {}
    switch_interval = sys.getswitchinterval()
    if not processes:
        # Threads take turns every 5 ms by default, far longer than a check-then-write
        # window: switching often lets one contender's check fall between another's two steps.
        sys.setswitchinterval(_RACE_SWITCH_INTERVAL)
    try:
        for worker in workers:
            try:
                worker.start()
            except Exception as error:
                fail(clause, f"the store could not be sent to a worker process "
                     f"({type(error).__name__}: {error})")
        finished = 0
        deadline = time.monotonic() + timeout
        while finished < contenders:
            try:
                outcome = results.get(timeout=0.5)
            except queue.Empty:
                if time.monotonic() > deadline:
                    fail(clause, f"the contenders did not finish within {timeout:.0f} s")
                dead = [i for i, w in enumerate(workers)
                        if processes and w.exitcode not in (None, 0)]
                if dead:
                    barrier.abort()
                    fail(clause, f"contender process {dead[0]} exited with code "
                         f"{workers[dead[0]].exitcode} (can the store be rebuilt in a new "
                         f"process?)")
                continue
            if outcome.index < 0:
                finished += 1
            else:
                by_round.setdefault(outcome.value, []).append(outcome)
    finally:
        sys.setswitchinterval(switch_interval)
        for worker in workers:
            if processes:
                if worker.is_alive():
                    worker.terminate()
                if worker.pid is not None:
                    worker.join(10)
            else:
                worker.join(1)
        if processes:
            results.close()
    return [
        RaceRound(number, race_blob(prefix, number),
                  tuple(race_text(number, index) for index in range(contenders)),
                  tuple(sorted(outcomes, key=lambda o: o.index)))
        for number, outcomes in sorted(by_round.items())
        if len(outcomes) == contenders
    ]


# ---- worker functions (module level, so that spawned children can import them) ----


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


def write_and_stall(store: Store, container: str, blob: str, size: int, ready: Any,
                    release: Any, stall: float, problems: Any) -> int:
    """Open ``blob`` for writing, write ``size`` bytes of ``b"k"`` in 64 KiB writes (several
    parts of any store's part size), set ``ready``, then wait up to ``stall`` seconds for
    ``release`` without closing the writer: the parent kills the process meanwhile, or (in a
    thread) releases it, and the writer is then dropped unclosed. Returns the bytes written;
    an error on the way is put on ``problems`` (as "Type: message") for the parent to report."""
    try:
        writer = store.open_blob(container, blob, mode="wb")
        chunk = b"k" * (64 * 1024)
        written = 0
        while written < size:
            written += writer.write(chunk[: size - written])
    except Exception as error:
        problems.put(f"{type(error).__name__}: {error}")
        return -1
    ready.set()
    release.wait(stall)
    return written


def stall_mid_write(store: Store, container: str, blob: str, size: int, *, processes: bool,
                    timeout: float, clause: str) -> Callable[[], None]:
    """Start :func:`write_and_stall` in a ``spawn`` process or a thread and return once its
    bytes are written (the writer still open); fails ``clause`` if it never gets there. The
    function returned ends the writer without a close: it kills the process (SIGKILL where
    there is one), or releases the thread, which drops the writer unclosed."""
    if processes:
        context: Any = multiprocessing.get_context("spawn")
        ready, release, problems = context.Event(), context.Event(), context.Queue()
        make = context.Process
    else:
        ready, release, problems = threading.Event(), threading.Event(), queue.Queue()
        make = threading.Thread
    worker = make(target=write_and_stall, args=(store, container, blob, size, ready, release,
                                                timeout, problems), daemon=True)
    try:
        worker.start()
    except Exception as error:
        fail(clause, f"the store could not be sent to a worker process "
             f"({type(error).__name__}: {error})")
    deadline = time.monotonic() + timeout
    while not ready.wait(0.2):
        if not worker.is_alive() or time.monotonic() > deadline:
            if processes and worker.is_alive():
                worker.kill()
            release.set()
            try:
                problem = f": {problems.get(timeout=1.0)}"
            except queue.Empty:
                problem = f" (exit code {worker.exitcode})" if processes else ""
            fail(clause, f"the writing worker never finished writing {size} bytes{problem}")

    def end() -> None:
        if processes:
            worker.kill()
            worker.join(10)
            problems.close()
        else:
            release.set()
            worker.join(timeout)

    return end
