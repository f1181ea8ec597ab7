"""The fault matrix (issue 2.3), shared by every provider's test_fault_matrix.py.

Each provider's test runs, through the fault proxy (counts and times in docs/reliability.md,
"Coverage and sizes"):

- every idempotent interface call with each fault of FAULTS once on its first request
  (``XTSTORE_FAULT_MATRIX=full``: also on its second and third);
- the calls that make many requests, on a store with small parts and listing pages
  (SMALL_PARTS): a multipart / staged-block upload, ranged downloads, a ranged read through
  ``open_blob``, a writer of several parts (``open_blob(mode="wb")``), listings of several
  pages; each fault on the 2nd or the last request of the
  call, alternately (one of the delay and the black hole, on the last; full: every fault on
  every request);
- two faults on one call, on its 1st and 2nd request (the try and its retry): PAIRS on a few
  calls (full: every ordered pair of FAULTS on every call);
- faults scripted after N bytes of a body ("reset the kth PUT after N bytes"): inside a part
  of the multipart upload, and a ranged GET's response cut or reset after N bytes;
- every non-idempotent call (run_unsafe_matrix) likewise, with the append rewrite and compose
  paths and multipart creates, and UNSAFE_PAIRS of faults.

An idempotent cell must end in success (checked: the value read, or what was written read back
from a store that bypasses the proxy) or in a typed ``xtstore.errors`` exception, never in a
raw exception, never in a hang, and a write that fails leaves its blob whole or absent, never
partial. Raw exceptions and unabsorbed faults already known are passed in by each provider's
test, allowed there until fixed; anything else fails. The faults x outcomes tables are printed
(``pytest -s`` shows them).
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, FaultProxy
from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    StoreError,
    TransientError,
)

READ_TIMEOUT = 0.5
CALL_BOUND = 20.0
"""Seconds after which a call counts as hung (attempts x (read timeout + backoff) is ~3 s)."""
CONTENT = b"0123456789abcdef" * 128
SOURCE = "m/blob.bin"
LARGE_SOURCE = "m/large.bin"
FULL = os.environ.get("XTSTORE_FAULT_MATRIX") == "full"
POSITIONS = (1, 2, 3) if FULL else (1,)

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
    "reset-in-response": Fault.reset_in_response(),
    "black-hole": Fault.black_hole(3 * READ_TIMEOUT),
}
SLOW_FAULTS = frozenset({"delay>timeout", "black-hole"})
"""Each costs the client a read timeout: at CI size a multi-request call gets them on its
last request only."""

CI_PAIRS = (("reset-before", "503"), ("reset-after", "500"), ("truncate", "reset-in-body"),
            ("429+Retry-After", "reset-after"), ("503", "503"),
            ("reset-in-response", "truncate"), ("reset-in-body", "429+Retry-After"))
PAIRS: tuple[tuple[str, str], ...] = tuple(product(FAULTS, FAULTS)) if FULL else CI_PAIRS
"""Two faults on one call: the first on its 1st request, the second on its 2nd (at CI size
fast ones only: a slow fault costs a read timeout)."""
CI_PAIR_CALLS = ("create_blob", "list_blobs", "get_blob_bytes", "get_blob_properties",
                 "copy_blob")
UNSAFE_PAIRS: tuple[tuple[str, str], ...] = PAIRS if FULL else (
    ("reset-after", "reset-after"), ("503", "reset-after"), ("reset-before", "503"))

Known = dict[tuple[str, str], str]
"""(call, fault) -> the exception type name still seen there, allowed until fixed. For two
faults the fault is ``"<first> then <second>"``, for a scripted one the column's name."""

Check = Callable[[Any, Any, str, str], None]
"""``check(result, direct_store, container, cell_name)`` asserts a success is real."""

Leftover = Callable[[Any, str, str], "str | None"]
"""``leftover(direct_store, container, cell_name)``: what a failed call left that it must not
have (a partial blob), or None."""

KiB = 2**10
MiB = 2**20
PAGE = 3
"""Entries per listing page on the store with small parts."""
PAGE_BLOBS = 7
"""Blobs under ``p/``: three pages."""


# -- small parts and pages ------------------------------------------------------------------

def _azure_pages(patch: pytest.MonkeyPatch, size: int) -> None:
    patch.setattr("xtstore.providers.azure.store.PAGE_SIZE", size)


