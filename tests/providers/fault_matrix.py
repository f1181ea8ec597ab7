"""The fault matrix (issue 2.3), shared by every provider's test_fault_matrix.py: every
idempotent interface call, through the fault proxy, with each fault once on the call's first
request (``XTSTORE_FAULT_MATRIX=full``: also on its second and third).

Each cell must end in success (checked: the value read, or what was written read back from a
store that bypasses the proxy) or in a typed ``xtstore.errors`` exception, never in a raw
exception and never in a hang. Raw exceptions and unabsorbed faults already known are passed
in by each provider's test, allowed there until fixed; anything else fails. The faults x
outcomes table is printed (``pytest -s`` shows it).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tests.servers.fault_proxy import Fault, FaultProxy
from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    StoreError,
)

READ_TIMEOUT = 0.5
CALL_BOUND = 20.0
"""Seconds after which a call counts as hung (attempts x (read timeout + backoff) is ~3 s)."""
CONTENT = b"0123456789abcdef" * 128
SOURCE = "m/blob.bin"
POSITIONS = (1, 2, 3) if os.environ.get("XTSTORE_FAULT_MATRIX") == "full" else (1,)

FAULTS: dict[str, Fault] = {
    "reset-before": Fault.reset_before(),
    "reset-in-body": Fault.reset_during_body(after_bytes=100),
    "reset-after": Fault.reset_after(),
    "500": Fault.error_status(500),
    "503": Fault.error_status(503),
    "429+Retry-After": Fault.throttle("0"),
    # Dropped after the delay: a request forwarded late may be applied after the retry that
    # replaced it (a finding of its own, docs/reliability.md), which would bleed into the
    # next cell.
    "delay>timeout": Fault.delay(4 * READ_TIMEOUT, forward=False),
    "truncate": Fault.truncate(),
    "black-hole": Fault.black_hole(3 * READ_TIMEOUT),
}

Known = dict[tuple[str, str], str]
"""(call, fault) -> the exception type name still seen there, allowed until fixed."""

Check = Callable[[Any, Any, str, str], None]
"""``check(result, direct_store, container, cell_name)`` asserts a success is real."""


def _equal(expected: object) -> Check:
    def check(result: Any, direct: Any, container: str, cell: str) -> None:
        assert result == expected

    return check


def _truthy(result: Any, direct: Any, container: str, cell: str) -> None:
    assert result


def _written(result: Any, direct: Any, container: str, cell: str) -> None:
    assert direct.get_blob_bytes(container, f"w/{cell}") == CONTENT


def _listed(result: Any, direct: Any, container: str, cell: str) -> None:
    names = [item if isinstance(item, str) else item.name for item in result]
    assert SOURCE in names


def _file(tmp: Path) -> Callable[[str], Path]:
    def path(cell: str) -> Path:
        return tmp / f"{cell}.bin"

    return path


def calls(tmp: Path) -> dict[str, tuple[Callable[[Any, str, str], Any], Check]]:
    """name -> (call(store, container, cell), check)."""
    local = _file(tmp)
    source_file = tmp / "source.bin"
    source_file.write_bytes(CONTENT)

    def to_path(store: Any, c: str, cell: str) -> bytes:
        store.get_blob_to_path(c, SOURCE, str(local(cell)))
        return local(cell).read_bytes()

    def open_read(store: Any, c: str, cell: str) -> bytes:
        with store.open_blob(c, SOURCE) as stream:
            return bytes(stream.read())

    return {
        "does_container_exist": (lambda s, c, n: s.does_container_exist(c), _equal(True)),
        "list_containers": (lambda s, c, n: s.list_containers(),
                            lambda r, d, c, n: _equal(True)(c in r, d, c, n)),
        "get_container_properties": (lambda s, c, n: s.get_container_properties(c), _truthy),
        "get_container_metadata": (lambda s, c, n: s.get_container_metadata(c),
                                   lambda r, d, c, n: None),
        "set_container_metadata": (lambda s, c, n: s.set_container_metadata(c, {"k": n}),
                                   lambda r, d, c, n: _equal({"k": n})(
                                       d.get_container_metadata(c), d, c, n)),
        "does_blob_exist": (lambda s, c, n: s.does_blob_exist(c, SOURCE), _equal(True)),
        "create_blob": (lambda s, c, n: s.create_blob(c, f"w/{n}", CONTENT), _written),
        "create_blob_from_path": (
            lambda s, c, n: s.create_blob_from_path(c, f"w/{n}", str(source_file)), _written),
        "list_blobs": (lambda s, c, n: s.list_blobs(c), _listed),
        "iter_blobs": (lambda s, c, n: list(s.iter_blobs(c)), _listed),
        "get_blob_text": (lambda s, c, n: s.get_blob_text(c, SOURCE), _equal(CONTENT.decode())),
        "get_blob_bytes": (lambda s, c, n: s.get_blob_bytes(c, SOURCE), _equal(CONTENT)),
        "get_blob_to_path": (to_path, _equal(CONTENT)),
        "open_blob.read": (open_read, _equal(CONTENT)),
        "get_blob_properties": (lambda s, c, n: s.get_blob_properties(c, SOURCE), _truthy),
        "get_blob_metadata": (lambda s, c, n: s.get_blob_metadata(c, SOURCE),
                              lambda r, d, c, n: None),
        "set_blob_metadata": (lambda s, c, n: s.set_blob_metadata(c, SOURCE, {"k": n}),
                              lambda r, d, c, n: _equal({"k": n})(
                                  d.get_blob_metadata(c, SOURCE), d, c, n)),
        "copy_blob": (lambda s, c, n: s.copy_blob(c, SOURCE, c, f"w/{n}"), _written),
    }


def _run(function: Callable[[], Any]) -> tuple[str, Any, BaseException | None]:
    """("ok" | "error" | "hang", result, exception), the call bounded by CALL_BOUND."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = function()
        except BaseException as error:  # classified by the caller
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(CALL_BOUND)
    if thread.is_alive():
        return "hang", None, None
    if "error" in box:
        return "error", None, box["error"]
    return "ok", box.get("result"), None


