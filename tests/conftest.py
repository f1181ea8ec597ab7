"""Every test runs with its own empty home folder, so no test reads or writes the real
``~/.xtstore`` and no developer's config, secrets or compute-node variables change a
result. The local servers' session fixtures (``azurite``, ``moto_server``) are available to
every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.servers.fixtures"]


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in ("XTSTORE_CONFIG", "XTSTORE_SERVICE", "XT_STORE_CREDS", "XT_STORE_CODE_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("XTSTORE_SECRET_"):
            monkeypatch.delenv(name)
    return home
