"""store-gcs services on one fake-gcs-server per test run (started when a test first asks for
it, stopped when the run ends; :mod:`tests.servers.gcs_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.gcs_server import FakeGCSServer, start_fake_gcs
from xtstore.providers.gcs.store import GCSProvider
from xtstore.store import Store


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGCSServer]:
    with start_fake_gcs(tmp_path_factory.mktemp("fake-gcs") / "fake-gcs-server.log") as server:
        yield server


@pytest.fixture(scope="session")
def gcs_config(fake_gcs: FakeGCSServer) -> dict[str, Any]:
    return fake_gcs.service_config(name="gcs")


@pytest.fixture(scope="session")
def gcs_store(gcs_config: dict[str, Any]) -> Store:
    """A Store around GCSProvider, as get_storage() builds it (without the config files)."""
    return Store(GCSProvider(gcs_config), "gcs")
