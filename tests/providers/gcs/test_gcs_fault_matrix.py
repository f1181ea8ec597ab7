"""The fault matrix on store-gcs (fake-gcs-server behind the fault proxy): see
tests/providers/fault_matrix.py. Small parts: 256 KiB resumable chunks (GCS's smallest),
so a large blob goes up in two chunks and the listing in pages of PAGE.

Rows of a writer (``open_blob(mode="wb")``) whose repeated step must ask its resumable
session what it persisted are left out here, and only here: fake-gcs-server takes that
question (``Content-Range: bytes */*``) as the end of the upload and stores a repeated chunk
twice (tests/providers/gcs/test_gcs_emulator.py), so no client can resume a session on it.
That repeat is tested against a server of GCS's protocol in test_gcs_session.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers import fault_matrix
from tests.providers.fault_matrix import (
    READ_TIMEOUT,
    SMALL_PARTS,
    Known,
    SmallParts,
    run_matrix,
    run_unsafe_matrix,
)
from tests.servers.fault_proxy import FaultProxy, running_proxy
from tests.servers.gcs_server import FakeGCSServer

KiB = 1024


def _gcs_pages(patch: pytest.MonkeyPatch, size: int) -> None:
    patch.setattr("xtstore.providers.gcs.store.PAGE_SIZE", size)


# Registered here, beside the provider's other fault-matrix settings: the shared module
# keeps one entry per provider whose matrix it runs.
SMALL_PARTS.setdefault("store-gcs", SmallParts(
    {"chunk-size": 256 * KiB, "single-upload-limit": 256 * KiB},
    part=256 * KiB, large=512 * KiB + 100, pages=_gcs_pages))

SESSION_RESUMING_ROWS = ("open_blob(wb) (parts)",)
"""The writer with several chunks: a fault on a chunk's request makes its repeat ask."""


@pytest.fixture(autouse=True)
def _without_session_resuming_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    original = fault_matrix.multi_request_calls

    def rows(*args: Any) -> Any:
        return {name: row for name, row in original(*args).items()
                if name not in SESSION_RESUMING_ROWS}

    monkeypatch.setattr(fault_matrix, "multi_request_calls", rows)


KNOWN_RAW: Known = {}
KNOWN_NOT_ABSORBED: Known = {}


@pytest.fixture
def proxy(fake_gcs: FakeGCSServer) -> Iterator[FaultProxy]:
    with running_proxy(fake_gcs.endpoint_url, hold_limit=10.0, lifetime=600.0) as running:
        yield running


def _store(fake_gcs: FakeGCSServer, endpoint: str) -> Any:
    entry = fake_gcs.service_config(**{
        "endpoint-url": endpoint, "timeout": {"connect": READ_TIMEOUT, "read": READ_TIMEOUT},
        "retry": {"attempts": 4, "base-delay": 0.02, "max-delay": 0.1, "total-timeout": 15}})
    return xtstore.get_storage("matrix", config={"external-services": {"matrix": entry}})


def test_every_idempotent_call_under_every_fault(
    fake_gcs: FakeGCSServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    problems = run_matrix("GCS", _store(fake_gcs, proxy.url),
                          _store(fake_gcs, fake_gcs.endpoint_url), proxy, tmp_path,
                          known_raw=KNOWN_RAW, known_not_absorbed=KNOWN_NOT_ABSORBED)
    assert not problems, "\n".join(problems)


KNOWN_UNSAFE: Known = {}
MADE_SAFE = frozenset({
    "create_blob(fail_if_exists)", "create_blob_from_stream", "append_blob (new blob)",
    "append_blob (existing)", "delete_blob", "snapshot_blob", "create_container",
    "delete_container",
})


def test_every_non_idempotent_call_under_every_fault_leaves_the_old_or_the_new_state(
    fake_gcs: FakeGCSServer, proxy: FaultProxy
) -> None:
    problems = run_unsafe_matrix("GCS", _store(fake_gcs, proxy.url),
                                 _store(fake_gcs, fake_gcs.endpoint_url), proxy,
                                 known=KNOWN_UNSAFE, made_safe=MADE_SAFE)
    assert not problems, "\n".join(problems)
