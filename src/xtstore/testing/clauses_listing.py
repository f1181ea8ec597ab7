"""Clause "list_blobs" of docs/contract.md §1, edge case by edge case."""

from __future__ import annotations

import pytest

from xtstore.errors import ContainerNotFound
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, new_container_name
from xtstore.testing.checks import check, check_equal, check_raises
from xtstore.testing.clauses_blobs import check_blob_info
from xtstore.values import BlobInfo

__all__ = ["TREE", "ListingClauses", "ListingTree"]

TREE = (
    "fo.txt",
    "foo/a.txt",
    "foo/b.txt",
    "foo/bar/ski/blob1.txt",
    "foo/bar/x.txt",
    "foo/baz/y.txt",
    "foobar",
    "foobaz/c.txt",
    "top.txt",
    "zed/deep/er/est/z.txt",
)
"""A tree whose names test every edge: 'foo' the folder vs 'foobar'/'foobaz/' the siblings."""

UNDER_FOO = [name for name in TREE if name.startswith("foo/")]
FOLDER = "list_blobs: 'foo', 'foo/' and '/foo' all mean the blobs under foo/ (never foobar)"


class ListingTree(SuiteBase):
    """The ``tree`` fixture of the listing clauses (these and ``clauses_listing_shortcuts``)."""

    @pytest.fixture
    def tree(self, store: Store, container: str) -> str:
        """``container`` filled with :data:`TREE` (each blob's content is its name)."""
        for name in TREE:
            store.create_blob(container, name, name)
        return container


