"""Start and stop a private Azurite blob server for tests and benchmarks.

Azurite 3.35.0 (the newest that runs on Node 20) is installed by the test command into
``<repo>/.test-tools``; when it is missing, :func:`azurite_binary` runs that same npm install.
The server listens on 127.0.0.1 on a free port, keeps everything in memory, never phones home
(``--disableTelemetry``) and accepts the SDK's newer API version (``--skipApiVersionCheck``).
It runs with ``azurite_batched_gc.js`` preloaded (:data:`BATCHED_GC`), a fix for its blob GC.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ACCOUNT",
    "AZURITE_VERSION",
    "KEY",
    "Azurite",
    "AzuriteUnavailable",
    "azurite_binary",
    "running_azurite",
]

AZURITE_VERSION = "3.35.0"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
"""Azurite's well-known development account (public, documented by Microsoft)."""

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".test-tools"
BATCHED_GC = Path(__file__).with_name("azurite_batched_gc.js")
"""Preloaded into Azurite: its 10-minute blob GC deletes the unreferenced in-memory extents in
one batch, not one at a time in a single turn of the event loop that kept every request
waiting for 30-60 s late in a run (the file says why)."""
INSTALL_TIMEOUT = 300.0
START_TIMEOUT = 60.0


class AzuriteUnavailable(RuntimeError):
    """Azurite could not be installed or started; the message says why and what to run."""


@dataclass(frozen=True)
class Azurite:
    port: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
                f"BlobEndpoint={self.endpoint};")


def azurite_binary() -> Path:
    """``.test-tools/node_modules/.bin/azurite-blob``, installing it with npm if missing."""
    binary = TOOLS / "node_modules" / ".bin" / "azurite-blob"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    command = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(TOOLS),
               f"azurite@{AZURITE_VERSION}"]
    if npm is None:
        raise AzuriteUnavailable(f"Azurite is not installed and npm is not on PATH; install "
                                 f"Node 20 and run: {' '.join(command)}")
    try:
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                                timeout=INSTALL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise AzuriteUnavailable(f"'{' '.join(command)}' took more than "
                                 f"{INSTALL_TIMEOUT:.0f}s") from None
    if result.returncode != 0 or not binary.exists():
        raise AzuriteUnavailable(f"'{' '.join(command)}' failed:\n{result.stderr[-2000:]}")
    return binary


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_http(port: int) -> bool:
    # Any HTTP answer (an unauthenticated listing gets 403) means the blob service is up.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", f"/{ACCOUNT}?comp=list")
        return connection.getresponse().status > 0
    except OSError:
        return False
    finally:
        connection.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The server runs in its own process group (started below), so this reaches only it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _log_tail(log_path: Path) -> str:
    try:
        return log_path.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def running_azurite(workdir: Path, *, extra_args: tuple[str, ...] = (),
                    access_log: bool = False) -> Iterator[Azurite]:
    """Run Azurite in ``workdir`` (its cwd, so nothing lands in the repo) until
    the block ends; it is stopped even if the block fails. Raises ``AzuriteUnavailable``.
    ``access_log`` writes one line per request to ``log_path`` (benchmarks count them)."""
    binary = azurite_binary()
    node = shutil.which("node")
    if node is None:
        raise AzuriteUnavailable("Azurite needs Node 20 ('node' on PATH)")
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "azurite.log"
    for _ in range(3):  # a free port can be taken between probing and binding
        port = _free_port()
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [node, "--require", str(BATCHED_GC), str(binary),
                 "--blobHost", "127.0.0.1", "--blobPort", str(port),
                 "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry",
                 *(() if access_log else ("--silent",)), *extra_args],
                cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if _answers_http(port):
                    break
                time.sleep(0.1)
            else:
                if process.poll() is not None:
                    continue  # exited (port taken?): try another port
                raise AzuriteUnavailable(f"Azurite did not answer on port {port} within "
                                         f"{START_TIMEOUT:.0f}s; log:\n{_log_tail(log_path)}")
            yield Azurite(port=port, log_path=log_path)
            return
        finally:
            _stop(process)
    raise AzuriteUnavailable(f"Azurite exited at start-up three times; log:\n"
                             f"{_log_tail(log_path)}")