def run_matrix(
    label: str,
    store: Any,
    direct: Any,
    container: str,
    proxy: FaultProxy,
    tmp: Path,
    *,
    known_raw: Known,
    known_not_absorbed: Known,
) -> list[str]:
    """Run every cell on ``store`` (through ``proxy``) in ``container``, which holds SOURCE;
    print the table; the problems found."""
    table: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    faults_injected = 0
    started = time.monotonic()
    for name, (call, check) in calls(tmp).items():
        row = table.setdefault(name, {})
        for fault_name, fault in FAULTS.items():
            outcomes = []
            for position in POSITIONS:
                cell = f"{name}-{fault_name}-{position}".replace("+", "-").replace(">", "-")
                proxy.clear()
                proxy.inject(fault, nth=position)
                status, result, error = _run(partial(call, store, container, cell))
                fired = any(entry.fault == fault.kind for entry in proxy.log)
                faults_injected += fired
                if status == "ok":
                    try:
                        check(result, direct, container, cell)
                        outcome = "ok" if fired else "ok (not reached)"
                    except AssertionError as failure:
                        outcome = "WRONG"
                        problems.append(f"{name} x {fault_name}@{position}: wrong result "
                                        f"{failure}")
                elif status == "hang":
                    outcome = "HANG"
                    problems.append(f"{name} x {fault_name}@{position}: no end in {CALL_BOUND}s")
                elif isinstance(error, StoreError):
                    outcome = type(error).__name__
                    if known_not_absorbed.get((name, fault_name)) != outcome:
                        problems.append(f"{name} x {fault_name}@{position}: one transient "
                                        f"fault not absorbed: {outcome}: {error}")
                else:
                    assert error is not None
                    outcome = f"RAW {type(error).__name__}"
                    if known_raw.get((name, fault_name)) != type(error).__name__:
                        problems.append(f"{name} x {fault_name}@{position}: raw "
                                        f"{type(error).__module__}.{type(error).__name__}: "
                                        f"{error}")
                outcomes.append(outcome)
            row[fault_name] = " / ".join(outcomes)
    proxy.clear()
    _print_table(label, table, faults_injected, time.monotonic() - started)
    return problems


def _print_table(
    label: str, table: dict[str, dict[str, str]], injected: int, seconds: float,
    positions: tuple[int, ...] = POSITIONS,
) -> None:
    faults = list(FAULTS)
    lines = ["| call | " + " | ".join(faults) + " |", "|---" * (len(faults) + 1) + "|"]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(row[f] for f in faults) + " |")
    print(f"\n{label} fault matrix: {injected} faults injected in {seconds:.1f}s "
          f"(requests {positions} of each call)\n" + "\n".join(lines))


# -- non-idempotent calls ------------------------------------------------------------------

StateOf = Callable[[Any, str, str], str]
"""``state(direct_store, container, cell)``: "old", "new", or what else the store holds."""


@dataclass(frozen=True)
class UnsafeCall:
    """A call that changes the store and must not be repeated blindly: ``setup`` prepares
    the old state (directly), ``call`` runs through the proxy, ``state`` tells what is left."""

    call: Callable[[Any, str, str], Any]
    state: StateOf
    setup: Callable[[Any, str, str], None] = lambda direct, container, cell: None


def _blob(cell: str) -> str:
    return f"x/{cell}"


def _container_name(container: str, cell: str) -> str:
    return f"{container[:20]}-{hashlib.sha256(cell.encode()).hexdigest()[:16]}"


def _content_state(old: bytes | None, new: bytes) -> StateOf:
    def state(direct: Any, container: str, cell: str) -> str:
        try:
            data = direct.get_blob_bytes(container, _blob(cell))
        except BlobNotFound:
            data = None
        if data == old:
            return "old"
        if data == new:
            return "new"
        return "MISSING" if data is None else f"PARTIAL ({len(data)} bytes: {data[:20]!r})"

    return state


def _exists_state(direct: Any, container: str, cell: str) -> str:
    return "old" if direct.does_blob_exist(container, _blob(cell)) else "new"


