"""Connect and read timeouts (the shared ``timeout: {connect, read}`` key) apply to every
request kind of the network providers, on real loopback servers: a read timeout on a
black-holed response (Azurite / moto behind the fault proxy), a connect timeout on a
127.0.0.1 socket whose accept backlog is full. Each call ends as a ``TransientError`` within
the configured timeouts times the attempts, plus the retry pauses."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers.azure.conftest import SMALL_SIZES
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import Fault, running_proxy
from tests.servers.s3_server import MotoServer
from xtstore.errors import TransientError

READ = 0.5
CONNECT = 0.3
ATTEMPTS = 2
RETRY = {"attempts": ATTEMPTS, "base-delay": 0.01, "max-delay": 0.05, "total-timeout": 20}
SLACK = 2.0
"""Seconds per attempt beyond the timeout: building the request, botocore's wait of up to
1 s for a ``100 Continue`` before it sends a PUT's body, a slow shared CI machine."""

Call = Callable[[Any, str], object]

# Request kind (HTTP method, and what the call is) -> a Store call that sends it first.
CALLS: dict[str, tuple[str, Call]] = {
    "HEAD blob": ("HEAD", lambda store, c: store.get_blob_properties(c, "seed.txt")),
    "GET blob": ("GET", lambda store, c: store.get_blob_text(c, "seed.txt")),
    "GET listing": ("GET", lambda store, c: store.list_blobs(c)),
    "PUT blob": ("PUT", lambda store, c: store.create_blob(c, "new.txt", "new")),
    "PUT append": ("PUT", lambda store, c: store.append_blob(c, "log.txt", "line\n")),
    "DELETE blob": ("DELETE", lambda store, c: store.delete_blob(c, "seed.txt")),
}


def _azure(azurite: Azurite, endpoint: str, **keys: Any) -> Any:
    entry = {"type": "storage", "provider": "azure-blob", "retry": RETRY, **SMALL_SIZES, **keys,
             "connection-string": azurite.connection_string.replace(azurite.endpoint, endpoint)}
    return xtstore.get_storage("az", config={"external-services": {"az": entry}})


def _s3(moto_server: MotoServer, endpoint: str, **keys: Any) -> Any:
    entry = moto_server.service_config(name="s3", retry=RETRY, **keys)
    entry["endpoint-url"] = endpoint
    return xtstore.get_storage("s3", config={"external-services": {"s3": entry}})


@pytest.fixture(params=["azure-blob", "store-s3"])
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def upstream(provider: str, request: pytest.FixtureRequest) -> tuple[str, Callable[..., Any]]:
    """The real server's endpoint and ``make(endpoint, **keys)`` for a store through it."""
    if provider == "azure-blob":
        azurite: Azurite = request.getfixturevalue("azurite")
        return azurite.endpoint, lambda endpoint, **keys: _azure(azurite, endpoint, **keys)
    moto: MotoServer = request.getfixturevalue("moto_server")
    return moto.endpoint_url, lambda endpoint, **keys: _s3(moto, endpoint, **keys)


@pytest.fixture
def container(upstream: tuple[str, Callable[..., Any]]) -> Iterator[str]:
    endpoint, make = upstream
    direct = make(endpoint)
    name = f"to-{uuid.uuid4().hex[:12]}"
    direct.create_container(name)
    direct.create_blob(name, "seed.txt", "seed")
    yield name
    direct.delete_container(name)


# A transfer of several requests: Azure's staged blocks and ranged GETs (SMALL_SIZES), S3's
# multipart upload (from 5 MiB on) and ranged download (above max-streamed-get-size, lowered
# here below the blob's size).
LARGE = {"azure-blob": 600 * 1024, "store-s3": 6 * 2**20}
RANGED = {"azure-blob": {}, "store-s3": {"max-streamed-get-size": 2**20}}
# (request kind) -> provider -> (method, target regex, which matching request is held)
PARTS: dict[str, dict[str, tuple[str, str, int]]] = {
    "upload part": {"azure-blob": ("PUT", r"comp=block(&|$)", 2),
                    "store-s3": ("PUT", r"partNumber=2", 1)},
    "upload start / commit": {"azure-blob": ("PUT", r"comp=blocklist", 1),
                              "store-s3": ("POST", r"uploads", 1)},
    "download range": {"azure-blob": ("GET", r"large\.bin", 2),
                       "store-s3": ("GET", r"large\.bin", 2)},
}
# azure-storage-blob's downloader reads a broken chunk again up to 3 times, 1 s apart, inside
# one try (docs/reliability.md "Retries").
DOWNLOADER_REREADS = {"azure-blob": 3 * READ + 2 * 1.0, "store-s3": READ}


@pytest.mark.parametrize("kind", PARTS)
def test_the_read_timeout_ends_a_black_holed_part_of_a_large_transfer(
    provider: str, upstream: tuple[str, Callable[..., Any]], container: str, kind: str,
    tmp_path: Path,
) -> None:
    endpoint, make = upstream
    method, target, nth = PARTS[kind][provider]
    source = tmp_path / "large.bin"
    source.write_bytes(os.urandom(LARGE[provider]))
    make(endpoint).create_blob_from_path(container, "large.bin", str(source))
    with running_proxy(f"http://127.0.0.1:{_port_of(endpoint)}", hold_limit=10.0,
                       lifetime=120.0) as proxy:
        downloading = kind == "download range"
        store = make(proxy.endpoint(endpoint), timeout={"connect": 5, "read": READ},
                     **(RANGED[provider] if downloading else {}))
        proxy.inject(Fault.black_hole(10.0), method=method, path=target, nth=nth, times=None)

        def call() -> object:
            if downloading:
                return store.get_blob_to_path(container, "large.bin", str(tmp_path / "out.bin"))
            return store.create_blob_from_path(container, "large.bin", str(source))

        per_try = DOWNLOADER_REREADS[provider] if downloading else READ
        _ends_transient_within(call, ATTEMPTS * (per_try + SLACK))
        assert any(entry.fault == "black-hole" for entry in proxy.log), proxy.log
    assert not (tmp_path / "out.bin").exists()


