"""Clause "append_blob" of docs/contract.md §1, including concurrent appends from several
workers."""

from __future__ import annotations

import re
from pathlib import Path

from xtstore.store import Store
from xtstore.testing.base import SuiteBase
from xtstore.testing.checks import check, check_equal, fail, require_feature
from xtstore.testing.workers import append_lines, line_text, run_parallel

__all__ = ["AppendClauses", "check_appended_lines"]

WORKERS = 6
CREATES = "append_blob creates the blob if missing"
IN_ORDER = "append_blob appends after what is there, in call order"
ANY_BLOB = "append_blob works on any blob this library created"
CONCURRENT = ("append_blob: concurrent appends from several processes lose nothing and never "
              "interleave inside one call's text")
REWRITE = "append_with_rewrite=True (read-modify-write under an etag condition) is just as safe"
_LINE = re.compile(r"<w(\d\d)-(\d{4}):")


def check_appended_lines(content: str, workers: int, lines: int, clause: str) -> None:
    """Every worker's every line is there once, intact, and in that worker's call order."""
    got = content.splitlines(keepends=True)
    seen: dict[int, list[int]] = {worker: [] for worker in range(workers)}
    for position, line in enumerate(got):
        match = _LINE.match(line)
        if match is None or line != line_text(int(match[1]), int(match[2])):
            fail(clause, f"line {position + 1} of {len(got)} is torn or foreign: {line[:90]!r}")
        seen.setdefault(int(match[1]), []).append(int(match[2]))
    for worker, numbers in seen.items():
        if numbers != list(range(lines)):
            missing = sorted(set(range(lines)) - set(numbers))
            fail(clause, f"worker {worker}: expected its {lines} lines in order, got "
                 f"{len(numbers)} (missing {missing[:5]}..., first out of order at "
                 f"{next((i for i, n in enumerate(numbers) if n != i), None)})")
    check_equal(len(got), workers * lines, clause, "line count")


class AppendClauses(SuiteBase):
    def _require_append(self, store: Store, container: str) -> None:
        require_feature(store, "append", lambda: store.append_blob(container, "probe.log", "x"))

    def test_append_creates_the_blob_if_missing(self, store: Store, container: str) -> None:
        self._require_append(store, container)
        for rewrite in (False, True):
            name = f"new-{rewrite}.log"
            store.append_blob(container, name, "first\n", append_with_rewrite=rewrite)
            check_equal(store.get_blob_text(container, name), "first\n", CREATES,
                        f"append_with_rewrite={rewrite}")

    def test_append_appends_in_order_str_and_bytes(self, store: Store, container: str) -> None:
        self._require_append(store, container)
        for rewrite in (False, True):
            name = f"order-{rewrite}.log"
            parts: list[str | bytes] = ["one ☃\n", b"two \xff\n", "three\n"]
            for part in parts:
                store.append_blob(container, name, part, append_with_rewrite=rewrite)
            expected = b"".join(p.encode("utf-8") if isinstance(p, str) else p for p in parts)
            check_equal(store.get_blob_bytes(container, name), expected, IN_ORDER,
                        f"append_with_rewrite={rewrite}")

    def test_append_to_blob_made_by_create_blob_and_create_blob_from_path(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        self._require_append(store, container)
        source = tmp_path / "start.txt"
        source.write_text("from a file\n", encoding="utf-8")
        for rewrite in (False, True):
            made = f"made-{rewrite}.log"
            uploaded = f"uploaded-{rewrite}.log"
            store.create_blob(container, made, "from create_blob\n")
            store.create_blob_from_path(container, uploaded, str(source))
            store.append_blob(container, made, "more\n", append_with_rewrite=rewrite)
            store.append_blob(container, uploaded, "more\n", append_with_rewrite=rewrite)
            check_equal(store.get_blob_text(container, made), "from create_blob\nmore\n",
                        ANY_BLOB, f"after create_blob, append_with_rewrite={rewrite}")
            check_equal(store.get_blob_text(container, uploaded), "from a file\nmore\n",
                        ANY_BLOB, f"after create_blob_from_path, append_with_rewrite={rewrite}")

    def test_append_after_overwrite_starts_from_the_new_content(
        self, store: Store, container: str
    ) -> None:
        self._require_append(store, container)
        store.append_blob(container, "r.log", "old\n")
        store.create_blob(container, "r.log", "new\n")
        store.append_blob(container, "r.log", "tail\n")
        check_equal(store.get_blob_text(container, "r.log"), "new\ntail\n", ANY_BLOB,
                    "append after create_blob replaced an appended blob")

    def _concurrent(self, store: Store, container: str, rewrite: bool, clause: str) -> None:
        self._require_append(store, container)
        processes = self.use_processes(store)
        lines = self.options.appends_per_worker
        outcomes = run_parallel(
            store, append_lines,
            [(container, "shared.log", worker, lines, rewrite) for worker in range(WORKERS)],
            processes=processes, timeout=self.options.concurrency_timeout, clause=clause,
        )
        errors = [f"{o.error_type}: {o.error}" for o in outcomes if o.error_type is not None]
        check(not errors, clause, f"appending workers failed: {errors[:3]}")
        kind = "processes" if processes else "threads"
        content = store.get_blob_text(container, "shared.log")
        check_appended_lines(content, WORKERS, lines, f"{clause} ({WORKERS} {kind})")

    def test_concurrent_appends_lose_nothing_and_never_interleave(
        self, store: Store, container: str
    ) -> None:
        self._concurrent(store, container, False, CONCURRENT)

    def test_concurrent_appends_with_rewrite_lose_nothing_and_never_interleave(
        self, store: Store, container: str
    ) -> None:
        self._concurrent(store, container, True, f"{REWRITE}: {CONCURRENT}")
