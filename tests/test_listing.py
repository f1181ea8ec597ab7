"""The shared list_blobs helper: canonical paths to the contract's results."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xtstore.listing import base_folder, iter_infos, iter_names, list_prefix, select
from xtstore.values import BlobInfo, BlobProperties

NAMES = sorted([
    "a",
    "a-b",
    "foo-/k",
    "foo/bar/ski/blob1.txt",
    "foo/bar/x",
    "foo/x",
    "foo2/q/r",
    "foobar",
    "zed/deep/er/one",
    "zed/deep/er/two",
])


def infos() -> list[BlobInfo]:
    return [BlobInfo(name, properties=BlobProperties.from_ns(1, 0, '"e"')) for name in NAMES]


@pytest.mark.parametrize(
    ("path", "prefix", "base"),
    [
        ("", "", ""),
        (None, "", ""),
        ("foo/", "foo/", "foo/"),
        ("foo*", "foo", ""),
        ("foo/ba*", "foo/ba", "foo/"),
        ("*", "", ""),
    ],
)
def test_prefix_and_base_folder(path: str | None, prefix: str, base: str) -> None:
    assert list_prefix(path) == prefix
    assert base_folder(path) == base


@pytest.mark.parametrize(
    ("path", "recursive", "expected"),
    [
        ("", True, NAMES),
        ("", False, ["a", "a-b", "foo-/", "foo/", "foo2/", "foobar", "zed/"]),
        ("foo/", True, ["foo/bar/ski/blob1.txt", "foo/bar/x", "foo/x"]),
        ("foo/", False, ["foo/bar/", "foo/x"]),
        ("foo*", True, ["foo-/k", "foo/bar/ski/blob1.txt", "foo/bar/x", "foo/x", "foo2/q/r",
                        "foobar"]),
        ("foo*", False, ["foo-/", "foo/", "foo2/", "foobar"]),
        ("foo/b*", False, ["foo/bar/"]),
        ("foo/bar/", False, ["foo/bar/ski/", "foo/bar/x"]),
        ("zed/", False, ["zed/deep/"]),
        ("fo/", True, []),
        ("nothing*", False, []),
    ],
)
def test_names(path: str, recursive: bool, expected: list[str]) -> None:
    assert list(iter_names(NAMES, path, recursive)) == expected
    assert [info.name for info in iter_infos(infos(), path, recursive)] == expected
    assert select(infos(), path, return_names=True, recursive=recursive) == expected


def test_results_stay_sorted_and_folders_appear_once() -> None:
    for path in ("", "foo/", "foo*", "zed/"):
        for recursive in (True, False):
            names = list(iter_names(NAMES, path, recursive))
            assert names == sorted(names)
            assert len(names) == len(set(names))


def test_folder_entries_are_dirs_without_properties() -> None:
    entries = select(infos(), "foo/", return_names=False, recursive=False)
    assert entries == [
        BlobInfo("foo/bar/", is_dir=True),
        infos()[NAMES.index("foo/x")],
    ]
    folder = entries[0]
    assert isinstance(folder, BlobInfo)
    assert folder.is_dir and folder.properties is None


def test_iter_names_is_lazy() -> None:
    def endless() -> Iterator[str]:
        number = 0
        while True:
            yield f"n{number:09d}"
            number += 1

    entries = iter_names(endless(), "", recursive=True)
    assert [next(entries) for _ in range(3)] == ["n000000000", "n000000001", "n000000002"]
