"""xtstore.paging: a listing fetched page by page from continuation tokens, with a fake
``fetch_page`` and with a real memory store whose ``iter_blobs`` pages (the cloud providers'
own pages are tested through the fault proxy: tests/providers/test_resumed_listings.py).
Used bare, pages are fetched directly; inside a Store each later page is a step the one retry
policy repeats from its own token, without skipping or repeating an entry, and ``list_blobs``
collects the same pages step by step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from xtstore.continuation import Continuing
from xtstore.errors import BlobNotFound, ContainerNotFound, TransientError
from xtstore.layers import Call
from xtstore.layers.retry import RetryPolicy
from xtstore.paging import PAGE_STEP, PagedListing, list_pages
from xtstore.providers.memory import MemoryProvider
from xtstore.store import Store
from xtstore.values import BlobInfo

T = TypeVar("T")
NAMES = [f"n{index}" for index in range(7)]


class FakePages:
    """``fetch_page`` over NAMES in pages of 3 (tokens are the start index), counting the
    fetches of each token; ``fail`` maps a token to how many fetches of it raise first."""

    def __init__(self, names: list[str], size: int = 3, fail: dict[str, int] | None = None):
        self.names = names
        self.size = size
        self.fail = dict(fail or {})
        self.fetched: Counter[str | None] = Counter()

    def __call__(self, token: str | None) -> tuple[list[BlobInfo], str | None]:
        self.fetched[token] += 1
        if self.fail.get(token or "", 0) > 0:
            self.fail[token or ""] -= 1
            raise ConnectionResetError("page request reset")
        start = int(token or 0)
        end = start + self.size
        page = [BlobInfo(name=name) for name in self.names[start:end]]
        return page, str(end) if end < len(self.names) else None


def _names(entries: Any) -> list[str]:
    return [entry.name for entry in entries]


def test_used_bare_it_fetches_the_first_page_when_made_and_each_later_one_when_reached(
) -> None:
    fetch = FakePages(NAMES)
    listing = PagedListing(fetch)
    assert isinstance(listing, Continuing)
    assert fetch.fetched == {None: 1}
    assert [next(listing).name for _ in range(3)] == NAMES[:3]
    assert fetch.fetched == {None: 1}
    assert next(listing).name == "n3"
    assert fetch.fetched == {None: 1, "3": 1}
    assert _names(listing) == NAMES[4:]
    assert fetch.fetched == {None: 1, "3": 1, "6": 1}
    assert list(listing) == []  # finished: no further fetch
    assert sum(fetch.fetched.values()) == 3


def test_an_empty_page_with_a_token_is_passed_over_and_an_empty_listing_ends() -> None:
    pages = {None: ([], "a"), "a": ([BlobInfo(name="x")], "b"), "b": ([], None)}
    assert _names(PagedListing(pages.__getitem__)) == ["x"]
    assert list(PagedListing(lambda token: ([], None))) == []


def test_a_page_that_failed_bare_is_fetched_again_from_its_own_token() -> None:
    fetch = FakePages(NAMES, fail={"3": 1})
    listing = PagedListing(fetch)
    assert [next(listing).name for _ in range(3)] == NAMES[:3]
    with pytest.raises(ConnectionResetError):
        next(listing)
    assert _names(listing) == NAMES[3:]  # nothing skipped, nothing twice
    assert fetch.fetched == {None: 1, "3": 2, "6": 1}


def test_the_runner_it_is_given_runs_each_later_page() -> None:
    steps: list[str] = []

    def run(step: str, body: Callable[[], T]) -> T:
        steps.append(step)
        return body()

    listing = PagedListing(FakePages(NAMES))
    listing.continue_under(run)
    assert _names(listing) == NAMES
    assert steps == [PAGE_STEP, PAGE_STEP]


class CallCounter:
    """A layer outside retry: the calls it sees by operation, and the failures that pass."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.failures: list[str] = []

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        self.calls[call.operation] += 1
        try:
            return proceed()
        except Exception as error:
            self.failures.append(type(error).__name__)
            raise


class PagedMemory(MemoryProvider):
    """A memory store whose listings come in pages of 3 from PagedListing (as Azure's and
    S3's do), with faults scripted per page token."""

    list_blobs = list_pages

    def __init__(self, fail: dict[str, int] | None = None) -> None:
        super().__init__({"name": "mem"})
        self.fail = fail or {}
        self.pages: list[FakePages] = []

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        names = _names(super().iter_blobs(container, path, recursive=recursive))
        fetch = FakePages(names, fail=self.fail)
        self.pages.append(fetch)
        return PagedListing(fetch)


@pytest.fixture
def counter() -> CallCounter:
    return CallCounter()


def _store(provider: PagedMemory, counter: CallCounter) -> Store:
    store = Store(provider, "mem", retry=RetryPolicy(attempts=3, base_delay=0.001),
                  extra_layers=[counter])
    store.create_container("runs")
    for name in NAMES:
        store.create_blob("runs", f"d/{name}", name)
    return store


def test_in_a_store_a_fault_on_a_later_page_repeats_that_page_under_the_retry_policy(
    counter: CallCounter,
) -> None:
    provider = PagedMemory(fail={"3": 1, "6": 1})
    store = _store(provider, counter)
    assert _names(store.iter_blobs("runs", "d/")) == [f"d/{name}" for name in NAMES]
    assert provider.pages[0].fetched == {None: 1, "3": 2, "6": 2}
    # Each page once through the layers outside retry (no second guard around them), and
    # the faults absorbed inside.
    assert counter.calls["iter_blobs"] == 1
    assert counter.calls[PAGE_STEP] == 2
    assert "iter_blobs.next" not in counter.calls
    assert counter.failures == []


