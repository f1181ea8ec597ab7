"""CI sizes of the conformance suite's load clauses where a store is an emulator or a server
process and the suite's defaults (its full size) would take a minute a clause; the full-size
command of each is in docs/reliability.md ("Long tests")."""

from __future__ import annotations

import os

APPENDS_PER_WORKER = int(os.environ.get("XTSTORE_APPENDS", "40"))
"""Calls by each of the six workers of the concurrent-append clauses (full size: 200)."""
