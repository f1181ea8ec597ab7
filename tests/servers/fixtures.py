"""Session fixtures for the local servers, registered for the whole suite from
``tests/conftest.py``: one Azurite and one moto server per run, each started only when a test
first asks for it and stopped when the run ends.

If Azurite cannot be installed or started the tests that need it fail with the reason (never
skip).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.azurite import Azurite, AzuriteUnavailable, running_azurite
from tests.servers.s3_server import MotoServer, start_moto


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    try:
        with running_azurite(tmp_path_factory.mktemp("azurite")) as server:
            yield server
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