def _s3_pages(patch: pytest.MonkeyPatch, size: int) -> None:
    from xtstore.providers.s3 import listing, store

    patch.setattr(store, "iter_listing", partial(listing.iter_listing, page_size=size))


@dataclass(frozen=True)
class SmallParts:
    """A provider's settings that send a blob of ``large`` bytes in parts of ``part`` bytes
    (and read it back in ranges), one part at a time, and how to make its listing pages
    ``PAGE`` entries long (no setting does: the page size is the provider's constant)."""

    settings: dict[str, Any]
    part: int
    large: int
    pages: Callable[[pytest.MonkeyPatch, int], None]


SMALL_PARTS: dict[str, SmallParts] = {
    # 5 staged blocks and a commit; 5 ranged GETs.
    "azure-blob": SmallParts(
        {"max-single-put-size": 8 * KiB, "max-block-size": 4 * KiB,
         "max-single-get-size": 4 * KiB, "max-chunk-get-size": 4 * KiB, "max-concurrency": 1},
        part=4 * KiB, large=16 * KiB + 100, pages=_azure_pages),
    # S3's smallest part is 5 MiB: 2 parts (CreateMultipartUpload, 2 UploadPart, Complete); a
    # HEAD and 2 ranged GETs.
    "store-s3": SmallParts(
        {"multipart-threshold": 5 * MiB, "multipart-chunksize": 5 * MiB, "max-concurrency": 1},
        part=5 * MiB, large=5 * MiB + 100 * KiB, pages=_s3_pages),
}


def _small_parts(store: Any) -> SmallParts:
    provider = store.origin.settings["provider"]
    if provider not in SMALL_PARTS:
        raise AssertionError(f"the fault matrix has no SMALL_PARTS settings for {provider!r}")
    return SMALL_PARTS[provider]


def _small_parts_store(store: Any, small: SmallParts) -> Any:
    """``store`` opened again with ``small``'s settings (same endpoint, retry and timeouts)."""
    origin = store.origin
    entry = {**origin.settings, **small.settings}
    return xtstore.get_storage(origin.service,
                               config={"external-services": {origin.service: entry}})


def _large_content(size: int) -> bytes:
    # Never periodic: a part placed at the wrong offset, or repeated, cannot look right.
    return random.Random(2026).randbytes(size)


# -- checks --------------------------------------------------------------------------------

def _equal(expected: object) -> Check:
    def check(result: Any, direct: Any, container: str, cell: str) -> None:
        assert result == expected

    return check


def _truthy(result: Any, direct: Any, container: str, cell: str) -> None:
    assert result


def _written_as(content: bytes) -> Check:
    def check(result: Any, direct: Any, container: str, cell: str) -> None:
        data = direct.get_blob_bytes(container, f"w/{cell}")
        assert data == content, f"{len(data)} bytes read back, not {len(content)}"

    return check


def _whole_or_absent(content: bytes) -> Leftover:
    def leftover(direct: Any, container: str, cell: str) -> str | None:
        try:
            data = direct.get_blob_bytes(container, f"w/{cell}")
        except BlobNotFound:
            return None
        return None if data == content else f"PARTIAL ({len(data)} bytes)"

    return leftover


def _nothing_to_leave(direct: Any, container: str, cell: str) -> str | None:
    return None


def _names(result: Any) -> list[str]:
    return [item if isinstance(item, str) else item.name for item in result]


def _listed(result: Any, direct: Any, container: str, cell: str) -> None:
    assert SOURCE in _names(result)


def _pages_listed(result: Any, direct: Any, container: str, cell: str) -> None:
    assert _names(result) == [f"p/{i}" for i in range(PAGE_BLOBS)]


def _file(tmp: Path) -> Callable[[str], Path]:
    def path(cell: str) -> Path:
        return tmp / f"{cell}.bin"

    return path


@dataclass(frozen=True)
class Row:
    """One idempotent call: ``call(store, container, cell)`` runs through the proxy, ``check``
    asserts a success is real, ``leftover`` what a failure left. ``small_parts``: it runs on
    the store with SMALL_PARTS settings and listing pages of PAGE entries."""

    call: Callable[[Any, str, str], Any]
    check: Check
    leftover: Leftover = _nothing_to_leave
    small_parts: bool = False


