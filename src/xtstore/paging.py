"""A listing fetched page by page, each later page one repeatable step (docs/contract.md §1,
"list_blobs"; :mod:`xtstore.continuation`).

A provider that pages (Azure's markers, S3's continuation tokens) gives :class:`PagedListing`
one function, ``fetch_page(token) -> (entries, next_token)``: the page that starts at
``token`` (``None`` for the first) and the token of the page after it (``None`` at the end).
The first page is fetched when the listing is made, inside the provider's ``iter_blobs`` call
(so that a missing container fails at the call, under the call's retry); each later page is
a step named ``"iter_blobs.page"``, which the Store runs inside its layers. A repeated step
fetches the same page again from its own token, and the listing takes its entries only once
the fetch succeeded: a repeat never skips or repeats an entry.

The entries are :class:`~xtstore.values.BlobInfo` for ``iter_blobs`` and plain names
(``PagedListing[str]``) for a provider's names-only ``iter_blob_names``: the same stepping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TypeVar

from xtstore.continuation import StepRunner, run_directly
from xtstore.interface import StoreInterface, lists_names
from xtstore.listing import sorted_result
from xtstore.values import BlobInfo

__all__ = ["PAGE_STEP", "PageFetch", "PagedListing", "list_pages"]

PAGE_STEP = "iter_blobs.page"
"""The step name of each page after the first, in logs and errors."""

T = TypeVar("T")

PageFetch = Callable[[str | None], tuple[Sequence[T], str | None]]
"""``fetch_page(token) -> (entries, next_token)``: one page request, safe to make again."""


class PagedListing(Iterator[T]):
    """The entries of ``fetch_page``'s pages, in order, fetching each page once the one
    before it is used up. Implements :class:`~xtstore.continuation.Continuing`; used bare, it
    fetches its pages directly. A page that failed leaves the listing where it was: iterating
    again fetches that page again."""

    __slots__ = ("_entries", "_fetch", "_run", "_token")

    def __init__(self, fetch_page: PageFetch[T]) -> None:
        self._fetch = fetch_page
        self._run: StepRunner = run_directly
        entries, self._token = fetch_page(None)
        self._entries = iter(entries)

    def continue_under(self, run: StepRunner) -> None:
        self._run = run

    def __iter__(self) -> PagedListing[T]:
        return self

    def __next__(self) -> T:
        entry = next(self._entries, None)
        while entry is None:
            token = self._token
            if not token:
                raise StopIteration
            entries, self._token = self._run(PAGE_STEP, partial(self._fetch, token))
            self._entries = iter(entries)
            entry = next(self._entries, None)
        return entry


def list_pages(
    provider: StoreInterface,
    container: str,
    path: str | None = None,
    return_names: bool = True,
    recursive: bool = True,
) -> list[str] | list[BlobInfo]:
    """A provider's ``list_blobs`` (``list_blobs = list_pages``) that is its ``iter_blobs``
    collected and sorted, as the interface's default is (its ``iter_blob_names`` for names,
    where it has its own). It also tells the Store that the pages are :class:`PagedListing`
    steps: the Store then collects them itself, each page after the first a repeatable step
    of the call (``"list_blobs.page"``), so that a fault on page 7 repeats page 7, not the
    whole listing."""
    if return_names and lists_names(type(provider)):
        return sorted(provider.iter_blob_names(container, path, recursive=recursive))
    entries = provider.iter_blobs(container, path, recursive=recursive)
    return sorted_result(entries, return_names=return_names)
