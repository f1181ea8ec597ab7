"""The README's first command: the quickstart jobs run on the default local store with no
config file, and say they verified every byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(command: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run(command, cwd=home, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_command_line_quickstart(isolated_home: Path) -> None:
    result = run(["bash", str(EXAMPLES / "quickstart.sh")], isolated_home)
    assert result.returncode == 0, result.stderr
    assert "verified 3 files byte for byte" in result.stdout
    assert (isolated_home / ".xtstore" / "store").is_dir()


def test_python_quickstart(isolated_home: Path) -> None:
    result = run([sys.executable, str(EXAMPLES / "quickstart.py")], isolated_home)
    assert result.returncode == 0, result.stderr
    assert "verified byte for byte" in result.stdout
    assert "DIFFERENT" not in result.stdout