def calls(tmp: Path) -> dict[str, Row]:
    """The interface calls, one request each on test-sized blobs."""
    local = _file(tmp)
    source_file = tmp / "source.bin"
    source_file.write_bytes(CONTENT)

    def to_path(store: Any, c: str, cell: str) -> bytes:
        store.get_blob_to_path(c, SOURCE, str(local(cell)))
        return local(cell).read_bytes()

    def open_read(store: Any, c: str, cell: str) -> bytes:
        with store.open_blob(c, SOURCE) as stream:
            return bytes(stream.read())

    def write_small(store: Any, c: str, cell: str) -> None:
        with store.open_blob(c, f"w/{cell}", mode="wb") as writer:
            writer.write(CONTENT)

    written = _written_as(CONTENT)
    whole = _whole_or_absent(CONTENT)
    return {
        "does_container_exist": Row(lambda s, c, n: s.does_container_exist(c), _equal(True)),
        "list_containers": Row(lambda s, c, n: s.list_containers(),
                               lambda r, d, c, n: _equal(True)(c in r, d, c, n)),
        "get_container_properties": Row(lambda s, c, n: s.get_container_properties(c),
                                        _truthy),
        "get_container_metadata": Row(lambda s, c, n: s.get_container_metadata(c),
                                      lambda r, d, c, n: None),
        "set_container_metadata": Row(lambda s, c, n: s.set_container_metadata(c, {"k": n}),
                                      lambda r, d, c, n: _equal({"k": n})(
                                          d.get_container_metadata(c), d, c, n)),
        "does_blob_exist": Row(lambda s, c, n: s.does_blob_exist(c, SOURCE), _equal(True)),
        "create_blob": Row(lambda s, c, n: s.create_blob(c, f"w/{n}", CONTENT), written, whole),
        "create_blob_from_path": Row(
            lambda s, c, n: s.create_blob_from_path(c, f"w/{n}", str(source_file)), written,
            whole),
        "list_blobs": Row(lambda s, c, n: s.list_blobs(c), _listed),
        "iter_blobs": Row(lambda s, c, n: list(s.iter_blobs(c)), _listed),
        "get_blob_text": Row(lambda s, c, n: s.get_blob_text(c, SOURCE),
                             _equal(CONTENT.decode())),
        "get_blob_bytes": Row(lambda s, c, n: s.get_blob_bytes(c, SOURCE), _equal(CONTENT)),
        "get_blob_to_path": Row(to_path, _equal(CONTENT)),
        "open_blob.read": Row(open_read, _equal(CONTENT)),
        "get_blob_range": Row(lambda s, c, n: s.get_blob_range(c, SOURCE, 100, 1100),
                              _equal(CONTENT[100:1100])),
        "open_blob(wb)": Row(write_small, written, whole),
        "get_blob_properties": Row(lambda s, c, n: s.get_blob_properties(c, SOURCE), _truthy),
        "get_blob_metadata": Row(lambda s, c, n: s.get_blob_metadata(c, SOURCE),
                                 lambda r, d, c, n: None),
        "set_blob_metadata": Row(lambda s, c, n: s.set_blob_metadata(c, SOURCE, {"k": n}),
                                 lambda r, d, c, n: _equal({"k": n})(
                                     d.get_blob_metadata(c, SOURCE), d, c, n)),
        "copy_blob": Row(lambda s, c, n: s.copy_blob(c, SOURCE, c, f"w/{n}"), written, whole),
    }


def _read_exactly(stream: Any, size: int) -> bytes:
    """``size`` bytes, or fewer only where the stream ends: as a careful caller reads (one
    ``read(n)`` may return less)."""
    chunks = []
    while size > 0:
        chunk = stream.read(min(size, 64 * KiB))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_range(stream: Any, offset: int, length: int) -> bytes:
    """``length`` bytes from ``offset``: by seeking where the stream can (Azure's and S3's:
    a ranged GET from there), else by reading up to it."""
    if stream.seekable():
        stream.seek(offset)
    else:
        _read_exactly(stream, offset)
    return _read_exactly(stream, length)


