"""Clauses that need several workers or look at the store as a whole: the create-only race,
"Capabilities" and "Moving to a worker" of docs/contract.md §1."""

from __future__ import annotations

import pickle
from collections.abc import Callable

from xtstore.errors import Unsupported
from xtstore.store import Store
from xtstore.testing.base import SuiteBase
from xtstore.testing.checks import check, check_equal, check_raises, require_feature
from xtstore.testing.workers import Outcome, race_create_only, read_and_write, run_parallel
from xtstore.values import Capabilities, Support

__all__ = ["CapabilityClauses", "ProcessClauses", "unsupported_probes"]

CREATORS = 8
RACE_ROUNDS = 200
"""Rounds per kind of worker, and the seconds after which no new round starts."""
RACE = "fail_if_exists: create_blob(fail_if_exists=True) is atomic: of N concurrent creators " \
       "exactly one succeeds"
MOVE = "Moving to a worker: a configured store can be pickled to another process and works there"
UNSUPPORTED = "Capabilities: a feature the store lacks raises Unsupported, never silently " \
              "does nothing"


def unsupported_probes(store: Store, container: str) -> dict[str, Callable[[], object]]:
    """One call per capability that must raise Unsupported when the feature is UNSUPPORTED."""
    return {
        "append": lambda: store.append_blob(container, "probe-append.log", "x"),
        "snapshots": lambda: store.snapshot_blob(container, "probe.txt"),
        "conditional_writes": lambda: store.create_blob(
            container, "probe-create.txt", "x", fail_if_exists=True),
        "server_side_copy": lambda: store.copy_blob(container, "probe.txt", container,
                                                     "probe-copy.txt"),
        "metadata": lambda: store.set_blob_metadata(container, "probe.txt", {"k": "v"}),
    }


class ProcessClauses(SuiteBase):
    def race_modes(self, store: Store) -> list[bool]:
        """Where the race runs: threads, and processes too when the store can be shared."""
        if self.options.processes is not None:
            return [self.options.processes]
        return [False, True] if store.capabilities().shared_between_processes else [False]

    def test_fail_if_exists_race_exactly_one_creator_wins(
        self, store: Store, container: str
    ) -> None:
        require_feature(store, "conditional_writes", lambda: store.create_blob(
            container, "probe.txt", "x", fail_if_exists=True))
        for processes in self.race_modes(store):
            kind = "processes" if processes else "threads"
            clause = f"{RACE} ({CREATORS} {kind})"
            rounds = race_create_only(
                store, container, f"race-in-{kind}", contenders=CREATORS, rounds=RACE_ROUNDS,
                budget=self.options.race_seconds, processes=processes,
                timeout=self.options.concurrency_timeout, clause=clause,
            )
            check(rounds, clause, "no round of the race completed")
            # Winners first: more than one is the broken promise, whatever the losers raised.
            for race in rounds:
                check(len(race.winners) <= 1, clause, f"round {race.number + 1} of "
                      f"{len(rounds)}: {len(race.winners)} of {CREATORS} creators succeeded "
                      f"(contenders {race.winners}): create-only is check-then-write")
            for race in rounds:
                check(race.winners, clause, f"round {race.number + 1}: no creator succeeded; "
                      f"they raised {_raised(race.outcomes)}")
                losers = [o for o in race.outcomes
                          if o.error_type not in (None, "BlobAlreadyExists")]
                check(not losers, clause, f"round {race.number + 1}: the losers raised "
                      f"{_raised(losers)} instead of BlobAlreadyExists")
            for race in rounds[:: max(1, len(rounds) // 8)]:
                check_equal(store.get_blob_text(container, race.blob),
                            race.texts[race.winners[0]], clause,
                            f"round {race.number + 1}: content is the winner's")

    def test_store_moves_to_a_worker_process_and_works_there(
        self, store: Store, container: str
    ) -> None:
        if not store.capabilities().shared_between_processes:
            check_raises(Unsupported, "Moving to a worker: a store that lives in one process "
                         "refuses to be pickled (raises Unsupported)", pickle.dumps, store)
            return
        try:
            pickle.dumps(store)
        except Exception as error:
            check(False, MOVE, f"pickle.dumps(store) raised {type(error).__name__}: {error}")
        store.create_blob(container, "hand-over.txt", "made in the parent")
        outcomes = run_parallel(store, read_and_write, [(container, "hand-over.txt")],
                                processes=True, timeout=self.options.concurrency_timeout,
                                clause=MOVE)
        outcome = outcomes[0]
        check(outcome.error_type is None, MOVE,
              f"the worker failed: {outcome.error_type}: {outcome.error}")
        check_equal(outcome.value, "made in the parent", MOVE, "what the worker read")
        check_equal(store.get_blob_text(container, "hand-over.txt.back"),
                    "made in the parent"[::-1], MOVE, "what the worker wrote")


def _raised(outcomes: list[Outcome] | tuple[Outcome, ...]) -> str:
    kinds = sorted({f"{o.error_type}: {o.error}" for o in outcomes if o.error_type})
    return "; ".join(kinds[:3]) or "nothing"


class CapabilityClauses(SuiteBase):
    def test_capabilities_returns_capabilities(self, store: Store) -> None:
        clause = "Capabilities: capabilities() tells what the store does natively"
        caps = store.capabilities()
        check(isinstance(caps, Capabilities), clause, f"got {type(caps).__name__}")
        for feature in ("append", "snapshots", "conditional_writes", "server_side_copy",
                        "metadata"):
            value = getattr(caps, feature)
            check(isinstance(value, Support), clause, f".{feature} is {value!r}, not a Support")
        check(isinstance(caps.shared_between_processes, bool), clause,
              f".shared_between_processes is {caps.shared_between_processes!r}")

    def test_unsupported_features_raise_unsupported(self, store: Store, container: str) -> None:
        store.create_blob(container, "probe.txt", "probe")
        caps = store.capabilities()
        for feature, probe in unsupported_probes(store, container).items():
            if getattr(caps, feature) is Support.UNSUPPORTED:
                check_raises(Unsupported, f"{UNSUPPORTED} ({feature})", probe)
