"""Every test runs with its own empty home folder, so no test reads or writes the real
``~/.xtstore`` and no developer's config, secrets or compute-node variables change a
result. The local servers' fixtures (``azurite``, ``moto_server``) are available to
every test folder, and ``cwd`` gives a test a fresh working directory."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.servers.fixtures"]


@pytest.fixture(autouse=True, scope="session")
def sigint_reaches_started_processes() -> None:
    """A run started in the background (``cmd &`` in a script) inherits SIGINT ignored, and so
    would every process a test starts, which then never sees the Ctrl-C tests' SIGINT: Python's
    own handler makes it "caught" here, which every started program gets back as the default."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory; sys.path and modules imported from tmp_path are restored."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    # Another test may have imported a different extensions/ package (XT's example).
    for name in [m for m in sys.modules if m == "extensions" or m.startswith("extensions.")]:
        monkeypatch.delitem(sys.modules, name)
    yield work
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None) or "".join(getattr(module, "__path__", []))
        if str(tmp_path) in str(location):
            del sys.modules[name]