def multi_request_calls(tmp: Path, large: bytes) -> dict[str, Row]:
    """Calls that make several requests on the store with small parts and pages: LARGE_SOURCE
    holds ``large``, ``p/`` holds PAGE_BLOBS blobs."""
    local = _file(tmp)
    large_file = tmp / "large.bin"
    large_file.write_bytes(large)
    offset, length = len(large) // 3, len(large) // 3

    def to_path(store: Any, c: str, cell: str) -> bytes:
        store.get_blob_to_path(c, LARGE_SOURCE, str(local(cell)))
        return local(cell).read_bytes()

    def read_range(store: Any, c: str, cell: str) -> bytes:
        with store.open_blob(c, LARGE_SOURCE) as stream:
            # Past the range first and back: a forward seek under the HTTP providers' skip
            # limit reads through the open body, a seek back is a ranged GET on every store.
            _read_range(stream, offset + length, 1)
            return _read_range(stream, offset, length)

    def write_parts(store: Any, c: str, cell: str) -> None:
        with store.open_blob(c, f"w/{cell}", mode="wb") as writer:
            for start in range(0, len(large), 64 * KiB):
                writer.write(large[start:start + 64 * KiB])

    return {
        "create_blob_from_path (multipart)": Row(
            lambda s, c, n: s.create_blob_from_path(c, f"w/{n}", str(large_file)),
            _written_as(large), _whole_or_absent(large), small_parts=True),
        "get_blob_to_path (ranged)": Row(to_path, _equal(large), small_parts=True),
        "get_blob_bytes (large)": Row(lambda s, c, n: s.get_blob_bytes(c, LARGE_SOURCE),
                                      _equal(large), small_parts=True),
        "open_blob (range read)": Row(read_range, _equal(large[offset:offset + length]),
                                      small_parts=True),
        "open_blob(wb) (parts)": Row(write_parts, _written_as(large), _whole_or_absent(large),
                                     small_parts=True),
        "list_blobs (pages)": Row(lambda s, c, n: s.list_blobs(c, "p/"), _pages_listed,
                                  small_parts=True),
        "iter_blobs (pages)": Row(lambda s, c, n: list(s.iter_blobs(c, "p/")), _pages_listed,
                                  small_parts=True),
    }


# -- running cells --------------------------------------------------------------------------

@dataclass(frozen=True)
class Injection:
    """One fault on the ``nth`` request of a call (counting only ``method`` requests if
    given)."""

    fault: Fault
    nth: int = 1
    method: str | None = None


def _known(known: Known, name: str, column: str) -> set[str]:
    """What ``known`` allows in that cell: for two faults also what either fault alone is
    known to end in (a gap met on the retry of an absorbed first fault is the same gap)."""
    allowed = {known[name, column]} if (name, column) in known else set()
    for fault in column.split(" then ") if " then " in column else ():
        if (name, fault) in known:
            allowed.add(known[name, fault])
    return allowed


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


def _under_faults(
    proxy: FaultProxy, injections: Sequence[Injection], function: Callable[[], Any]
) -> tuple[str, Any, BaseException | None, int]:
    """Run ``function`` with ``injections`` scripted on a cleared proxy: (status, result,
    error, how many faults fired)."""
    proxy.keep_alive(4 * CALL_BOUND)
    proxy.clear()
    for injection in injections:
        proxy.inject(injection.fault, method=injection.method, nth=injection.nth)
    status, result, error = _run(function)
    fired = sum(entry.fault not in (None, "over-limit") for entry in proxy.log)
    proxy.clear()
    return status, result, error, fired


def _cell_name(*parts: object) -> str:
    text = "-".join(str(part) for part in parts)
    return text.translate(str.maketrans("()+> #", "------"))


def _positions(fault_name: str, requests: int, row: int) -> tuple[int, ...]:
    """Which requests of the ``row``th multi-request call get the fault: every one at full
    size. At CI size the last (a commit, the last range or page) or, for every other fault of
    FAULTS, the 2nd (a middle part or page); of the two slow faults, each row gets one, on
    its last request."""
    if FULL:
        return tuple(range(1, requests + 1))
    index = list(FAULTS).index(fault_name)
    if fault_name in SLOW_FAULTS:
        return (requests,) if (index + row) % 2 else ()
    return (requests,) if index % 2 else (min(2, requests),)


Table = dict[str, dict[str, list[str]]]
"""row -> column -> the outcome of each cell there."""


