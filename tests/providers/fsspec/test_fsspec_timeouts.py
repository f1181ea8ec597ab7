"""store-fsspec's ``timeout`` (the network providers' shared key) reaches the filesystems that
take one: ftp:// (fsspec's FTPFileSystem, which connects when it is made), tried on 127.0.0.1
against a server that accepts and never answers and a socket whose backlog is full. Elsewhere
a ``timeout`` is refused, naming the key, rather than silently ignored."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import ConfigError, TransientError

SLACK = 2.0


def _open(url: str, **keys: Any) -> Any:
    entry = {"provider": "store-fsspec", "url": url, **keys}
    return xtstore.get_storage("ftp", config={"external-services": {"ftp": entry}})


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 whose server accepts every connection and never sends a byte
    (an FTP client waits for the server's greeting first)."""
    with ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.1)
        stop = threading.Event()
        held: list[socket.socket] = []

        def accept() -> None:
            while not stop.is_set():
                with suppress(TimeoutError):
                    held.append(listener.accept()[0])

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield int(listener.getsockname()[1])
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port on 127.0.0.1 that never accepts, its backlog filled: a new handshake is never
    answered."""
    with ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(8):
            filler = stack.enter_context(socket.socket())
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                yield port
                return
        raise RuntimeError("the backlog of a listen(0) socket never filled")


# ftplib has one timeout for connecting and reading: the longer of the two.
@pytest.mark.parametrize("timeout", [0.6, {"connect": 0.2, "read": 0.6},
                                     {"connect": 0.6, "read": 0.3}])
def test_the_timeout_ends_the_wait_for_a_server_that_never_answers(
    silent_server: int, timeout: Any
) -> None:
    started = time.monotonic()
    with pytest.raises(TransientError) as raised:
        _open(f"ftp://127.0.0.1:{silent_server}/base", timeout=timeout)
    took = time.monotonic() - started
    assert took <= 0.6 + SLACK, f"took {took:.2f} s"
    assert raised.value.service == "ftp"
    assert "cannot open 'ftp://127.0.0.1:" in str(raised.value)


def test_the_timeout_ends_a_connection_that_is_never_accepted(full_backlog: int) -> None:
    started = time.monotonic()
    with pytest.raises(TransientError):
        _open(f"ftp://127.0.0.1:{full_backlog}/base", timeout=0.5)
    assert time.monotonic() - started <= 0.5 + SLACK


def test_a_timeout_for_a_filesystem_that_takes_none_from_here_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "team.yaml"
    config.write_text("external-services:\n    s: {provider: store-fsspec, url: 'memory://t',"
                      " timeout: 5}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage("s", config=str(config))
    assert str(raised.value).startswith(
        "team.yaml: external-services.s.timeout: store-fsspec gives 'timeout' only to ftp://,"
        " sftp://, ssh:// filesystems"), str(raised.value)
    # Without it the same filesystem opens, and a bad value is refused as on every provider.
    _open("memory://t").create_container("box")
    with pytest.raises(ConfigError, match=r"timeout\.read: must be a finite number"):
        _open("memory://t", timeout={"read": float("nan")})
