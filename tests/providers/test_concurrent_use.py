"""Concurrent overwrites of one blob, on every built-in provider (docs/reliability.md,
"Guarantees per provider"): writers in several processes (store-file, store-fsspec on file://)
or threads (the in-process stores, and the servers, where the store decides) each overwrite
the same blob again and again while reading it. Every read and the final content must be one
writer's whole version: the last writer wins, nothing is torn, mixed or lost. Appends and the
create-only race are the conformance suite's (src/xtstore/testing/clauses_append.py,
clauses_process.py).

``XTSTORE_CONCURRENCY_ROUNDS`` sets the overwrites per writer (default 8)."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.azurite import Azurite
from tests.servers.s3_server import MotoServer
from xtstore.errors import StoreError
from xtstore.testing.workers import run_parallel

WRITERS = 3
ROUNDS = int(os.environ.get("XTSTORE_CONCURRENCY_ROUNDS", "8"))
SIZE = 320 * 1024
"""Over azure-blob's (test-sized) single-put limit, so its uploads are staged blocks."""

AZURE_SIZES = {"max-single-put-size": 256 * 1024, "max-block-size": 128 * 1024,
               "max-single-get-size": 256 * 1024, "max-chunk-get-size": 128 * 1024}


def version(writer: int, number: int) -> bytes:
    """A whole version, told apart from every other by its head and by every byte after."""
    head = f"{writer}:{number}:".encode()
    return head + bytes([65 + writer * 7 + number % 7]) * (SIZE + writer * 1000 - len(head))


def _whole(data: bytes) -> bool:
    writer, number, _ = data.split(b":", 2)
    return data == version(int(writer), int(number))


def overwrite_and_read(store: Any, container: str, writer: int, rounds: int,
                       ) -> tuple[list[str], list[str]]:
    """Overwrite the shared blob ``rounds`` times (as text, bytes and a stream in turn),
    reading it after each; return what was wrong with any read, and the errors the writes
    raised (``Type: reason``)."""
    problems, errors = [], []
    for number in range(rounds):
        data = version(writer, number)
        try:
            if number % 3 == 0:
                store.create_blob(container, "shared.bin", data.decode("ascii"))
            elif number % 3 == 1:
                store.create_blob(container, "shared.bin", data)
            else:
                store.create_blob_from_stream(container, "shared.bin", io.BytesIO(data))
        except StoreError as error:
            errors.append(f"{type(error).__name__}: {error.reason}")
        seen = store.get_blob_bytes(container, "shared.bin")
        if not _whole(seen):
            problems.append(f"writer {writer} read {len(seen)} bytes starting {seen[:16]!r}:"
                            " no one writer's whole version")
    return problems, errors


PROVIDERS = ["store-file", "store-memory", "store-fsspec memory://", "store-fsspec file://",
             "azure-blob", "store-s3"]
IN_PROCESSES = {"store-file", "store-fsspec file://"}



@pytest.fixture(params=PROVIDERS)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, str]]:
    provider = str(request.param)
    entry: dict[str, Any]
    if provider == "azure-blob":
        azurite: Azurite = request.getfixturevalue("azurite")
        entry = {"provider": "azure-blob", "connection-string": azurite.connection_string,
                 **AZURE_SIZES}
    elif provider == "store-s3":
        moto: MotoServer = request.getfixturevalue("moto_server")
        entry = moto.service_config(name="svc")
    elif provider == "store-file":
        entry = {"provider": "store-file", "path": str(tmp_path / "root")}
    elif provider == "store-memory":
        entry = {"provider": "store-memory"}
    elif provider.endswith("memory://"):
        entry = {"provider": "store-fsspec", "url": f"memory://cu-{uuid.uuid4().hex[:8]}"}
    else:
        entry = {"provider": "store-fsspec", "url": f"file://{tmp_path / 'fsroot'}"}
    store = xtstore.get_storage("svc", config={"external-services": {"svc": entry}})
    container = f"cu-{uuid.uuid4().hex[:12]}"
    store.create_container(container)
    yield provider, store, container
    store.delete_container(container)


def test_concurrent_overwrites_leave_one_writers_whole_version(
    case: tuple[str, Any, str]
) -> None:
    provider, store, container = case
    processes = provider in IN_PROCESSES
    outcomes = run_parallel(store, overwrite_and_read,
                            [(container, writer, ROUNDS) for writer in range(WRITERS)],
                            processes=processes, timeout=120, clause="concurrent overwrites")
    failed = [f"{o.error_type}: {o.error}" for o in outcomes if o.error_type]
    assert not failed, failed
    problems = [problem for outcome in outcomes for problem in outcome.value[0]]
    assert not problems, problems[:3]
    # Every overwrite succeeds (on Azure too: of two staged uploads at once, the one whose
    # blocks the other's commit dropped is made again, providers/azure/errors.py).
    errors = {error for outcome in outcomes for error in outcome.value[1]}
    assert not errors, errors
    final = store.get_blob_bytes(container, "shared.bin")
    assert _whole(final), final[:16]
    # The last writer wins: what is left is some writer's last version.
    assert final in {version(writer, ROUNDS - 1) for writer in range(WRITERS)}, final[:16]
    properties = store.get_blob_properties(container, "shared.bin").properties
    assert properties is not None and properties.content_length == len(final)