@dataclass
class _Counts:
    cells: int = 0
    injected: int = 0
    seconds: float = 0.0


class _Tables:
    """The tables printed, the problems found and the faults injected."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tables: dict[str, tuple[Table, list[str]]] = {}
        self.problems: list[str] = []
        self.injected = 0
        self.cells = 0
        self.counts: dict[str, _Counts] = {}
        self.started = self.last = time.monotonic()

    def add(self, title: str, row: str, column: str, text: str, fired: int) -> None:
        table, columns = self.tables.setdefault(title, ({}, []))
        if column not in columns:
            columns.append(column)
        table.setdefault(row, {}).setdefault(column, []).append(text)
        self.injected += fired
        self.cells += 1
        now = time.monotonic()
        counts = self.counts.setdefault(title, _Counts())
        counts.cells += 1
        counts.injected += fired
        counts.seconds += now - self.last
        self.last = now

    def show(self) -> None:
        seconds = time.monotonic() - self.started
        print(f"\n{self.label}: {self.injected} faults injected in {self.cells} cells, "
              f"{seconds:.1f}s")
        for title, (table, columns) in self.tables.items():
            counts = self.counts[title]
            lines = [f"\n{title}: {counts.injected} faults in {counts.cells} cells, "
                     f"{counts.seconds:.1f}s",
                     "| call | " + " | ".join(columns) + " |",
                     "|---" * (len(columns) + 1) + "|"]
            for row, outcomes in table.items():
                lines.append(f"| {row} | " + " | ".join(
                    " / ".join(outcomes.get(column, ["-"])) for column in columns) + " |")
            print("\n".join(lines))


class _IdempotentCells:
    def __init__(
        self, tables: _Tables, direct: Any, container: str, proxy: FaultProxy,
        known_raw: Known, known_not_absorbed: Known,
        pages: Callable[[], AbstractContextManager[Any]],
    ) -> None:
        self.tables = tables
        self.direct = direct
        self.container = container
        self.proxy = proxy
        self.known_raw = known_raw
        self.known_not_absorbed = known_not_absorbed
        self.pages = pages

    def requests(self, name: str, row: Row, store: Any) -> list[Any]:
        """The requests ``row``'s call makes without a fault (what the positions count)."""
        cell = _cell_name(name, "dry")
        with self.pages() if row.small_parts else nullcontext():
            self.proxy.clear()
            status, result, error = _run(partial(row.call, store, self.container, cell))
            log = self.proxy.log
            self.proxy.clear()
        if status != "ok":
            raise AssertionError(f"{name} fails without a fault: {status} {error!r}")
        row.check(result, self.direct, self.container, cell)
        _delete_quietly(self.direct, self.container, f"w/{cell}")
        return log

    def cell(
        self, title: str, name: str, row: Row, store: Any, column: str,
        injections: Sequence[Injection], tag: str = "",
    ) -> None:
        cell = _cell_name(name, column, tag or injections[0].nth)
        with self.pages() if row.small_parts else nullcontext():
            status, result, error, fired = _under_faults(
                self.proxy, injections, partial(row.call, store, self.container, cell))
        where = f"{name} x {column}{tag or '@' + str(injections[0].nth)}"
        if status == "ok":
            try:
                row.check(result, self.direct, self.container, cell)
                outcome = "ok" if fired else "ok (not reached)"
            except AssertionError as failure:
                outcome = "WRONG"
                self.tables.problems.append(f"{where}: wrong result {failure}")
        elif status == "hang":
            outcome = "HANG"
            self.tables.problems.append(f"{where}: no end in {CALL_BOUND}s")
        elif isinstance(error, StoreError):
            outcome = type(error).__name__
            if outcome not in _known(self.known_not_absorbed, name, column):
                self.tables.problems.append(
                    f"{where}: {len(injections)} transient fault(s) not absorbed: "
                    f"{outcome}: {error}")
        else:
            assert error is not None
            outcome = f"RAW {type(error).__name__}"
            if type(error).__name__ not in _known(self.known_raw, name, column):
                self.tables.problems.append(
                    f"{where}: raw {type(error).__module__}.{type(error).__name__}: {error}")
        if status != "ok":
            left = row.leftover(self.direct, self.container, cell)
            if left is not None:
                outcome += f", {left}"
                self.tables.problems.append(f"{where}: the failed call left {left}")
        if row.leftover is not _nothing_to_leave:
            _delete_quietly(self.direct, self.container, f"w/{cell}")
        self.tables.add(title, name, column, f"{tag}{' ' if tag else ''}{outcome}", fired)


