"""Running the real ``xtstore`` command on hostile input, bounded in time and memory: each run
must end within :data:`BUDGET_SECONDS` under :data:`MEMORY_LIMIT` of address space (a run
past either fails the test instead of hanging it or exhausting the machine)."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from tests.cli.conftest import xtstore_command

BUDGET_SECONDS = 5.0
MEMORY_LIMIT = 1024 * 1024 * 1024


def limit_memory() -> None:
    """In the child before exec: cap its address space (an unbounded read or expansion
    then ends in MemoryError instead of swapping)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment without any XTSTORE variable, with ``home`` as the home folder."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("XTSTORE")}
    env.update({"HOME": str(home), "COLUMNS": "120", "PYTHONUNBUFFERED": "1", **extra})
    return env


def run_bounded(args: Sequence[str | bytes], env: dict[str, str],
                cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run ``xtstore *args`` (bytes arguments reach argv exactly) and check that it ended
    within the budget; returns the completed process."""
    start = time.monotonic()
    try:
        result = subprocess.run(
            [*xtstore_command(), *args], input=b"", capture_output=True, cwd=cwd, env=env,
            timeout=BUDGET_SECONDS, check=False, preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"xtstore {args!r} still running after {BUDGET_SECONDS} s") from None
    elapsed = time.monotonic() - start
    assert elapsed < BUDGET_SECONDS, elapsed
    return result


def one_line(result: subprocess.CompletedProcess[bytes], code: int) -> str:
    """The one stderr line of a run that failed with ``code``, with no traceback."""
    stderr = result.stderr.decode("utf-8", "backslashreplace")
    assert result.returncode == code, (result.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("xtstore: error: "), stderr
    return lines[0]
