"""Clauses "Names" and "Errors" of docs/contract.md §1-2: invalid names fail before any I/O, a
name is a blob, a folder, or (on a flat store) both, and every error names its service,
container and blob."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from xtstore.errors import (
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    InvalidName,
)
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, new_container_name, put_bytes
from xtstore.testing.checks import (
    check,
    check_equal,
    check_is_also,
    check_raises,
    fail,
    precondition,
    short,
)

__all__ = ["ErrorClauses", "FolderClauses", "NameClauses"]

BAD_CONTAINER_NAMES = (
    "ab", "x" * 64, "Upper", "a--b", "-abc", "abc-", "a_b", "has space", "dots.not.ok", "",
)
BAD_BLOB_PATHS = (
    "", "/", "a//b", "a/", "a/./b", "a/../b", "..", ".", "a\\b", "a\x00b", "x" * 1025,
    "é" * 513, "a\x01b", "tab\tname", "line\nbreak", "a\x1fb", "a\x7fb",
    "a\ufffeb", "a\uffffb",
)
NAMES = "Names: anything else raises InvalidName before any I/O"


def _variants(name: str) -> set[str]:
    """``name`` and the forms a lenient store might have turned it into."""
    lower = name.lower()
    dashed = "".join(c if c.isalnum() else "-" for c in lower)
    return {name, lower, dashed, dashed.strip("-"), lower.replace("--", "-")}


class NameClauses(SuiteBase):
    def test_invalid_container_name_raises_invalid_name_before_any_io(self, store: Store) -> None:
        before = set(store.list_containers())
        for bad in BAD_CONTAINER_NAMES:
            for call in (store.create_container, store.list_blobs, store.delete_container):
                error = check_raises(InvalidName, f"{NAMES} (container {bad!r})", call, bad)
                check_is_also(error, InvalidName, ValueError)
        # Only look for the refused names (and what a store might have made of them): other
        # tests sharing the store may create containers meanwhile.
        suspects = {variant for bad in BAD_CONTAINER_NAMES for variant in _variants(bad)}
        created = (set(store.list_containers()) - before) & suspects
        check_equal(created, set(), NAMES, "containers created by the refused calls")

    def test_invalid_blob_path_raises_invalid_name_before_any_io(
        self, store: Store, container: str
    ) -> None:
        for bad in BAD_BLOB_PATHS:
            clause = f"{NAMES} (blob path {bad!r})"
            check_raises(InvalidName, clause, store.create_blob, container, bad, "x")
            check_raises(InvalidName, clause, store.append_blob, container, bad, "x")
            check_raises(InvalidName, clause, store.get_blob_text, container, bad)
            check_raises(InvalidName, clause, store.does_blob_exist, container, bad)
        check_equal(store.list_blobs(container), [], NAMES, "blobs after the refused writes")

    def test_invalid_name_on_missing_container_is_invalid_name_not_io_error(
        self, store: Store
    ) -> None:
        missing = new_container_name()
        check_raises(InvalidName, f"{NAMES} (checked before the container is looked up)",
                     store.create_blob, missing, "a//b", "x")

    def test_leading_slash_is_dropped(self, store: Store, container: str) -> None:
        clause = "Names: a leading '/' is dropped"
        store.create_blob(container, "/lead/x.txt", "slash")
        check_equal(store.list_blobs(container), ["lead/x.txt"], clause, "listing")
        check_equal(store.get_blob_text(container, "lead/x.txt"), "slash", clause, "content")
        check_equal(store.get_blob_text(container, "/lead/x.txt"), "slash", clause,
                    "content read with the slash")

    def test_blob_path_of_1024_utf8_bytes_is_accepted(self, store: Store, container: str) -> None:
        clause = "Names: blob paths of at most 1024 bytes of UTF-8 are valid"
        segment = "d" * 200
        path = "/".join([segment] * 5)
        path = path + "/" + "é" * ((1024 - len(path.encode()) - 1) // 2)
        path += "x" * (1024 - len(path.encode()))
        check_equal(len(path.encode()), 1024, clause, "test path size")
        store.create_blob(container, path, "long")
        check_equal(store.get_blob_text(container, path), "long", clause, "content")
        check_equal(store.list_blobs(container), [path], clause, "listing")
        check_raises(InvalidName, "Names: more than 1024 bytes of UTF-8 raises InvalidName",
                     store.create_blob, container, path + "x", "too long")

    def test_unicode_and_punctuation_names_round_trip(self, store: Store, container: str) -> None:
        clause = "Names: any UTF-8 blob path within the rules is stored and listed as given"
        names = sorted(["données/été ☃.txt", "日本/語.bin", "sp ace/a+b%20c#d.txt", "𝄞.txt"])
        for name in names:
            store.create_blob(container, name, name)
        check_equal(store.list_blobs(container), names, clause, "listing")
        for name in names:
            check_equal(store.get_blob_text(container, name), name, clause, f"content of {name}")


BOTH = ("Names: a write that needs one name as both a blob and a folder either makes both "
        "(a flat store) or raises BlobAlreadyExists with nothing changed (real folders)")
NO_BLOB = ("Names: a name that is only a folder, or lies below a blob, holds no blob: reading, "
           "downloading, properties, snapshot and delete raise BlobNotFound")
BEFORE = {"a": b"blob a", "f/x": b"blob f/x"}
"""The blobs each folder clause starts from: ``f`` is only a folder, ``a/b`` lies below a blob."""

Write = Callable[[Store, str], object]


def _state(store: Store, container: str) -> tuple[list[str], dict[str, bytes]]:
    names = [str(name) for name in store.list_blobs(container)]
    return names, {name: store.get_blob_bytes(container, name) for name in names}


class FolderClauses(SuiteBase):
    def test_a_blob_and_a_folder_of_one_name_are_both_made_or_refused(
        self, store: Store, make_container: Callable[[], str]
    ) -> None:
        capabilities = store.capabilities()
        writes: list[tuple[str, str, bytes, Write]] = [
            ("create_blob", "f", b"new f", lambda s, c: s.create_blob(c, "f", "new f")),
            ("create_blob", "a/b", b"new a/b", lambda s, c: s.create_blob(c, "a/b", "new a/b")),
            ("create_blob_from_path", "f", b"path f",
             lambda s, c: put_bytes(s, c, "f", b"path f")),
        ]
        if capabilities.conditional_writes.available:
            writes.append(("create_blob(fail_if_exists=True)", "a/b", b"once",
                           lambda s, c: s.create_blob(c, "a/b", "once", fail_if_exists=True)))
        if capabilities.server_side_copy.available:
            writes.append(("copy_blob a ->", "f", BEFORE["a"],
                           lambda s, c: s.copy_blob(c, "a", c, "f")))
        if capabilities.append.available:
            writes += [
                ("append_blob", "f", b"more", lambda s, c: s.append_blob(c, "f", "more")),
                ("append_blob", "a/b", b"more", lambda s, c: s.append_blob(c, "a/b", "more")),
            ]
        for call, name, written, write in writes:
            container = make_container()
            with precondition(BOTH, "writing the blobs 'a' and 'f/x'"):
                for blob, data in BEFORE.items():
                    put_bytes(store, container, blob, data)
            what = f"{call} {name!r} beside the blobs 'a' and 'f/x'"
            try:
                write(store, container)
            except BlobAlreadyExists:
                check_equal(_state(store, container), (sorted(BEFORE), BEFORE), BOTH,
                            f"{what} was refused: blobs and content afterwards")
                check(not store.does_blob_exist(container, name), BOTH,
                      f"{what} was refused, yet does_blob_exist({name!r}) is True")
                continue
            except Exception as error:
                fail(BOTH, f"{what}: expected success or BlobAlreadyExists, got "
                           f"{type(error).__name__}: {error}")
            check_equal(_state(store, container),
                        (sorted([*BEFORE, name]), {**BEFORE, name: written}), BOTH,
                        f"{what} succeeded: blobs and content afterwards")

    def test_a_folder_or_a_name_below_a_blob_holds_no_blob(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        with precondition(NO_BLOB, "writing the blobs 'a' and 'f/x'"):
            for blob, data in BEFORE.items():
                put_bytes(store, container, blob, data)
        downloads = tmp_path / "download"
        reads: list[tuple[str, Callable[[str], object]]] = [
            ("get_blob_bytes", lambda name: store.get_blob_bytes(container, name)),
            ("get_blob_text", lambda name: store.get_blob_text(container, name)),
            ("open_blob", lambda name: store.open_blob(container, name)),
            ("get_blob_to_path", lambda name: store.get_blob_to_path(
                container, name, str(downloads / name))),
            ("get_blob_properties", lambda name: store.get_blob_properties(container, name)),
            ("delete_blob", lambda name: store.delete_blob(container, name)),
        ]
        capabilities = store.capabilities()
        if capabilities.snapshots.available:
            reads.append(("snapshot_blob", lambda name: store.snapshot_blob(container, name)))
        if capabilities.server_side_copy.available:
            reads.append(("copy_blob from", lambda name: store.copy_blob(
                container, name, container, "copy")))
        for name in ("f", "a/b"):
            for call, read in reads:
                check_raises(BlobNotFound, f"{NO_BLOB} ({call} {name!r})", read, name)
            check(not store.does_blob_exist(container, name), NO_BLOB,
                  f"does_blob_exist({name!r}) is True")
            check(not (downloads / name).exists(), NO_BLOB,
                  f"the failed download of {name!r} left {short(str(downloads / name))}")
        check_equal(_state(store, container), (sorted(BEFORE), BEFORE), NO_BLOB,
                    "blobs and content after the refused calls")


ERRORS = "Errors: every message names the service, the container and the blob"


def _check_names(error: Exception, store: Store, container: str, blob: str | None) -> None:
    text = str(error)
    for part in (store.get_service_name(), container, blob):
        if part is not None:
            check(part in text, ERRORS,
                  f"{type(error).__name__} message {text!r} does not name {part!r}")


class ErrorClauses(SuiteBase):
    def test_blob_not_found_names_all_and_is_file_not_found_error(
        self, store: Store, container: str
    ) -> None:
        error = check_raises(BlobNotFound, "get_blob_text of a missing blob raises BlobNotFound",
                             store.get_blob_text, container, "missing/blob.txt")
        check_is_also(error, BlobNotFound, FileNotFoundError)
        _check_names(error, store, container, "missing/blob.txt")

    def test_blob_already_exists_names_all_and_is_file_exists_error(
        self, store: Store, container: str
    ) -> None:
        store.create_blob(container, "taken.txt", "1")
        error = check_raises(BlobAlreadyExists, "fail_if_exists: raises BlobAlreadyExists",
                             store.create_blob, container, "taken.txt", "2", fail_if_exists=True)
        check_is_also(error, BlobAlreadyExists, FileExistsError)
        _check_names(error, store, container, "taken.txt")

    def test_container_errors_name_service_and_container(
        self, store: Store, container: str
    ) -> None:
        error: Exception = check_raises(
            ContainerAlreadyExists, "Containers: create_container raises ContainerAlreadyExists",
            store.create_container, container)
        _check_names(error, store, container, None)
        missing = new_container_name()
        error = check_raises(ContainerNotFound, "list_blobs: a missing container raises "
                             "ContainerNotFound", store.list_blobs, missing)
        _check_names(error, store, missing, None)
        error = check_raises(ContainerNotFound, "create_blob in a missing container raises "
                             "ContainerNotFound", store.create_blob, missing, "a/b.txt", "x")
        _check_names(error, store, missing, "a/b.txt")

    def test_invalid_name_names_all_and_is_value_error(
        self, store: Store, container: str
    ) -> None:
        for bad in ("a//b", "x" * 1025):
            error = check_raises(InvalidName, NAMES, store.get_blob_text, container, bad)
            check_is_also(error, InvalidName, ValueError)
            _check_names(error, store, container, None)
