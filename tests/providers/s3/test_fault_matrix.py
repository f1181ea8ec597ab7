"""A first slice of the fault matrix (issue 2.3): every idempotent interface call on S3, through
the fault proxy in front of moto, with each fault once on the call's first request.

Each cell must end in success (checked: the value read, or the blob written read back
directly from moto) or in a typed ``xtstore.errors`` exception, never in a raw exception and
never in a hang. The table of faults x outcomes is printed (``pytest -s`` shows it). Raw
exceptions already known (issue 2.3, "Raw exceptions ... on S3") are listed in KNOWN_RAW:
they are allowed, to be fixed and removed from the list; any other raw exception, any hang
and any failure to absorb a single transient fault fails the test.

``XTSTORE_FAULT_MATRIX=full`` also puts each fault on the second and third request of a call.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from tests.servers.s3_server import MotoServer
from xtstore.errors import StoreError

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

# (call, fault) -> the raw exception type still seen (issue 2.3's list): a response cut inside
# its head (HEAD requests: the truncate fault) reaches the S3 store's code without the headers
# it reads.
KNOWN_RAW: dict[tuple[str, str], str] = {
    ("get_container_properties", "truncate"): "KeyError",
    ("get_container_metadata", "truncate"): "KeyError",
    ("get_blob_to_path", "truncate"): "KeyError",
    ("get_blob_properties", "truncate"): "KeyError",
    ("get_blob_metadata", "truncate"): "KeyError",
    ("set_blob_metadata", "truncate"): "KeyError",
}
# (call, fault) -> the typed error still raised for one fault: open_blob's stream is read after
# the call returned, outside the retry layer, and does not resume a broken body.
KNOWN_NOT_ABSORBED: dict[tuple[str, str], str] = {
    ("open_blob.read", "truncate"): "TransientError",
}

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


@pytest.fixture(scope="module")
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    with running_proxy(moto_server.endpoint_url, hold_limit=10.0, lifetime=600.0) as running:
        yield running


def _store(moto_server: MotoServer, endpoint: str) -> Any:
    entry = moto_server.service_config(**{
        "endpoint-url": endpoint, "connect-timeout": READ_TIMEOUT, "read-timeout": READ_TIMEOUT,
        "retry": {"attempts": 4, "base-delay": 0.02, "max-delay": 0.1, "total-timeout": 15}})
    return xtstore.get_storage("matrix", config={"external-services": {"matrix": entry}})


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


def test_every_idempotent_call_under_every_fault(
    moto_server: MotoServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    store = _store(moto_server, proxy.url)
    direct = _store(moto_server, moto_server.endpoint_url)
    container = f"fm-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    direct.create_blob(container, SOURCE, CONTENT)
    table: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    faults_injected = 0
    started = time.monotonic()
    for name, (call, check) in calls(tmp_path).items():
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
                    if KNOWN_NOT_ABSORBED.get((name, fault_name)) != outcome:
                            problems.append(f"{name} x {fault_name}@{position}: one transient "
                                        f"fault not absorbed: {outcome}: {error}")
                else:
                    assert error is not None
                    outcome = f"RAW {type(error).__name__}"
                    if KNOWN_RAW.get((name, fault_name)) != type(error).__name__:
                        problems.append(f"{name} x {fault_name}@{position}: raw "
                                        f"{type(error).__module__}.{type(error).__name__}: "
                                        f"{error}")
                outcomes.append(outcome)
            row[fault_name] = " / ".join(outcomes)
    proxy.clear()
    direct.delete_container(container)
    _print_table(table, faults_injected, time.monotonic() - started)
    assert not problems, "\n".join(problems)


def _print_table(table: dict[str, dict[str, str]], injected: int, seconds: float) -> None:
    faults = list(FAULTS)
    lines = ["| call | " + " | ".join(faults) + " |", "|---" * (len(faults) + 1) + "|"]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(row[f] for f in faults) + " |")
    print(f"\nS3 fault matrix: {injected} faults injected in {seconds:.1f}s "
          f"(positions {POSITIONS})\n" + "\n".join(lines))