def _delete_quietly(direct: Any, container: str, blob: str) -> None:
    """What a cell wrote goes after it: moto holds every object in memory, and deleting a
    container of thousands of blobs (the full size) outlasts the 0.5 s read timeout. A
    failed clean-up is no finding of the matrix."""
    with suppress(BlobNotFound, TransientError):
        direct.delete_blob(container, blob)


@contextmanager
def _pages_of(small: SmallParts) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        small.pages(patch, PAGE)
        yield


@dataclass(frozen=True)
class _Scripted:
    """A fault after N bytes of a body, on the kth ``method`` request of ``row``'s call for
    each k (at CI size the first and/or the last such request)."""

    row: str
    method: str
    fault: Fault
    ci_first: bool = True
    ci_last: bool = True

    def ks(self, count: int) -> list[int]:
        if FULL:
            return list(range(1, count + 1))
        return sorted({k for k, wanted in ((1, self.ci_first), (count, self.ci_last)) if wanted})


def _scripted(part: int) -> dict[str, _Scripted]:
    """column -> a scripted fault ("reset the kth PUT after N bytes")."""
    after = part // 4
    return {
        f"PUT body reset after {after} B": _Scripted(
            "create_blob_from_path (multipart)", "PUT", Fault.reset_during_body(after)),
        f"GET response cut after {after} B": _Scripted(
            "get_blob_to_path (ranged)", "GET", Fault.truncate(after), ci_first=False),
        f"GET response reset after {after} B": _Scripted(
            "get_blob_to_path (ranged)", "GET", Fault.reset_in_response(after), ci_last=False),
    }


def run_matrix(
    label: str,
    store: Any,
    direct: Any,
    proxy: FaultProxy,
    tmp: Path,
    *,
    known_raw: Known,
    known_not_absorbed: Known,
) -> list[str]:
    """Run every cell on ``store`` (through ``proxy``) in a new container holding SOURCE,
    made and removed through ``direct``; print the tables; the problems found."""
    container = f"fm-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    direct.create_blob(container, SOURCE, CONTENT)
    try:
        return _idempotent_cells(label, store, direct, container, proxy, tmp,
                                 known_raw=known_raw, known_not_absorbed=known_not_absorbed)
    finally:
        direct.delete_container(container)


