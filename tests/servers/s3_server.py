"""A real S3 server for the store-s3 tests: moto's server in its own process on 127.0.0.1.

Started on a free port, polled until it answers, and always stopped (terminate, then kill).
Its log is printed if it fails to start. No test reaches any address other than 127.0.0.1.
``moto_serial.py`` runs it with write requests serialised, because moto's threaded server does
not decide conditional writes atomically the way S3 does (see that file).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MiB", "MotoServer", "start_moto"]

STARTUP_DEADLINE = 30.0
LAUNCHER = Path(__file__).with_name("moto_serial.py")
MiB = 2**20


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str
    log_path: Path

    def service_config(self, **extra: Any) -> dict[str, Any]:
        """A store-s3 service dict pointing at this server, with multipart at its minimum."""
        config: dict[str, Any] = {
            "type": "storage",
            "provider": "store-s3",
            "endpoint-url": self.endpoint_url,
            "region": "us-east-1",
            "access-key-id": "test",
            "secret-access-key": "test",
            "addressing-style": "path",
            "multipart-threshold": 5 * MiB,
            "multipart-chunksize": 5 * MiB,
            "max-concurrency": 4,
        }
        config.update(extra)
        return config


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(
        f"moto_server did not start at {url}; its log:\n"
        + log_path.read_text(errors="replace")
    )


@contextlib.contextmanager
def start_moto(log_path: Path) -> Iterator[MotoServer]:
    """Start the server on a free loopback port; stop it (terminate, then kill) on exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "127.0.0.1", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_ready(url, process, log_path)
        yield MotoServer(url, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