def _port_of(url: str) -> int:
    return int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def _ends_transient_within(call: Callable[[], object], bound: float) -> TransientError:
    started = time.monotonic()
    with pytest.raises(TransientError) as raised:
        call()
    took = time.monotonic() - started
    assert took <= bound, f"took {took:.2f} s, more than {bound:.2f} s"
    return raised.value


@pytest.mark.parametrize("kind", CALLS)
def test_the_read_timeout_ends_a_black_holed_request_of_every_kind(
    upstream: tuple[str, Callable[..., Any]], container: str, kind: str
) -> None:
    endpoint, make = upstream
    method, call = CALLS[kind]
    with running_proxy(f"http://127.0.0.1:{_port_of(endpoint)}", hold_limit=10.0,
                       lifetime=120.0) as proxy:
        store = make(proxy.endpoint(endpoint), timeout={"connect": 5, "read": READ})
        proxy.inject(Fault.black_hole(10.0), method=method, times=None)
        _ends_transient_within(lambda: call(store, container), ATTEMPTS * (READ + SLACK))
        held = [entry for entry in proxy.log if entry.fault == "black-hole"]
        # An idempotent call was tried again after its timeout; a non-idempotent one whose
        # request was sent is not repeated (docs/contract.md §1 "Retry").
        assert 1 <= len(held) <= ATTEMPTS, proxy.log


def test_a_read_timeout_longer_than_the_hold_lets_the_request_through(
    upstream: tuple[str, Callable[..., Any]], container: str
) -> None:
    """The read timeout is the service's: a store given more time than the hold waits it
    out and succeeds (so the failures above come from the configured timeout)."""
    endpoint, make = upstream
    with running_proxy(f"http://127.0.0.1:{_port_of(endpoint)}", lifetime=60.0) as proxy:
        store = make(proxy.endpoint(endpoint), timeout={"connect": 5, "read": 5})
        proxy.inject(Fault.delay(1.5), method="GET", times=1)
        started = time.monotonic()
        assert store.get_blob_text(container, "seed.txt") == "seed"
        assert 1.4 <= time.monotonic() - started < 5
        assert [entry.fault for entry in proxy.log] == ["delay"]


class _FullBacklog:
    """A listening socket on 127.0.0.1 that never accepts, its backlog filled, so that a new
    connection's handshake is never answered (SYNs to a full queue are dropped)."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        listener = self._stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        self.port = int(listener.getsockname()[1])
        for _ in range(8):
            filler = self._stack.enter_context(socket.socket())
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", self.port))
            except TimeoutError:
                return  # the queue is full
        self.close()
        raise RuntimeError("the backlog of a listen(0) socket never filled")

    def close(self) -> None:
        with suppress(OSError):
            self._stack.close()


@pytest.fixture
def full_backlog() -> Iterator[_FullBacklog]:
    backlog = _FullBacklog()
    yield backlog
    backlog.close()


@pytest.mark.parametrize("kind", CALLS)
def test_the_connect_timeout_ends_every_kind_of_request_to_a_host_that_never_accepts(
    upstream: tuple[str, Callable[..., Any]], full_backlog: _FullBacklog, kind: str
) -> None:
    endpoint, make = upstream
    _, call = CALLS[kind]
    dead = endpoint.replace(f":{_port_of(endpoint)}", f":{full_backlog.port}")
    store = make(dead, timeout={"connect": CONNECT, "read": 30})
    error = _ends_transient_within(lambda: call(store, "any-container"),
                                   ATTEMPTS * (CONNECT + SLACK))
    # Nothing left the machine, so even a non-idempotent call was safe to try again.
    assert error.request_sent is False
    assert error.may_have_applied in (None, False)


@pytest.mark.parametrize("keys", [{"timeout": CONNECT}, {"timeout": {"connect": CONNECT}}])
def test_one_number_or_the_connect_part_alone_sets_the_connect_timeout(
    upstream: tuple[str, Callable[..., Any]], full_backlog: _FullBacklog, keys: dict[str, Any]
) -> None:
    endpoint, make = upstream
    dead = endpoint.replace(f":{_port_of(endpoint)}", f":{full_backlog.port}")
    store = make(dead, **keys)
    _ends_transient_within(lambda: store.get_blob_properties("any-container", "b"),
                           ATTEMPTS * (CONNECT + SLACK))


def test_the_earlier_s3_keys_still_set_the_timeouts(
    moto_server: MotoServer, full_backlog: _FullBacklog
) -> None:
    """``connect-timeout`` / ``read-timeout`` (documented before ``timeout``) are aliases."""
    store = _s3(moto_server, f"http://127.0.0.1:{full_backlog.port}",
                **{"connect-timeout": CONNECT, "read-timeout": 30})
    _ends_transient_within(lambda: store.get_blob_properties("any-container", "b"),
                           ATTEMPTS * (CONNECT + SLACK))
