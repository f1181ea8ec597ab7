"""The registry tests' working directory."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


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


