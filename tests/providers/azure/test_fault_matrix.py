"""The fault matrix on Azure (Azurite behind the fault proxy): see
tests/providers/fault_matrix.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers.fault_matrix import (
    READ_TIMEOUT,
    Known,
    run_matrix,
    run_unsafe_matrix,
)
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import FaultProxy, running_proxy

# Every call absorbs every fault, also the requests made after it returned: iter_blobs' later
# pages (each a step the Store retries from its continuation token: xtstore/paging.py) and
# open_blob's reads (which resume a broken body: providers/_blob_reader.py).
KNOWN_RAW: Known = {}
KNOWN_NOT_ABSORBED: Known = {}


@pytest.fixture
def proxy(azurite: Azurite) -> Iterator[FaultProxy]:
    with running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=10.0,
                       lifetime=600.0) as running:
        yield running


def _store(azurite: Azurite, endpoint: str) -> Any:
    entry = {
        "type": "storage", "provider": "azure-blob", "timeout": READ_TIMEOUT,
        "connection-string": azurite.connection_string.replace(azurite.endpoint, endpoint),
        "retry": {"attempts": 4, "base-delay": 0.02, "max-delay": 0.1, "total-timeout": 15},
    }
    return xtstore.get_storage("matrix", config={"external-services": {"matrix": entry}})


def test_every_idempotent_call_under_every_fault(
    azurite: Azurite, proxy: FaultProxy, tmp_path: Path
) -> None:
    problems = run_matrix("Azure", _store(azurite, proxy.endpoint(azurite.endpoint)),
                          _store(azurite, azurite.endpoint), proxy, tmp_path,
                          known_raw=KNOWN_RAW, known_not_absorbed=KNOWN_NOT_ABSORBED)
    assert not problems, "\n".join(problems)


# (call, fault) -> the cell still seen where the state or the error is wrong (see the table in
# docs/reliability.md); nothing else may be.
KNOWN_UNSAFE: Known = {}

MADE_SAFE = frozenset({
    # The provider makes a repeat of these harmless (xtstore.attempts): one transient fault
    # on any of their requests must end in success.
    "create_blob(fail_if_exists)", "append_blob (new blob)", "append_blob (existing)",
    "delete_blob", "snapshot_blob", "create_container", "delete_container",
    # The Store rewinds a seekable stream for a repeat (the matrix's is a BytesIO).
    "create_blob_from_stream",
})


def test_every_non_idempotent_call_under_every_fault_leaves_the_old_or_the_new_state(
    azurite: Azurite, proxy: FaultProxy
) -> None:
    problems = run_unsafe_matrix("Azure", _store(azurite, proxy.endpoint(azurite.endpoint)),
                                 _store(azurite, azurite.endpoint), proxy, known=KNOWN_UNSAFE,
                                 made_safe=MADE_SAFE)
    assert not problems, "\n".join(problems)