def test_in_a_store_a_page_that_keeps_failing_is_a_typed_error_naming_the_listing(
    counter: CallCounter,
) -> None:
    provider = PagedMemory(fail={"3": 5})
    store = _store(provider, counter)
    entries = store.iter_blobs("runs", "d/")
    assert [next(entries).name for _ in range(3)] == ["d/n0", "d/n1", "d/n2"]
    with pytest.raises(TransientError, match="service 'mem', container 'runs', blob 'd/'"):
        next(entries)
    assert provider.pages[0].fetched["3"] == 3  # the policy's attempts, then given up


def test_list_blobs_collects_the_pages_step_by_step(counter: CallCounter) -> None:
    provider = PagedMemory(fail={"6": 1})
    store = _store(provider, counter)
    names = store.list_blobs("runs", "d/")
    assert names == [f"d/{name}" for name in NAMES]
    # Only the page that failed was fetched again, not the listing from its start.
    assert provider.pages[0].fetched == {None: 1, "3": 1, "6": 2}
    assert counter.calls["list_blobs"] == 1
    assert counter.calls["list_blobs.page"] == 2
    infos = store.list_blobs("runs", "d/", return_names=False, recursive=False)
    assert [info.name for info in infos] == names


def test_list_pages_used_bare_is_the_sorted_listing() -> None:
    provider = PagedMemory()
    provider.create_container("runs")
    for name in reversed(NAMES):
        provider.create_blob("runs", name, name)
    assert provider.list_blobs("runs") == NAMES
    assert provider.list_blobs("runs", "n1*") == ["n1"]
    assert sum(provider.pages[0].fetched.values()) == 3


class VanishingContainer(PagedMemory):
    """Its later pages fail as a container deleted mid-listing does on a store whose 404 has
    no body: the provider's translation can tell it from a missing blob only by whether the
    call is about a blob."""

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        listing = super().iter_blobs(container, path, recursive=recursive)
        self.pages[-1].fail = {"3": 99}
        return listing

    def translate_error(self, error: BaseException, *, about_blob: bool) -> Any:
        if isinstance(error, ConnectionResetError):
            return BlobNotFound("404") if about_blob else ContainerNotFound("404")
        return None


@pytest.mark.parametrize("call", ["iter_blobs", "list_blobs"])
def test_a_later_page_is_about_the_container_not_a_blob(
    counter: CallCounter, call: str
) -> None:
    store = _store(VanishingContainer(), counter)
    with pytest.raises(ContainerNotFound, match="container 'runs'"):
        list(getattr(store, call)("runs", "d/"))


def test_list_pages_over_an_iter_blobs_that_does_not_page_is_collected_in_the_call(
    counter: CallCounter,
) -> None:
    class Generated(PagedMemory):
        """list_pages inherited, over a generator of its own that fails once mid-way."""

        failed = False

        def iter_blobs(
            self, container: str, path: str | None = None, recursive: bool = True
        ) -> Iterator[BlobInfo]:
            for index, entry in enumerate(MemoryProvider.iter_blobs(self, container, path)):
                if index == 4 and not Generated.failed:
                    Generated.failed = True
                    raise ConnectionResetError("listing reset")
                yield entry

    store = _store(Generated(), counter)
    assert store.list_blobs("runs", "d/") == [f"d/{name}" for name in NAMES]
    assert Generated.failed
    assert counter.calls["list_blobs"] == 1
    assert "list_blobs.page" not in counter.calls  # the call repeated whole, inside retry


class NamePages:
    """``fetch_page`` of plain names (a names-only listing), pages of 3, faults per token."""

    def __init__(self, names: list[str], fail: dict[str, int]) -> None:
        self.pages = FakePages(names, fail=fail)

    def __call__(self, token: str | None) -> tuple[list[str], str | None]:
        entries, next_token = self.pages(token)
        return [entry.name for entry in entries], next_token


class PagedNames(PagedMemory):
    """A PagedMemory whose names-only listing pages too (``PagedListing[str]``)."""

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        names = list(MemoryProvider.iter_blob_names(self, container, path, recursive=recursive))
        fetch = NamePages(names, self.fail)
        self.pages.append(fetch.pages)
        return PagedListing(fetch)


def test_a_names_only_listing_pages_through_the_store_step_by_step(
    counter: CallCounter,
) -> None:
    provider = PagedNames(fail={"3": 1, "6": 1})
    store = _store(provider, counter)
    expected = [f"d/{name}" for name in NAMES]
    assert list(store.iter_blob_names("runs", "d/")) == expected
    assert provider.pages[0].fetched == {None: 1, "3": 2, "6": 2}
    assert counter.calls["iter_blob_names"] == 1
    assert counter.calls["iter_blob_names.page"] == 2
    assert "iter_blob_names.next" not in counter.calls
    assert store.list_blobs("runs", "d/") == expected
    assert provider.pages[1].fetched == {None: 1, "3": 2, "6": 2}
    assert counter.calls["list_blobs.page"] == 2
    # Names came from the names-only pages alone: iter_blobs made no listing of its own.
    assert len(provider.pages) == 2
    assert counter.failures == []
