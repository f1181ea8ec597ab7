"""Start and stop a private OpenSSH server (Debian's ``openssh-server``) for the SFTP tests.

The server is ``/usr/sbin/sshd`` (installed by the test command, ``scripts/test.sh``), run in
the foreground as the current user, on 127.0.0.1 at a free unprivileged port, with
everything in one temporary folder: its own ``sshd_config``, throwaway host and user keys
made by ``ssh-keygen``, the authorized keys, the pid file and the log. Only key
authentication is accepted (no PAM, no passwords), for the current user alone, and the
``sftp`` subsystem is sshd's own ``internal-sftp``. The server runs in its own process group,
which is killed when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SSHD", "SshServer", "SshdUnavailable", "keygen", "running_sshd"]

SSHD = Path("/usr/sbin/sshd")
INSTALL_HINT = "apt-get install openssh-server (scripts/test.sh does it on CI)"
PRIVILEGE_SEPARATION_DIR = Path("/run/sshd")
"""Where sshd running as root chroots its unprivileged child; it refuses to start without."""

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
KEYGEN_TIMEOUT = 30.0


class SshdUnavailable(RuntimeError):
    """sshd is missing or could not be started; the message says why and what to run."""


@dataclass(frozen=True)
class SshServer:
    host: str
    port: int
    user: str
    key_path: Path
    """The user's private key (no passphrase), accepted by the server."""
    root: Path
    """The server's temporary folder: a place for the tests' files on the server, too."""
    log_path: Path

    def url(self, base: str) -> str:
        """An ``sftp://`` URL of the absolute folder ``base`` on this server."""
        return f"sftp://{self.user}@{self.host}:{self.port}{base}"

    def service_config(self, base: str, **extra: Any) -> dict[str, Any]:
        """A store-fsspec service dict for the folder ``base`` on this server."""
        config: dict[str, Any] = {
            "type": "storage",
            "provider": "store-fsspec",
            "url": self.url(base),
            # The host key is new every run; no agent or ~/.ssh keys may be tried instead.
            "options": {"key_filename": str(self.key_path), "look_for_keys": False,
                        "allow_agent": False},
        }
        config.update(extra)
        return config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def keygen(path: Path) -> None:
    """A new ed25519 key pair without passphrase: ``path`` and ``path.pub``."""
    try:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "xtstore-test",
                        "-f", str(path)], check=True, capture_output=True,
                       timeout=KEYGEN_TIMEOUT, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise SshdUnavailable(f"ssh-keygen is not installed: {INSTALL_HINT}") from None
    except subprocess.CalledProcessError as error:
        raise SshdUnavailable(f"ssh-keygen failed: {error.stderr.decode(errors='replace')}"
                              ) from None


def _config(root: Path, port: int, user: str) -> str:
    return "\n".join((
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {root / 'host_ed25519'}",
        f"PidFile {root / 'sshd.pid'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}",
        f"AllowUsers {user}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        # The temporary folder's modes are whatever the test run's umask made.
        "StrictModes no",
        "Subsystem sftp internal-sftp",
        # The suite's threads and worker processes each hold a connection.
        "MaxStartups 100",
        "MaxSessions 100",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "PrintMotd no",
        "LogLevel INFO",
        "",
    ))


def _answers_ssh(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            return connection.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    # sshd runs in its own process group (started below), with the sessions it forked.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
    # Sessions left in the group (forked per connection) go with it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _log_tail(log_path: Path) -> str:
    try:
        return log_path.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"


def _prepare(root: Path, user: str) -> None:
    keygen(root / "host_ed25519")
    keygen(root / "user_ed25519")
    (root / "authorized_keys").write_bytes((root / "user_ed25519.pub").read_bytes())
    if os.geteuid() == 0 and not PRIVILEGE_SEPARATION_DIR.is_dir():
        PRIVILEGE_SEPARATION_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)


@contextlib.contextmanager
def running_sshd(root: Path) -> Iterator[SshServer]:
    """Run sshd with its files in ``root`` until the block ends; it is stopped even if the
    block fails. Raises ``SshdUnavailable``."""
    if not os.access(SSHD, os.X_OK):
        raise SshdUnavailable(f"{SSHD} is not installed: {INSTALL_HINT}")
    root.mkdir(parents=True, exist_ok=True)
    # The user sshd runs as, by uid (USER and LOGNAME may name another, e.g. under sudo).
    user = pwd.getpwuid(os.geteuid()).pw_name
    _prepare(root, user)
    log_path = root / "sshd.log"
    for _ in range(3):  # a free port can be taken between probing and binding
        port = _free_port()
        config = root / "sshd_config"
        config.write_text(_config(root, port, user))
        with open(log_path, "ab") as log:
            # Absolute path: sshd re-executes itself. -D: foreground; -e: log to stderr.
            process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)],
                cwd=root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if _answers_ssh(port):
                    break
                time.sleep(0.05)
            else:
                if process.poll() is not None and "Address already in use" in _log_tail(
                        log_path):
                    continue
                raise SshdUnavailable(f"sshd did not answer on port {port} within "
                                      f"{START_TIMEOUT:.0f}s; log:\n{_log_tail(log_path)}")
            yield SshServer("127.0.0.1", port, user, root / "user_ed25519", root, log_path)
            return
        finally:
            _stop(process)
    raise SshdUnavailable(f"sshd exited at start-up three times; log:\n{_log_tail(log_path)}")