class ListingClauses(ListingTree):

    def test_list_blobs_folder_path_forms_all_mean_the_folder(
        self, store: Store, tree: str
    ) -> None:
        for path in ("foo", "foo/", "/foo", "/foo/"):
            check_equal(store.list_blobs(tree, path), UNDER_FOO, FOLDER, f"path={path!r}")

    def test_list_blobs_folder_path_never_matches_sibling_prefix(
        self, store: Store, tree: str
    ) -> None:
        for path in ("foo", "foo/"):
            for recursive in (True, False):
                names = store.list_blobs(tree, path, recursive=recursive)
                siblings = [name for name in names if str(name).startswith(("foobar", "foobaz"))]
                check_equal(siblings, [], FOLDER, f"path={path!r} recursive={recursive}")

    def test_list_blobs_star_is_a_raw_name_prefix(self, store: Store, tree: str) -> None:
        clause = "list_blobs: a path ending in '*' is a raw name prefix: 'foo*' matches foo/x " \
                 "and foobar"
        expected = [name for name in TREE if name.startswith("foo")]
        check_equal(store.list_blobs(tree, "foo*"), expected, clause, "path='foo*'")
        check_equal(store.list_blobs(tree, "foo/ba*"),
                    ["foo/bar/ski/blob1.txt", "foo/bar/x.txt", "foo/baz/y.txt"], clause,
                    "path='foo/ba*'")
        check_equal(store.list_blobs(tree, "*"), list(TREE), clause, "path='*'")

    def test_list_blobs_none_and_empty_mean_the_whole_container(
        self, store: Store, tree: str
    ) -> None:
        clause = "list_blobs: None or '' means the whole container"
        for path in (None, "", "/"):
            check_equal(store.list_blobs(tree, path), list(TREE), clause, f"path={path!r}")
        check_equal(store.list_blobs(tree), list(TREE), clause, "no path argument")

    def test_list_blobs_unknown_path_gives_empty_list(self, store: Store, tree: str) -> None:
        clause = "list_blobs: an unknown path gives []"
        # A path names a folder: a blob's own name ('top.txt', 'foobar') is not one.
        for path in ("nope", "foo/nope", "nope*", "fooo", "top.txt/x", "zed/deep/er/est/z",
                     "top.txt", "foobar", "foo/a.txt"):
            for recursive in (True, False):
                check_equal(store.list_blobs(tree, path, recursive=recursive), [], clause,
                            f"path={path!r} recursive={recursive}")

    def test_list_blobs_empty_container_gives_empty_list(
        self, store: Store, container: str
    ) -> None:
        clause = "list_blobs: an empty container gives []"
        check_equal(store.list_blobs(container), [], clause, "recursive=True")
        check_equal(store.list_blobs(container, recursive=False), [], clause, "recursive=False")

    def test_list_blobs_names_are_full_paths_sorted(self, store: Store, container: str) -> None:
        clause = "list_blobs: names are full paths relative to the container, sorted"
        # Written out of order, with names whose order differs from a folder-first walk.
        names = ["b/z.txt", "a-b", "a/b", "a.b", "a0", "A", "b.txt", "a/a/a"]
        for name in names:
            store.create_blob(container, name, name)
        check_equal(store.list_blobs(container), sorted(names), clause, "listing")
        check_equal(store.list_blobs(container, "a"), ["a/a/a", "a/b"], clause, "path='a'")

    def test_list_blobs_recursive_has_no_folder_entries(self, store: Store, tree: str) -> None:
        clause = "list_blobs: recursive=True gives every blob under the path, no folder entries"
        entries = store.list_blobs(tree, return_names=False)
        folders = [entry for entry in entries if isinstance(entry, BlobInfo) and entry.is_dir]
        check_equal(folders, [], clause, "folder entries")
        check_equal([getattr(entry, "name", entry) for entry in entries], list(TREE), clause,
                    "names")

    def test_list_blobs_non_recursive_gives_blobs_and_child_folders_once(
        self, store: Store, tree: str
    ) -> None:
        clause = ("list_blobs: recursive=False gives the blobs directly under the path, plus "
                  "each child folder once, as its full path with a trailing '/'")
        cases = {
            None: ["fo.txt", "foo/", "foobar", "foobaz/", "top.txt", "zed/"],
            "foo": ["foo/a.txt", "foo/b.txt", "foo/bar/", "foo/baz/"],
            "/foo/": ["foo/a.txt", "foo/b.txt", "foo/bar/", "foo/baz/"],
            "foo/bar": ["foo/bar/ski/", "foo/bar/x.txt"],
            "zed": ["zed/deep/"],
        }
        for path, expected in cases.items():
            check_equal(store.list_blobs(tree, path, recursive=False), expected, clause,
                        f"path={path!r}")

    def test_list_blobs_deep_nesting(self, store: Store, tree: str) -> None:
        clause = "list_blobs: names are full paths at any depth"
        check_equal(store.list_blobs(tree, "zed"), ["zed/deep/er/est/z.txt"], clause, "zed")
        check_equal(store.list_blobs(tree, "zed/deep/er/est", recursive=False),
                    ["zed/deep/er/est/z.txt"], clause, "zed/deep/er/est, recursive=False")
        check_equal(store.list_blobs(tree, "zed/deep/er", recursive=False),
                    ["zed/deep/er/est/"], clause, "zed/deep/er, recursive=False")

    def test_list_blobs_objects_have_name_is_dir_and_properties(
        self, store: Store, tree: str
    ) -> None:
        clause = "list_blobs: return_names=False gives objects; folder entries have is_dir=True"
        for recursive in (True, False):
            names = store.list_blobs(tree, recursive=recursive)
            entries = store.list_blobs(tree, return_names=False, recursive=recursive)
            check_equal([getattr(entry, "name", entry) for entry in entries], names, clause,
                        f"names of the objects (recursive={recursive})")
            for entry in entries:
                check(isinstance(entry, BlobInfo), clause, f"{entry!r} is not a BlobInfo")
                assert isinstance(entry, BlobInfo)
                if entry.name.endswith("/"):
                    check(entry.is_dir is True, clause, f"{entry.name}: is_dir={entry.is_dir!r}")
                else:
                    check_blob_info(entry, entry.name, len(entry.name.encode("utf-8")))

    def test_list_blobs_missing_container_raises_container_not_found(
        self, store: Store
    ) -> None:
        clause = "list_blobs: a missing container raises ContainerNotFound"
        missing = new_container_name()
        for kwargs in ({}, {"path": "foo"}, {"recursive": False}, {"return_names": False}):
            check_raises(ContainerNotFound, f"{clause} ({kwargs})", store.list_blobs, missing,
                         **kwargs)
