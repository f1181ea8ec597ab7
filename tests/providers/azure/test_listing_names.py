"""Listings on azure-blob: a names-only listing asks List Blobs without metadata and builds no
``BlobInfo`` (at 7b3926e it built every entry's properties through the SDK's models, 12.8-15x
the CPU of ``list_blob_names``); a full listing carries each blob's metadata
(``capabilities().listing_metadata``), as ``get_blob_properties`` gives it, in the same one
request per page."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from xtstore.providers.azure import store as azure_store


class _Urls:
    """A ``raw_request_hook`` keeping each request's URL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.urls: list[str] = []

    def __call__(self, request: Any) -> None:
        with self._lock:
            self.urls.append(request.http_request.url)

    def __copy__(self) -> _Urls:
        return self

    def __deepcopy__(self, memo: Any) -> _Urls:
        return self


NAMES = ["a.txt", "d/1.txt", "d/2.txt", "d/e/3.txt", "z/4.txt"]


@pytest.fixture
def listed(make_store: Callable[..., Any], container: str) -> tuple[Any, _Urls]:
    urls = _Urls()
    store = make_store(**{"client-options": {"raw_request_hook": urls}})
    for index, name in enumerate(NAMES):
        store.create_blob(container, name, "x", metadata={"n": str(index), "Mixed_Case": "v"})
    return store, urls


def test_names_only_listings_build_no_blob_info_and_ask_no_metadata(
    listed: tuple[Any, _Urls], container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, urls = listed
    full = {recursive: [entry.name for entry in store.iter_blobs(container, recursive=recursive)]
            for recursive in (True, False)}
    assert full[False] == ["a.txt", "d/", "z/"]

    def no_blob_info(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a names-only listing built a BlobInfo")

    monkeypatch.setattr(azure_store, "BlobInfo", no_blob_info)
    monkeypatch.setattr(azure_store, "PAGE_SIZE", 2)  # Azure's 5,000, scaled down
    urls.urls.clear()
    assert store.list_blobs(container) == full[True] == NAMES
    assert store.list_blobs(container, recursive=False) == full[False]
    assert store.list_blobs(container, "d/", recursive=False) == ["d/1.txt", "d/2.txt", "d/e/"]
    assert list(store.iter_blob_names(container)) == NAMES
    assert len(urls.urls) == 3 + 2 + 2 + 3  # one request per page of 2
    assert not [url for url in urls.urls if "include=" in url]


def test_listing_entries_carry_the_blobs_metadata(
    listed: tuple[Any, _Urls], container: str
) -> None:
    store, urls = listed
    assert store.capabilities().listing_metadata
    urls.urls.clear()
    entries = store.list_blobs(container, return_names=False)
    assert len(urls.urls) == 1 and "include=metadata" in urls.urls[0]
    for entry in entries:
        expected = store.get_blob_properties(container, entry.name).properties
        assert entry.properties.metadata == expected.metadata == {
            "n": str(NAMES.index(entry.name)), "Mixed_Case": "v"}
        assert entry.properties.etag == expected.etag
        assert entry.properties.content_length == expected.content_length == 1
        assert entry.properties.modified_ns == expected.modified_ns
        assert entry.properties.checksums == expected.checksums