def _idempotent_cells(
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
    small = _small_parts(store)
    large = _large_content(small.large)
    direct.create_blob(container, LARGE_SOURCE, large)
    for index in range(PAGE_BLOBS):
        direct.create_blob(container, f"p/{index}", b"%d" % index)
    small_store = _small_parts_store(store, small)
    tables = _Tables(f"{label} fault matrix")
    cells = _IdempotentCells(tables, direct, container, proxy, known_raw, known_not_absorbed,
                             partial(_pages_of, small))

    one_request = calls(tmp)
    title = f"{label}: one fault on request {POSITIONS} of each call"
    for name, row in one_request.items():
        for fault_name, fault in FAULTS.items():
            for position in POSITIONS:
                cells.cell(title, name, row, store, fault_name, [Injection(fault, position)])

    title = (f"{label}: calls of several requests (small parts and pages), one fault on "
             f"request #k")
    many = multi_request_calls(tmp, large)
    logs = {name: cells.requests(name, row, small_store) for name, row in many.items()}
    for row_index, (name, row) in enumerate(many.items()):
        for fault_name, fault in FAULTS.items():
            for position in _positions(fault_name, len(logs[name]), row_index):
                cells.cell(title, name, row, small_store, fault_name,
                           [Injection(fault, position)], tag=f"#{position}")

    title = f"{label}: scripted faults after N bytes of a body, on the kth request of a method"
    for column, scripted in _scripted(small.part).items():
        count = sum(entry.method == scripted.method for entry in logs[scripted.row])
        for nth in scripted.ks(count):
            cells.cell(title, scripted.row, many[scripted.row], small_store, column,
                       [Injection(scripted.fault, nth, scripted.method)], tag=f"#{nth}")

    title = f"{label}: two faults, on the 1st and the 2nd request"
    pair_calls = one_request if FULL else {name: one_request[name] for name in CI_PAIR_CALLS}
    for name, row in pair_calls.items():
        for first, second in PAIRS:
            cells.cell(title, name, row, store, f"{first} then {second}",
                       [Injection(FAULTS[first], 1), Injection(FAULTS[second], 2)])

    tables.show()
    return tables.problems


# -- non-idempotent calls ------------------------------------------------------------------

StateOf = Callable[[Any, str, str], str]
"""``state(direct_store, container, cell)``: "old", "new", or what else the store holds."""


@dataclass(frozen=True)
class UnsafeCall:
    """A call that changes the store and must not be repeated blindly: ``setup`` prepares
    the old state (directly), ``call`` runs through the proxy, ``state`` tells what is left.
    ``small_parts``: it runs on the store with SMALL_PARTS settings; ``safe_as``: the call
    of UNSAFE_CALLS whose ``made_safe`` entry covers this one too (another path of it)."""

    call: Callable[[Any, str, str], Any]
    state: StateOf
    setup: Callable[[Any, str, str], None] = lambda direct, container, cell: None
    small_parts: bool = False
    safe_as: str | None = None


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


def multi_request_unsafe_calls(large: bytes) -> dict[str, UnsafeCall]:
    """The other paths of the non-idempotent calls: a rewrite append, an append to a large
    blob (S3: a server-side compose; Azure, where the blob is a block blob: a rewrite in staged
    blocks) and multipart creates, on the store with small parts."""
    return {
        "append_blob (rewrite)": UnsafeCall(
            lambda s, c, n: s.append_blob(c, _blob(n), "tail", append_with_rewrite=True),
            _content_state(b"head", b"headtail"),
            setup=lambda d, c, n: d.append_blob(c, _blob(n), "head"),
            small_parts=True, safe_as="append_blob (existing)"),
        "append_blob (large: compose or block rewrite)": UnsafeCall(
            lambda s, c, n: s.append_blob(c, _blob(n), "tail"),
            _content_state(large, large + b"tail"),
            setup=lambda d, c, n: d.create_blob(c, _blob(n), large),
            small_parts=True, safe_as="append_blob (existing)"),
        "create_blob_from_stream (multipart)": UnsafeCall(
            lambda s, c, n: s.create_blob_from_stream(c, _blob(n), io.BytesIO(large)),
            _content_state(None, large), small_parts=True, safe_as="create_blob_from_stream"),
        "create_blob(fail_if_exists) (multipart)": UnsafeCall(
            lambda s, c, n: s.create_blob(c, _blob(n), large, fail_if_exists=True),
            _content_state(None, large), small_parts=True,
            safe_as="create_blob(fail_if_exists)"),
    }


_CLAIMS_NOT_DONE = (BlobAlreadyExists, BlobNotFound, ContainerAlreadyExists, ContainerNotFound)


def run_unsafe_matrix(
    label: str, store: Any, direct: Any, proxy: FaultProxy, *, known: Known,
    made_safe: frozenset[str] = frozenset(),
) -> list[str]:
    """:func:`_non_idempotent_cells` in a new container, made and removed (with the
    containers its cells create) through ``direct``."""
    container = f"fu-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    try:
        return _non_idempotent_cells(label, store, direct, container, proxy, known=known,
                                     made_safe=made_safe)
    finally:
        for name in direct.list_containers():
            if name.startswith(container[:20] + "-"):  # see _container_name
                direct.delete_container(name)
        direct.delete_container(container)


def _non_idempotent_cells(
    label: str, store: Any, direct: Any, container: str, proxy: FaultProxy, *, known: Known,
    made_safe: frozenset[str] = frozenset(),
) -> list[str]:
    """Each non-idempotent call with each fault once on its first request (also its second
    and third with ``XTSTORE_FAULT_MATRIX=full``); its other paths (rewrite and compose
    appends, multipart creates) with each fault on their 2nd or last request (full: every
    request); PAIRS of faults on the 1st and 2nd request. A problem is a raw exception, a
    hang, a state that is neither the old nor the new one (partial or duplicated content), a
    "not found"/"already exists" error for the caller's own change that the store did apply,
    or a TransientError saying the change was not applied when it was; and, for one fault on
    a call named in ``made_safe`` (those the provider makes safe to repeat, xtstore.attempts)
    or on another path of it (``UnsafeCall.safe_as``), any error at all: one transient fault
    must end in success there. Elsewhere a typed TransientError is allowed and shown in the
    table. ``known`` lists the problems still seen, by (call, fault) -> cell text."""
    small = _small_parts(store)
    small_store = _small_parts_store(store, small)
    tables = _Tables(f"{label} non-idempotent fault matrix")

    def cell(title: str, name: str, spec: UnsafeCall, column: str,
             injections: Sequence[Injection], tag: str = "") -> None:
        text, bad, error, fired = _unsafe_cell(
            spec, small_store if spec.small_parts else store, direct, container, proxy,
            injections, _cell_name(name, column, tag or injections[0].nth))
        one_fault = len(injections) == 1
        bad = bad or (one_fault and (spec.safe_as or name) in made_safe and error is not None)
        if bad and text not in _known(known, name, column):
            tables.problems.append(f"{name} x {column}{tag or '@' + str(injections[0].nth)}: "
                                   f"{text} ({error!r})")
        tables.add(title, name, column, f"{tag}{' ' if tag else ''}{text}", fired)

    title = f"{label}: one fault on request {POSITIONS} of each non-idempotent call"
    for name, spec in UNSAFE_CALLS.items():
        for fault_name, fault in FAULTS.items():
            for position in POSITIONS:
                cell(title, name, spec, fault_name, [Injection(fault, position)])

    title = (f"{label}: other paths of the non-idempotent calls (small parts), one fault on "
             "request #k")
    unsafe_calls = multi_request_unsafe_calls(_large_content(small.large))
    for row_index, (name, spec) in enumerate(unsafe_calls.items()):
        requests = _unsafe_requests(name, spec, small_store, direct, container, proxy)
        for fault_name, fault in FAULTS.items():
            for position in _positions(fault_name, requests, row_index):
                cell(title, name, spec, fault_name, [Injection(fault, position)],
                     tag=f"#{position}")

    title = f"{label}: two faults on a non-idempotent call, on its 1st and 2nd request"
    for name, spec in UNSAFE_CALLS.items():
        for first, second in UNSAFE_PAIRS:
            cell(title, name, spec, f"{first} then {second}",
                 [Injection(FAULTS[first], 1), Injection(FAULTS[second], 2)])

    tables.show()
    return tables.problems


def _unsafe_requests(
    name: str, spec: UnsafeCall, store: Any, direct: Any, container: str, proxy: FaultProxy
) -> int:
    """How many requests ``spec``'s call makes without a fault."""
    cell = _cell_name(name, "dry")
    spec.setup(direct, container, cell)
    proxy.clear()
    status, _, error = _run(partial(spec.call, store, container, cell))
    requests = len(proxy.log)
    proxy.clear()
    state = spec.state(direct, container, cell)
    if status != "ok" or state != "new":
        raise AssertionError(f"{name} without a fault: {status} {error!r}, {state}")
    _delete_quietly(direct, container, _blob(cell))
    return requests


def _unsafe_cell(
    spec: UnsafeCall, store: Any, direct: Any, container: str, proxy: FaultProxy,
    injections: Sequence[Injection], cell: str,
) -> tuple[str, bool, BaseException | None, int]:
    """(cell text, whether it is a problem, the error, how many faults fired)."""
    spec.setup(direct, container, cell)
    status, _, error, fired = _under_faults(proxy, injections,
                                            partial(spec.call, store, container, cell))
    state = "?" if status == "hang" else spec.state(direct, container, cell)
    _delete_quietly(direct, container, _blob(cell))
    if status == "ok":
        text = "ok" if state == "new" else f"ok, but {state}"
        bad = state != "new"
        if not fired and not bad:
            text = "ok (not reached)"
    elif status == "hang":
        text, bad = "HANG", True
    elif isinstance(error, StoreError):
        text = f"{type(error).__name__}, {state}"
        bad = state not in ("old", "new") or (
            isinstance(error, _CLAIMS_NOT_DONE) and state == "new")
        if (isinstance(error, TransientError) and error.may_have_applied is False
                and state == "new"):
            text += " (said not applied)"
            bad = True
    else:
        text, bad = f"RAW {type(error).__name__}, {state}", True
    return text, bad, error, fired
