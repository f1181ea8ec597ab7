"""Kill a writer with SIGKILL (which runs no clean-up) once it says it is writing."""

from __future__ import annotations

import signal
import subprocess
import sys


def kill_while_writing(program: str, *args: str) -> None:
    """Run ``program`` (Python source) with ``args``; once it prints ``writing``, SIGKILL it."""
    writer = subprocess.Popen([sys.executable, "-c", program, *args],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.wait(timeout=30)
