"""XT itself for the XT drop-in tests: ``xtlib==1.0.0`` (installed ``--no-deps``, with the few
packages its storage modules import) in a virtual environment of its own.

The environment sees this interpreter's packages (``--system-site-packages``), so xtstore and
its SDKs are importable there as they are here; XT's own modules run in it as separate
processes (:func:`run_xt_script`). It is built once under ``.test-tools/`` and reused.
Installing needs the package registry: CI reaches it, so there a failed install fails the
test run; elsewhere a registry that cannot be reached skips these tests, saying so.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
XTLIB_VERSION = "1.0.0"
# What xtlib.storage.store_objects / store_file import at module level, pinned.
XTLIB_IMPORTS = ("arrow==1.4.0", "pymongo==4.20.1", "numpy==2.4.6", "python-interface==1.6.1")
ENV_DIR = REPO / ".test-tools" / f"xtlib-{XTLIB_VERSION}"
INSTALL_TIMEOUT = 300.0
_UNREACHABLE = (
    "Could not fetch URL",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
)


def _python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _works(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import xtlib.storage.store_objects, xtlib.storage.store_file"],
        capture_output=True,
        timeout=60,
    )
    return probe.returncode == 0


def _install(env_dir: Path) -> None:
    venv.EnvBuilder(system_site_packages=True, with_pip=True, clear=True).create(env_dir)
    python = str(_python(env_dir))
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for command in (
        [*pip, "--no-deps", f"xtlib=={XTLIB_VERSION}"],
        [*pip, *XTLIB_IMPORTS],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()
            if not os.environ.get("CI") and any(sign in output for sign in _UNREACHABLE):
                pytest.skip(
                    "the package registry cannot be reached, so xtlib cannot be installed: "
                    + output.splitlines()[-1]
                )
            raise RuntimeError(f"{' '.join(command)} failed:\n{output}")


@pytest.fixture(scope="session")
def xtlib_python() -> Path:
    """The interpreter of a virtual environment holding XT's own ``xtlib`` 1.0.0."""
    python = _python(ENV_DIR)
    ENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    # Test processes run side by side (pytest-xdist): one installs, the others wait for it.
    with open(ENV_DIR.parent / "xtlib-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _works(python):
            _install(ENV_DIR)
            if not _works(python):
                raise RuntimeError(f"xtlib was installed in {ENV_DIR} but does not import")
    return python


def source_first(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this checkout's ``src`` first on ``PYTHONPATH``, so that a process started
    with XT's interpreter imports the xtstore under test."""
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_xt_script(
    python: Path,
    script: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 240.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (dedented) with XT's interpreter in ``cwd``; this checkout's ``src`` comes
    first on the path, so the xtstore under test is the one imported."""
    return subprocess.run(
        [str(python), "-c", textwrap.dedent(script)],
        cwd=cwd,
        env=source_first(dict(os.environ if env is None else env)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )

