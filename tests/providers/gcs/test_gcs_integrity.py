"""Integrity end to end on store-gcs, with real damage: the fault proxy flips one byte of a
response body between the provider and fake-gcs-server. A download checked against the MD5
GCS sends (``x-goog-hash``) raises ``IntegrityError`` and leaves nothing at the destination;
one damaged response is read again by the retry layer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from tests.servers.gcs_server import FakeGCSServer
from xtstore.errors import IntegrityError

CONTENT = os.urandom(3 * 2**20)
ATTEMPTS = 3


@pytest.fixture
def stores(fake_gcs: FakeGCSServer) -> Iterator[tuple[Any, Any, str, FaultProxy]]:
    def make(endpoint: str) -> Any:
        entry = fake_gcs.service_config(**{
            "endpoint-url": endpoint, "timeout": {"connect": 5, "read": 30},
            "retry": {"attempts": ATTEMPTS, "base-delay": 0.01, "max-delay": 0.05}})
        return xtstore.get_storage("integrity",
                                   config={"external-services": {"integrity": entry}})

    direct = make(fake_gcs.endpoint_url)
    container = f"in-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    direct.create_blob(container, "blob.bin", CONTENT)
    with running_proxy(fake_gcs.endpoint_url, hold_limit=5.0, lifetime=120.0) as proxy:
        yield make(proxy.endpoint(fake_gcs.endpoint_url)), direct, container, proxy
    direct.delete_container(container)


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("how", ["path", "bytes", "open_blob"])
def test_damage_on_every_attempt_is_an_integrity_error(
    stores: tuple[Any, Any, str, FaultProxy], tmp_path: Path, how: str
) -> None:
    store, _, container, proxy = stores
    proxy.inject(Fault.corrupt(after_bytes=2**20 + 5), method="GET", path="blob.bin",
                 times=None)
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(IntegrityError):
        if how == "path":
            store.get_blob_to_path(container, "blob.bin", str(dest))
        elif how == "bytes":
            store.get_blob_bytes(container, "blob.bin")
        else:
            with store.open_blob(container, "blob.bin") as stream:
                stream.read()
    if how == "path":
        assert not dest.exists() and _leftovers(dest.parent) == []
    assert len(proxy.requests("GET", "blob.bin")) >= ATTEMPTS


def test_one_damaged_response_is_read_again(stores: tuple[Any, Any, str, FaultProxy],
                                            tmp_path: Path) -> None:
    store, _, container, proxy = stores
    proxy.inject(Fault.corrupt(after_bytes=100), method="GET", path="blob.bin")
    dest = tmp_path / "blob.bin"
    store.get_blob_to_path(container, "blob.bin", str(dest))
    assert dest.read_bytes() == CONTENT
    assert len(proxy.requests("GET", "blob.bin")) == 2
