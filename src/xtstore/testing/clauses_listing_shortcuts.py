"""Clause "list_blobs" of docs/contract.md §1, its two shortcuts: a names-only listing
(``iter_blob_names``) gives exactly the listing's names, and where
``capabilities().listing_metadata`` a listing entry's metadata is the blob's metadata."""

from __future__ import annotations

import pytest

from xtstore.errors import ContainerNotFound
from xtstore.interface import lists_names
from xtstore.names import parse_list_path
from xtstore.store import Store
from xtstore.testing.base import new_container_name
from xtstore.testing.checks import check_equal, check_raises, properties_of, require_feature
from xtstore.testing.clauses_listing import ListingTree
from xtstore.values import BlobInfo

__all__ = ["ListingShortcutClauses"]

NAMES = ("list_blobs: iter_blob_names and list_blobs(return_names=True) give the names of "
         "list_blobs(return_names=False), in order, for every path form, recursive or not")
NAMES_MISSING = "list_blobs: iter_blob_names of a missing container raises ContainerNotFound"
METADATA = ("list_blobs: where capabilities().listing_metadata, a listing entry's "
            "properties.metadata is the dict get_blob_properties gives; else it is empty")

PATHS = (None, "", "/", "foo", "foo/", "/foo", "/foo/", "foo/bar", "zed/deep/er", "foo*",
         "foo/ba*", "*", "fo", "nope", "top.txt", "foo/a.txt")
"""Every path form of the listing clause: folders, raw prefixes, blobs' own names, unknown."""

TAGGED = {"foo/a.txt": {"stage": "train"}, "foo/bar/x.txt": {"run_id": "exp-7", "seed": "3"},
          "top.txt": {"k": "v"}}
"""The blobs of :data:`~xtstore.testing.clauses_listing.TREE` given metadata; the others have
none."""


def _names(entries: list[str] | list[BlobInfo]) -> list[str]:
    return [entry if isinstance(entry, str) else entry.name for entry in entries]


class ListingShortcutClauses(ListingTree):
    def test_list_blobs_names_only_equal_the_listing_names(self, store: Store, tree: str) -> None:
        provider = store.provider
        own = lists_names(type(provider))
        for path in PATHS:
            for recursive in (True, False):
                what = f"path={path!r} recursive={recursive}"
                expected = _names(store.list_blobs(tree, path, return_names=False,
                                                   recursive=recursive))
                check_equal(list(store.iter_blob_names(tree, path, recursive=recursive)),
                            expected, NAMES, f"Store.iter_blob_names, {what}")
                check_equal(store.list_blobs(tree, path, recursive=recursive), expected,
                            NAMES, f"list_blobs(return_names=True), {what}")
                if own:
                    # The provider's own, with the canonical path the Store hands it, in
                    # the order of its own iter_blobs.
                    canonical = parse_list_path(path, container=tree).canonical
                    check_equal(
                        list(provider.iter_blob_names(tree, canonical, recursive=recursive)),
                        [entry.name for entry in provider.iter_blobs(tree, canonical,
                                                                     recursive=recursive)],
                        NAMES, f"{type(provider).__name__}.iter_blob_names, {what}")

    def test_list_blobs_names_only_of_missing_container_raise_at_the_call(
        self, store: Store
    ) -> None:
        missing = new_container_name()
        for recursive in (True, False):
            check_raises(ContainerNotFound, f"{NAMES_MISSING} (recursive={recursive})",
                         store.iter_blob_names, missing, recursive=recursive)

    def test_list_blobs_listing_metadata_is_the_blobs_metadata(
        self, store: Store, tree: str
    ) -> None:
        require_feature(store, "metadata",
                        lambda: store.set_blob_metadata(tree, "top.txt", {"k": "v"}))
        for name, metadata in TAGGED.items():
            store.set_blob_metadata(tree, name, metadata)
        # Metadata replaced, and an overwrite (which clears it): a listing must not show
        # what the blob had before.
        store.set_blob_metadata(tree, "top.txt", {"k": "v2"})
        store.create_blob(tree, "foo/b.txt", "foo/b.txt")
        carried = store.capabilities().listing_metadata
        for recursive in (True, False):
            for path in (None, "foo"):
                entries = store.list_blobs(tree, path, return_names=False, recursive=recursive)
                entries = [*entries, *store.iter_blobs(tree, path, recursive=recursive)]
                for entry in entries:
                    if not isinstance(entry, BlobInfo) or entry.is_dir:
                        continue
                    what = f"{entry.name} (path={path!r} recursive={recursive})"
                    listed = properties_of(entry, METADATA, what).metadata
                    expected = (store.get_blob_properties(tree, entry.name).metadata
                                if carried else {})
                    check_equal(listed, expected, METADATA, what)
        if not carried:
            pytest.skip("capabilities().listing_metadata is False: listing entries carry no "
                        "metadata (checked), a caller reads get_blob_properties")
