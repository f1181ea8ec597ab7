"""Naming rules of docs/contract.md §1: the same names are accepted or refused on every provider."""

from __future__ import annotations

import pytest

from xtstore.errors import InvalidName
from xtstore.names import normalize_blob_path, parse_list_path, validate_container_name


@pytest.mark.parametrize("name", ["abc", "a-b", "exp-2024-01", "a1b", "x" * 63, "123"])
def test_valid_container_names(name: str) -> None:
    assert validate_container_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["ab", "x" * 64, "Abc", "a--b", "-ab", "ab-", "a_b", "a.b", "a b", "", "ab\u00e9", 42, None],
)
def test_invalid_container_names(name: object) -> None:
    with pytest.raises(InvalidName) as caught:
        validate_container_name(name)
    assert isinstance(caught.value, ValueError)
    assert "container" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("a", "a"), ("/a/b.txt", "a/b.txt"), ("//a", "a"), ("x y/\u00fc.bin", "x y/\u00fc.bin")],
)
def test_blob_paths_are_canonical(given: str, canonical: str) -> None:
    assert normalize_blob_path(given) == canonical


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("", "empty"),
        ("/", "empty"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("a/./b", "'.' segment"),
        ("../a", "'..' segment"),
        ("a\\b", "backslash"),
        ("a\x00b", "control character \\(U\\+0000\\)"),
        ("a\x01b", "control character \\(U\\+0001\\)"),
        ("tab\there", "control character \\(U\\+0009\\)"),
        ("new\nline", "control character \\(U\\+000A\\)"),
        ("unit\x1fsep", "control character \\(U\\+001F\\)"),
        ("del\x7f", "control character \\(U\\+007F\\)"),
        ("x\ufffe", "noncharacter \\(U\\+FFFE\\)"),
        ("x\uffff", "noncharacter \\(U\\+FFFF\\)"),
        ("a" * 1025, "1025 bytes"),
        ("\u00e9" * 513, "1026 bytes"),
        ("bad\ud800", "UTF-8"),
    ],
)
def test_invalid_blob_paths_name_the_problem(given: str, problem: str) -> None:
    with pytest.raises(InvalidName, match=problem) as caught:
        normalize_blob_path(given, container="runs")
    assert "container 'runs'" in str(caught.value)


def test_blob_path_limit_is_counted_in_utf8_bytes() -> None:
    assert normalize_blob_path("a" * 1024) == "a" * 1024
    assert normalize_blob_path("\u00e9" * 512) == "\u00e9" * 512


@pytest.mark.parametrize(
    ("path", "prefix", "raw"),
    [
        (None, "", False),
        ("", "", False),
        ("/", "", False),
        ("foo", "foo/", False),
        ("foo/", "foo/", False),
        ("/foo", "foo/", False),
        ("foo/bar/", "foo/bar/", False),
        ("foo*", "foo", True),
        ("/foo*", "foo", True),
        ("foo/b*", "foo/b", True),
        ("*", "", True),
        ("..*", "..", True),
        ("foo/..*", "foo/..", True),
        (".*", ".", True),
        ("foo/.hidden*", "foo/.hidden", True),
    ],
)
def test_list_path_meanings(path: str | None, prefix: str, raw: bool) -> None:
    parsed = parse_list_path(path)
    assert (parsed.prefix, parsed.is_raw_prefix) == (prefix, raw)


@pytest.mark.parametrize("path", ["a*b", "a*/b", "a/../b", "a\\b*", 7])
def test_invalid_list_paths(path: object) -> None:
    with pytest.raises(InvalidName):
        parse_list_path(path)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../*", "'..' segment"),
        ("/../*", "'..' segment"),
        ("./*", "'.' segment"),
        ("a/../*", "'..' segment"),
        ("a/./b*", "'.' segment"),
        ("../a/*", "'..' segment"),
        ("a//*", "empty segment"),
        ("a//", "empty segment"),
        ("a/b\x00*", "U\\+0000"),
        ("a/b\x1b*", "U\\+001B"),
        ("a/b\\c*", "backslash"),
    ],
)
def test_every_complete_segment_of_a_raw_prefix_follows_the_name_rules(
    path: str, problem: str
) -> None:
    # The last complete segment too: "../*" listed the store's root on store-file.
    with pytest.raises(InvalidName, match=problem) as caught:
        parse_list_path(path, container="runs")
    assert (caught.value.container, caught.value.blob) == ("runs", path)