def _snapshots_state(direct: Any, container: str, cell: str) -> str:
    count = len(direct.list_snapshots(container, _blob(cell)))
    return {0: "old", 1: "new"}.get(count, f"DUPLICATED ({count} snapshots)")


def _container_state(created: bool) -> StateOf:
    def state(direct: Any, container: str, cell: str) -> str:
        exists = direct.does_container_exist(_container_name(container, cell))
        return "new" if exists == created else "old"

    return state


def _put(direct: Any, container: str, cell: str) -> None:
    direct.create_blob(container, _blob(cell), CONTENT)


UNSAFE_CALLS: dict[str, UnsafeCall] = {
    "create_blob(fail_if_exists)": UnsafeCall(
        lambda s, c, n: s.create_blob(c, _blob(n), CONTENT, fail_if_exists=True),
        _content_state(None, CONTENT)),
    "create_blob_from_stream": UnsafeCall(
        lambda s, c, n: s.create_blob_from_stream(c, _blob(n), io.BytesIO(CONTENT)),
        _content_state(None, CONTENT)),
    "append_blob (new blob)": UnsafeCall(
        lambda s, c, n: s.append_blob(c, _blob(n), "tail"), _content_state(None, b"tail")),
    "append_blob (existing)": UnsafeCall(
        lambda s, c, n: s.append_blob(c, _blob(n), "tail"), _content_state(b"head", b"headtail"),
        setup=lambda d, c, n: d.append_blob(c, _blob(n), "head")),
    "delete_blob": UnsafeCall(lambda s, c, n: s.delete_blob(c, _blob(n)), _exists_state,
                              setup=_put),
    "snapshot_blob": UnsafeCall(lambda s, c, n: s.snapshot_blob(c, _blob(n)), _snapshots_state,
                                setup=_put),
    "create_container": UnsafeCall(
        lambda s, c, n: s.create_container(_container_name(c, n)), _container_state(True)),
    "delete_container": UnsafeCall(
        lambda s, c, n: s.delete_container(_container_name(c, n)), _container_state(False),
        setup=lambda d, c, n: d.create_container(_container_name(c, n))),
}

_CLAIMS_NOT_DONE = (BlobAlreadyExists, BlobNotFound, ContainerAlreadyExists, ContainerNotFound)


def run_unsafe_matrix(
    label: str, store: Any, direct: Any, container: str, proxy: FaultProxy, *, known: Known,
    made_safe: frozenset[str] = frozenset(),
) -> list[str]:
    """Each non-idempotent call with each fault once on its first request (also its second
    and third with ``XTSTORE_FAULT_MATRIX=full``). A problem is a raw exception, a hang, a
    state that is neither the old nor the new one (partial or duplicated content), or a
    "not found"/"already exists" error for the caller's own change that the store did apply;
    and, for the calls named in ``made_safe`` (those the provider makes safe to repeat,
    xtstore.attempts), any error at all: one transient fault must end in success there.
    Elsewhere a typed TransientError is allowed and shown in the table. ``known`` lists the
    problems still seen, by (call, fault) -> cell text."""
    table: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    injected = 0
    started = time.monotonic()
    for name, spec in UNSAFE_CALLS.items():
        row = table.setdefault(name, {})
        for fault_name, fault in FAULTS.items():
            texts = []
            for position in POSITIONS:
                text, bad, error, fired = _unsafe_cell(
                    spec, store, direct, container, proxy, fault,
                    position, f"{name}-{fault_name}-{position}")
                bad = bad or (name in made_safe and error is not None)
                injected += fired
                texts.append(text)
                if bad and known.get((name, fault_name)) != text:
                    problems.append(f"{name} x {fault_name}@{position}: {text} ({error!r})")
            row[fault_name] = " / ".join(texts)
    _print_table(f"{label} non-idempotent", table, injected, time.monotonic() - started)
    return problems


def _unsafe_cell(
    spec: UnsafeCall, store: Any, direct: Any, container: str, proxy: FaultProxy, fault: Fault,
    position: int, label: str,
) -> tuple[str, bool, BaseException | None, bool]:
    """(cell text, whether it is a problem, the error, whether the fault fired)."""
    cell = label.translate(str.maketrans("()+> ", "-----"))
    spec.setup(direct, container, cell)
    proxy.clear()
    proxy.inject(fault, nth=position)
    status, _, error = _run(partial(spec.call, store, container, cell))
    fired = any(entry.fault == fault.kind for entry in proxy.log)
    proxy.clear()
    state = "?" if status == "hang" else spec.state(direct, container, cell)
    if status == "ok":
        text = "ok" if state == "new" else f"ok, but {state}"
        bad = state != "new"
        if fired is False and not bad:
            text = "ok (not reached)"
    elif status == "hang":
        text, bad = "HANG", True
    elif isinstance(error, StoreError):
        text = f"{type(error).__name__}, {state}"
        bad = state not in ("old", "new") or (
            isinstance(error, _CLAIMS_NOT_DONE) and state == "new")
    else:
        text, bad = f"RAW {type(error).__name__}, {state}", True
    return text, bad, error, fired
