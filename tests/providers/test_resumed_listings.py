"""Listings of several pages through the fault proxy, on S3 (moto) and Azure (Azurite): one
fault on the 2nd or 3rd page request of a 3-page listing, recursive or not, repeats that page
from its own continuation token (read in the proxy's log) and gives the exact full listing,
through ``iter_blobs`` and ``list_blobs`` alike (docs/contract.md §1, "list_blobs")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import xtstore
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from tests.servers.s3_server import MotoServer
from xtstore.errors import TransientError

PAGE = 3
BLOBS = ("o/1", "p/a", "p/b/1", "p/b/2", "p/c", "p/d/1", "p/e", "p/f/1", "p/g", "p/h/1", "q")
RECURSIVE = [name for name in BLOBS if name.startswith("p/")]
"""9 blobs under ``p/``: 3 pages of 3."""
FLAT = ["p/a", "p/b/", "p/c", "p/d/", "p/e", "p/f/", "p/g", "p/h/"]
"""8 entries directly under ``p/``, folders and blobs alternating: pages of 3, 3 and 2."""
LISTING = r"comp=list|list-type=2"
"""A listing request's target: Azure's List Blobs, S3's ListObjectsV2."""
FAULTS = {
    "reset-before": Fault.reset_before(),
    "reset-in-response": Fault.reset_in_response(),
    "503": Fault.error_status(503),
    "truncate": Fault.truncate(),
}
READ_TIMEOUT = 5.0
RETRY = {"attempts": 3, "base-delay": 0.01, "max-delay": 0.05, "total-timeout": 10}


@pytest.fixture(scope="module", params=["s3", "azure"])
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def proxy(provider: str, request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    if provider == "s3":
        upstream = request.getfixturevalue("moto_server").endpoint_url
    else:
        upstream = f"http://127.0.0.1:{request.getfixturevalue('azurite').port}"
    with running_proxy(upstream, hold_limit=5.0, lifetime=300.0) as running:
        yield running


def _store(provider: str, request: pytest.FixtureRequest, endpoint: str | None) -> Any:
    """A store of ``provider`` through ``endpoint`` (the proxy), with RETRY and a bounded
    read timeout (none of FAULTS makes the client wait for one); or, with no endpoint,
    straight to the server with the default settings (setting up, whatever the load)."""
    entry: dict[str, Any]
    if provider == "s3":
        moto: MotoServer = request.getfixturevalue("moto_server")
        entry = moto.service_config(**{"endpoint-url": endpoint or moto.endpoint_url})
    else:
        azurite: Azurite = request.getfixturevalue("azurite")
        connection = azurite.connection_string
        if endpoint is not None:
            connection = connection.replace(azurite.endpoint, endpoint)
        entry = {"type": "storage", "provider": "azure-blob", "connection-string": connection}
    if endpoint is not None:
        entry.update({"timeout": READ_TIMEOUT, "retry": RETRY} if provider == "azure" else
                     {"connect-timeout": READ_TIMEOUT, "read-timeout": READ_TIMEOUT,
                      "retry": RETRY})
    return xtstore.get_storage("paged", config={"external-services": {"paged": entry}})


@pytest.fixture(scope="module")
def store(provider: str, proxy: FaultProxy, request: pytest.FixtureRequest) -> Any:
    endpoint = proxy.url
    if provider == "azure":
        endpoint = proxy.endpoint(request.getfixturevalue("azurite").endpoint)
    return _store(provider, request, endpoint)


@pytest.fixture(scope="module")
def container(provider: str, request: pytest.FixtureRequest) -> Iterator[str]:
    direct = _store(provider, request, None)
    name = f"pg-{uuid.uuid4().hex[:12]}"
    direct.create_container(name)
    for blob in BLOBS:
        direct.create_blob(name, blob, blob)
    yield name
    direct.delete_container(name)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Azure's 5,000 and S3's 1,000, scaled down.
    monkeypatch.setattr("xtstore.providers.azure.store.PAGE_SIZE", PAGE)
    monkeypatch.setattr("xtstore.providers.s3.listing.PAGE_SIZE", PAGE)


def _listing_requests(proxy: FaultProxy) -> list[str]:
    return [entry.target for entry in proxy.requests("GET", LISTING)]


def _names(entries: Any) -> list[str]:
    return [entry if isinstance(entry, str) else entry.name for entry in entries]


CALLS = {
    "iter_blobs": lambda store, container, recursive: _names(
        store.iter_blobs(container, "p/", recursive=recursive)),
    "list_blobs": lambda store, container, recursive: store.list_blobs(
        container, "p/", recursive=recursive),
}


@pytest.mark.parametrize("recursive", [True, False], ids=["recursive", "flat"])
@pytest.mark.parametrize("call", list(CALLS))
def test_a_listing_of_three_pages_takes_three_requests(
    store: Any, container: str, proxy: FaultProxy, call: str, recursive: bool
) -> None:
    proxy.clear()
    names = CALLS[call](store, container, recursive)
    assert names == (RECURSIVE if recursive else FLAT)
    assert len(_listing_requests(proxy)) == 3


@pytest.mark.parametrize("page", [2, 3])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("recursive", [True, False], ids=["recursive", "flat"])
@pytest.mark.parametrize("call", list(CALLS))
def test_one_fault_on_a_later_page_repeats_that_page_only(
    store: Any, container: str, proxy: FaultProxy, call: str, recursive: bool, fault: str,
    page: int,
) -> None:
    proxy.clear()
    proxy.inject(FAULTS[fault], method="GET", path=LISTING, nth=page)
    names = CALLS[call](store, container, recursive)
    assert names == (RECURSIVE if recursive else FLAT)
    requests = _listing_requests(proxy)
    assert len([entry for entry in proxy.log if entry.fault]) == 1
    # The page again, from the same continuation token; nothing before it fetched again.
    assert len(requests) == 4, requests
    assert requests[page - 1] == requests[page]
    assert len(set(requests)) == 3


def test_a_page_that_keeps_failing_is_a_transient_error_naming_the_container(
    store: Any, container: str, proxy: FaultProxy
) -> None:
    proxy.clear()
    proxy.inject(Fault.error_status(503), method="GET", path=LISTING, nth=2, times=None)
    entries = store.iter_blobs(container, "p/")
    assert [next(entries).name for _ in range(PAGE)] == RECURSIVE[:PAGE]
    with pytest.raises(TransientError, match=f"container '{container}'"):
        next(entries)
    assert len(_listing_requests(proxy)) == 1 + RETRY["attempts"]


def test_a_bare_provider_fetches_its_pages_directly(
    store: Any, container: str, proxy: FaultProxy
) -> None:
    proxy.clear()
    entries = store.provider.iter_blobs(container, "p/")
    assert len(_listing_requests(proxy)) == 1  # the first page by the call
    assert _names(entries) == RECURSIVE
    assert len(_listing_requests(proxy)) == 3
    assert _names(store.provider.list_blobs(container, "p/", return_names=False)) == RECURSIVE
