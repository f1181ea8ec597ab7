"""Helpers for driving the real ``xtstore`` console script in a subprocess against real
``store-file`` services in temporary folders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

RUN_TIMEOUT = 60


def xtstore_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m xtstore``."""
    script = Path(sys.executable).with_name("xtstore")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xtstore"]


@dataclass
class Services:
    """Two store-file services, ``local`` (the default) and ``other``, and their config."""

    config: Path
    local_root: Path
    other_root: Path
    env: dict[str, str]
    work: Path


def write_config(path: Path, local_root: Path, other_root: Path) -> None:
    path.write_text(
        "external-services:\n"
        f"    local: {{type: storage, provider: store-file, path: '{local_root}'}}\n"
        f"    other: {{type: storage, provider: store-file, path: '{other_root}'}}\n"
        "xt-services:\n"
        "    storage: local\n",
        encoding="utf-8",
    )


@pytest.fixture
def services(tmp_path: Path, isolated_home: Path) -> Services:
    config = tmp_path / "xt_test_config.yaml"
    local_root, other_root = tmp_path / "store-local", tmp_path / "store-other"
    write_config(config, local_root, other_root)
    env = {key: value for key, value in os.environ.items() if not key.startswith("XTSTORE")}
    env.update({"HOME": str(isolated_home), "XTSTORE_CONFIG": str(config),
                "COLUMNS": "120", "PYTHONUNBUFFERED": "1"})
    work = tmp_path / "work"
    work.mkdir()
    return Services(config, local_root, other_root, env, work)


Runner = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def xt(services: Services) -> Runner:
    """``xt("ls", "runs")`` runs the console script (stdin not a terminal) and returns the
    completed process with bytes stdout/stderr."""

    def run(*args: str, input: bytes | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*xtstore_command(), *args],
            input=input if input is not None else b"",
            capture_output=True,
            cwd=cwd or services.work,
            env=env or services.env,
            timeout=RUN_TIMEOUT,
            check=False,
        )

    return run

