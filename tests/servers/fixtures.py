"""Fixtures for the local servers, registered for the whole suite from ``tests/conftest.py``:
one moto server per run (per test process), and an Azurite that test modules share until it is
``AZURITE_MAX_AGE`` old, each started only when a test first asks for it and stopped when the
run ends.

If Azurite cannot be installed or started the tests that need it fail with the reason (never
skip).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers.azurite import Azurite, AzuriteUnavailable, running_azurite
from tests.servers.fault_proxy import FaultProxy, running_proxy
from tests.servers.s3_server import MotoServer, start_moto

AZURITE_MAX_AGE = 6 * 60.0
"""Seconds after its start that an Azurite still takes a new test module. Azurite 3.35 sweeps
the data of deleted blobs 10 minutes after it starts, and every 10 minutes after that, in one
turn of its event loop, answering nothing meanwhile: over the blobs a test process's modules
leave behind, for minutes (a CI run's 60 s read timeout; 133 s for 5,912 extents in a full run
here). ``azurite_batched_gc.js`` makes that sweep one batch (0.19 s for 6,151); a server
replaced before its first sweep also keeps each one small, and the tests independent of how
a later Azurite sweeps."""


class AzuriteForModules:
    """One Azurite at a time, started when a module first needs one, and replaced by a new one
    (empty) for a module that starts when it is older than ``AZURITE_MAX_AGE``. Module
    fixtures end before the next module's begin, so no store of a test outlives its server."""

    def __init__(self, workdir: Callable[[], Path], max_age: float = AZURITE_MAX_AGE) -> None:
        self._workdir = workdir
        self._max_age = max_age
        self._running = contextlib.ExitStack()
        self._server: Azurite | None = None
        self._started = 0.0

    def for_module(self) -> Azurite:
        if self._server is None or time.monotonic() - self._started > self._max_age:
            self.close()
            self._server = self._running.enter_context(running_azurite(self._workdir()))
            self._started = time.monotonic()
        return self._server

    def close(self) -> None:
        self._server = None
        self._running.close()


@pytest.fixture(scope="session")
def azurite_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteForModules]:
    servers = AzuriteForModules(lambda: tmp_path_factory.mktemp("azurite"))
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture(scope="module")
def azurite(azurite_servers: AzuriteForModules) -> Azurite:
    try:
        return azurite_servers.for_module()
    except AzuriteUnavailable as error:
        pytest.fail(f"Azurite is required for the Azure tests: {error}", pytrace=False)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with pytest.MonkeyPatch.context() as patch:
        # No instance-metadata probing, and test keys for anything that falls back to the
        # standard credential chain; restored when the session ends.
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        patch.setenv("AWS_ACCESS_KEY_ID", "test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        with start_moto(log_path) as server:
            yield server


@pytest.fixture
def moto_proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    """A fault proxy in front of moto that logs every request, for tests that count them (a
    module needing other limits starts its own with ``running_proxy``)."""
    with running_proxy(moto_server.endpoint_url, hold_limit=10.0, lifetime=120.0) as running:
        yield running


@pytest.fixture
def azurite_proxy(azurite: Azurite) -> Iterator[FaultProxy]:
    """The same in front of the module's Azurite."""
    with running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=10.0,
                       lifetime=120.0) as running:
        yield running
