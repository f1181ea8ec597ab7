"""Retries through the fault proxy, on S3 (moto) and Azure (Azurite), measured from the proxy's
request log: a 429's ``Retry-After`` is honoured, persistent 503s stop at the configured
attempts and time budget, and a response slower than the service's read timeout ends in a
``TransientError`` within the timeout budget, for every kind of request."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import xtstore
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from tests.servers.s3_server import MotoServer
from xtstore.errors import TransientError

BLOB = "dir/blob.txt"
TEXT = "the blob's text"
READ_TIMEOUT = 1.0
MakeStore = Callable[..., Any]


@pytest.fixture(params=["s3", "azure"])
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def proxy(provider: str, request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    if provider == "s3":
        upstream = request.getfixturevalue("moto_server").endpoint_url
    else:
        upstream = f"http://127.0.0.1:{request.getfixturevalue('azurite').port}"
    with running_proxy(upstream, hold_limit=10.0, lifetime=120.0) as running:
        yield running


@pytest.fixture
def make_store(provider: str, proxy: FaultProxy, request: pytest.FixtureRequest) -> MakeStore:
    """``make_store(**retry)``: a store of the provider whose every request goes through the
    proxy, with that retry section and a read timeout of READ_TIMEOUT seconds."""

    def make(**retry: float) -> Any:
        entry: dict[str, Any]
        if provider == "s3":
            moto: MotoServer = request.getfixturevalue("moto_server")
            entry = moto.service_config(**{"endpoint-url": proxy.url,
                                           "connect-timeout": READ_TIMEOUT,
                                           "read-timeout": READ_TIMEOUT})
        else:
            azurite: Azurite = request.getfixturevalue("azurite")
            entry = {"type": "storage", "provider": "azure-blob", "timeout": READ_TIMEOUT,
                     "connection-string": azurite.connection_string.replace(
                         azurite.endpoint, proxy.endpoint(azurite.endpoint))}
        entry["retry"] = retry
        return xtstore.get_storage("faulty", config={"external-services": {"faulty": entry}})

    return make


@pytest.fixture
def container(make_store: MakeStore, proxy: FaultProxy) -> Iterator[str]:
    name = f"rf-{uuid.uuid4().hex[:12]}"
    store = make_store()
    store.create_container(name)
    store.create_blob(name, BLOB, TEXT)
    proxy.clear()
    yield name
    proxy.clear()
    store.delete_container(name)


def blob_path(container: str) -> str:
    return rf"/{container}/{BLOB}($|\?)"


def test_retry_after_of_a_429_is_honoured(
    make_store: MakeStore, proxy: FaultProxy, container: str
) -> None:
    store = make_store(**{"attempts": 3, "base-delay": 0.01, "max-delay": 5})
    proxy.inject(Fault.throttle("1"), method="GET", path=blob_path(container))
    assert store.get_blob_text(container, BLOB) == TEXT
    gets = proxy.requests("GET", blob_path(container))
    assert len(gets) == 2 and gets[0].status == 429
    assert gets[1].status is not None and 200 <= gets[1].status < 300  # Azure answers 206
    assert gets[1].time - gets[0].time >= 1.0


def test_persistent_503s_stop_at_the_configured_attempts(
    make_store: MakeStore, proxy: FaultProxy, container: str
) -> None:
    store = make_store(**{"attempts": 3, "base-delay": 0.05, "max-delay": 0.1,
                          "total-timeout": 5})
    proxy.inject(Fault.error_status(503), method="GET", path=blob_path(container), times=None)
    started = time.monotonic()
    with pytest.raises(TransientError) as raised:
        store.get_blob_text(container, BLOB)
    assert time.monotonic() - started < 5
    assert raised.value.status == 503
    assert [entry.status for entry in proxy.requests("GET", blob_path(container))] == [503] * 3


def test_persistent_503s_stop_within_the_total_time(
    make_store: MakeStore, proxy: FaultProxy, container: str
) -> None:
    budget = 1.5
    store = make_store(**{"attempts": 100, "base-delay": 0.3, "max-delay": 0.3,
                          "total-timeout": budget})
    proxy.inject(Fault.error_status(503), method="GET", path=blob_path(container), times=None)
    started = time.monotonic()
    with pytest.raises(TransientError):
        store.get_blob_text(container, BLOB)
    elapsed = time.monotonic() - started
    gets = proxy.requests("GET", blob_path(container))
    # No retry starts after the budget: the last one reached the proxy soon after it began
    # within the budget. The slack is for a loaded machine (a full run here saw a last request
    # logged 1.6 s late, at 3.1 s); without the budget the 100 attempts take some 30 s.
    assert gets[-1].time - started <= budget + 2.0
    assert elapsed < budget + 3.0
    assert 2 <= len(gets) < 100


def test_persistent_retry_after_is_honoured_between_every_attempt(
    make_store: MakeStore, proxy: FaultProxy, container: str
) -> None:
    store = make_store(**{"attempts": 3, "base-delay": 0.01, "max-delay": 5,
                          "total-timeout": 10})
    proxy.inject(Fault.error_status(503, retry_after="1"), method="GET",
                 path=blob_path(container), times=None)
    with pytest.raises(TransientError) as raised:
        store.get_blob_text(container, BLOB)
    assert raised.value.retry_after == 1.0
    times = [entry.time for entry in proxy.requests("GET", blob_path(container))]
    assert len(times) == 3
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))


CALLS: dict[str, Callable[[Any, str], object]] = {
    "read": lambda store, c: store.get_blob_text(c, BLOB),
    "write": lambda store, c: store.create_blob(c, "other.txt", TEXT),
    "properties": lambda store, c: store.get_blob_properties(c, BLOB),
    "list": lambda store, c: store.list_blobs(c),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_response_slower_than_the_read_timeout_is_a_transient_error(
    make_store: MakeStore, proxy: FaultProxy, container: str, call: str
) -> None:
    attempts = 2
    store = make_store(**{"attempts": attempts, "base-delay": 0.05, "max-delay": 0.05})
    proxy.inject(Fault.delay(4 * READ_TIMEOUT), times=None)
    started = time.monotonic()
    with pytest.raises(TransientError):
        CALLS[call](store, container)
    elapsed = time.monotonic() - started
    assert elapsed < attempts * READ_TIMEOUT + 1.5
    assert len(proxy.log) == attempts


def test_the_sdks_own_retries_do_not_multiply_ours_beyond_their_documented_bound(
    provider: str, make_store: MakeStore, proxy: FaultProxy, container: str
) -> None:
    """botocore's and s3transfer's retries are off, and azure-blob reads a blob's text with one
    streamed GET of its own (not the SDK's downloader, which re-reads a broken body up to 3
    times inside one try): one request per attempt on both."""
    attempts = 2
    store = make_store(**{"attempts": attempts, "base-delay": 0.05, "max-delay": 0.05})
    proxy.inject(Fault.truncate(), method="GET", path=blob_path(container), times=None)
    started = time.monotonic()
    with pytest.raises(TransientError):
        store.get_blob_text(container, BLOB)
    assert len(proxy.requests("GET", blob_path(container))) == attempts
    assert time.monotonic() - started < attempts * 3.0 + 2.0
