"""store-s3 services on the suite's one moto server (the session fixture ``moto_server`` of
:mod:`tests.servers.fixtures`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.servers.s3_server import MotoServer
from xtstore.providers.s3.store import S3Provider
from xtstore.store import Store


@pytest.fixture(scope="session")
def s3_config(moto_server: MotoServer) -> dict[str, Any]:
    return moto_server.service_config(name="s3")


@pytest.fixture(scope="session")
def s3_store(s3_config: dict[str, Any]) -> Store:
    """A Store around S3Provider, as get_storage() builds it (without the config files)."""
    return Store(S3Provider(s3_config), "s3")
