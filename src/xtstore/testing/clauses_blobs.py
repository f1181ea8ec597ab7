"""Clauses "Text and bytes", "fail_if_exists" (single caller), "Properties", "copy_blob" and
"delete_blob" / "delete_blobs" of docs/contract.md §1."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from xtstore.errors import BlobAlreadyExists, BlobNotFound
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, put_bytes
from xtstore.testing.checks import (
    check,
    check_equal,
    check_is_also,
    check_raises,
    precondition,
    properties_of,
    require_feature,
)
from xtstore.testing.clauses_containers import check_utc_now
from xtstore.values import BlobInfo

__all__ = ["BlobClauses", "check_blob_info"]

ALL_BYTES = bytes(range(256)) * 4 + b"\r\n\x00\xff"
TEXT = "héllo wörld ☃ 𝄞\r\nline two\n"
SHAPE = ("list_blobs: return_names=False gives objects with .name, .is_dir and .properties "
         "(.content_length int, .last_modified UTC, .modified_ns int, .etag str)")


def check_blob_info(info: object, name: str, size: int, clause: str = SHAPE) -> None:
    """``info`` is a blob entry (not a folder) named ``name`` holding ``size`` bytes."""
    check(isinstance(info, BlobInfo), clause, f"got {type(info).__name__}, not BlobInfo")
    assert isinstance(info, BlobInfo)
    check_equal(info.name, name, clause, ".name")
    check(info.is_dir is False, clause, f"{name}: .is_dir is {info.is_dir!r} for a blob")
    props = info.properties
    check(props is not None, clause, f"{name}: .properties is None")
    assert props is not None
    check(type(props.content_length) is int, clause,
          f"{name}: .content_length is {type(props.content_length).__name__}")
    check_equal(props.content_length, size, clause, f"{name}: .content_length")
    check_utc_now(props.last_modified, clause, f"{name}: .last_modified")
    check(type(props.modified_ns) is int, clause,
          f"{name}: .modified_ns is {type(props.modified_ns).__name__}")
    seconds = props.last_modified.timestamp()
    check(abs(props.modified_ns / 1e9 - seconds) < 1.0, clause,
          f"{name}: .modified_ns {props.modified_ns} is not .last_modified {seconds} in ns")
    check(isinstance(props.etag, str) and props.etag != "", clause,
          f"{name}: .etag is {props.etag!r}")


class BlobClauses(SuiteBase):
    # ---- text and bytes ----

    def test_str_is_stored_as_utf8(self, store: Store, container: str, tmp_path: Path) -> None:
        clause = "Text and bytes: create_blob takes str, stored as UTF-8"
        store.create_blob(container, "text.txt", TEXT)
        check_equal(store.get_blob_bytes(container, "text.txt"), TEXT.encode("utf-8"), clause,
                    "stored bytes")
        dest = tmp_path / "text.txt"
        store.get_blob_to_path(container, "text.txt", str(dest))
        check_equal(dest.read_bytes(), TEXT.encode("utf-8"), clause, "downloaded bytes")

    def test_bytes_are_stored_exactly_all_256_values(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        clause = "Text and bytes: create_blob takes bytes, stored exactly"
        store.create_blob(container, "bytes.bin", ALL_BYTES)
        dest = tmp_path / "bytes.bin"
        store.get_blob_to_path(container, "bytes.bin", str(dest))
        check_equal(dest.read_bytes(), ALL_BYTES, clause, "downloaded bytes")
        check_equal(store.get_blob_bytes(container, "bytes.bin"), ALL_BYTES, clause,
                    "get_blob_bytes")

    def test_get_blob_text_returns_str(self, store: Store, container: str) -> None:
        clause = "Text and bytes: get_blob_text returns str"
        with precondition(clause, "uploading UTF-8 bytes with create_blob_from_path"):
            put_bytes(store, container, "from-bytes.txt", TEXT.encode("utf-8"))
        text = store.get_blob_text(container, "from-bytes.txt")
        check(isinstance(text, str), clause, f"got {type(text).__name__}")
        check_equal(text, TEXT, clause, "text")

    def test_create_blob_overwrites_and_does_blob_exist(self, store: Store, container: str) -> None:
        clause = "create_blob writes the whole blob, replacing what was there"
        check(not store.does_blob_exist(container, "a/b.txt"), clause, "exists before create")
        store.create_blob(container, "a/b.txt", "first, longer content")
        store.create_blob(container, "a/b.txt", "second")
        check(store.does_blob_exist(container, "a/b.txt"), clause, "missing after create")
        check(not store.does_blob_exist(container, "a"), "does_blob_exist: a folder is not a "
              "blob", "does_blob_exist(container, 'a') is True")
        check_equal(store.get_blob_text(container, "a/b.txt"), "second", clause, "content")

    # ---- fail_if_exists ----

    def test_fail_if_exists_raises_blob_already_exists(self, store: Store, container: str) -> None:
        clause = "fail_if_exists: with True, create_blob raises BlobAlreadyExists if it exists"
        require_feature(store, "conditional_writes", lambda: store.create_blob(
            container, "probe.txt", "x", fail_if_exists=True))
        store.create_blob(container, "once.txt", "original", fail_if_exists=True)
        check_equal(store.get_blob_text(container, "once.txt"), "original", clause,
                    "content of the new blob")
        error = check_raises(BlobAlreadyExists, clause, store.create_blob, container,
                             "once.txt", "again", fail_if_exists=True)
        check_is_also(error, BlobAlreadyExists, FileExistsError)
        check_equal(store.get_blob_text(container, "once.txt"), "original", clause,
                    "content after the refused create")

    # ---- properties ----

    def test_blob_properties_have_the_listing_shape_plus_metadata(
        self, store: Store, container: str
    ) -> None:
        clause = ("Properties: get_blob_properties returns the same object shape as a listing "
                  "entry, plus .metadata")
        store.create_blob(container, "dir/props.txt", TEXT)
        size = len(TEXT.encode("utf-8"))
        info = store.get_blob_properties(container, "dir/props.txt")
        check_blob_info(info, "dir/props.txt", size, clause)
        check(isinstance(info.metadata, Mapping), clause,
              f".metadata is {type(info.metadata).__name__}")
        entries = store.list_blobs(container, return_names=False)
        check_equal(len(entries), 1, clause, "listing entries")
        entry = entries[0]
        check_blob_info(entry, "dir/props.txt", size)
        check_equal(properties_of(entry, clause, "listing entry").etag,
                    properties_of(info, clause, "get_blob_properties").etag, clause,
                    "listing etag")
        metadata = store.get_blob_metadata(container, "dir/props.txt")
        check(isinstance(metadata, dict), "Properties: get_blob_metadata returns a dict",
              f"got {type(metadata).__name__}")

    def test_etag_changes_on_every_write(self, store: Store, container: str) -> None:
        clause = "Properties: the etag changes on every write"
        etags: list[str] = []
        writes: list[Callable[[], None]] = [
            lambda: store.create_blob(container, "e.txt", "aaaa"),
            lambda: store.create_blob(container, "e.txt", "bbbb"),
            lambda: store.create_blob(container, "e.txt", "cccc"),
        ]
        if store.capabilities().append.available:
            writes.append(lambda: store.append_blob(container, "e.txt", "dddd"))
        for write in writes:
            write()
            props = properties_of(store.get_blob_properties(container, "e.txt"), clause, "e.txt")
            check(props.etag not in etags, clause,
                  f"write {len(etags) + 1} left the etag at {props.etag!r} (seen {etags})")
            etags.append(props.etag)

    def test_content_length_is_the_byte_count(self, store: Store, container: str) -> None:
        clause = "Properties: .content_length is the blob's size in bytes"
        for name, content in (("empty", ""), ("utf8", "☃☃"), ("bin", ALL_BYTES)):
            if isinstance(content, str):
                store.create_blob(container, name, content)
                expected = len(content.encode("utf-8"))
            else:
                with precondition(clause, "uploading binary content with create_blob_from_path"):
                    put_bytes(store, container, name, content)
                expected = len(content)
            props = properties_of(store.get_blob_properties(container, name), clause, name)
            check_equal(props.content_length, expected, clause, name)

    def test_blob_metadata_round_trips(self, store: Store, container: str) -> None:
        clause = "Properties: .metadata is a dict of str to str"
        store.create_blob(container, "m.txt", "x")
        wanted = {"run": "exp-1", "stage": "train"}
        require_feature(store, "metadata",
                        lambda: store.set_blob_metadata(container, "m.txt", wanted))
        store.set_blob_metadata(container, "m.txt", wanted)
        check_equal(store.get_blob_metadata(container, "m.txt"), wanted, clause,
                    "get_blob_metadata")
        check_equal(dict(store.get_blob_properties(container, "m.txt").metadata), wanted,
                    clause, "get_blob_properties(...).metadata")
        check_equal(store.get_blob_text(container, "m.txt"), "x", clause,
                    "content after setting metadata")

    def test_properties_of_missing_blob_raise_blob_not_found(
        self, store: Store, container: str
    ) -> None:
        for name, call in (("get_blob_properties", store.get_blob_properties),
                           ("get_blob_metadata", store.get_blob_metadata),
                           ("get_blob_text", store.get_blob_text)):
            check_raises(BlobNotFound, f"Errors: {name} of a missing blob raises BlobNotFound",
                         call, container, "no/such.txt")

    # ---- copy_blob ----

    def test_copy_blob_overwrites_destination_across_containers(
        self, store: Store, make_container: Callable[[], str]
    ) -> None:
        clause = "copy_blob overwrites the destination and works across containers"
        source, dest = make_container(), make_container()
        with precondition(clause, "uploading the source with create_blob_from_path"):
            put_bytes(store, source, "src/model.bin", ALL_BYTES)
        require_feature(store, "server_side_copy", lambda: store.copy_blob(
            source, "src/model.bin", dest, "probe.bin"))
        store.create_blob(dest, "dst/model.bin", "old destination content")
        store.copy_blob(source, "src/model.bin", dest, "dst/model.bin")
        check_equal(store.get_blob_bytes(dest, "dst/model.bin"), ALL_BYTES, clause,
                    "destination content")
        check_equal(store.get_blob_bytes(source, "src/model.bin"), ALL_BYTES,
                    "copy_blob leaves the source unchanged", "source content")
        store.create_blob(source, "src/model.bin", "source rewritten")
        check_equal(store.get_blob_bytes(dest, "dst/model.bin"), ALL_BYTES,
                    "copy_blob makes an independent copy: a later write to the source does "
                    "not change it", "destination content")

    def test_copy_blob_carries_the_source_metadata(self, store: Store, container: str) -> None:
        clause = "Metadata: copy_blob copies it to the destination"
        store.create_blob(container, "tagged.txt", TEXT)
        wanted = {"run": "exp-1"}
        require_feature(store, "metadata",
                        lambda: store.set_blob_metadata(container, "tagged.txt", wanted))
        require_feature(store, "server_side_copy", lambda: store.copy_blob(
            container, "tagged.txt", container, "probe-copy.txt"))
        store.set_blob_metadata(container, "tagged.txt", wanted)
        store.create_blob(container, "older.txt", "older")
        store.set_blob_metadata(container, "older.txt", {"stale": "yes"})
        store.copy_blob(container, "tagged.txt", container, "older.txt")
        store.copy_blob(container, "tagged.txt", container, "fresh/copy.txt")
        check_equal(store.get_blob_metadata(container, "older.txt"), wanted, clause,
                    "a copy over a blob with metadata of its own")
        check_equal(store.get_blob_metadata(container, "fresh/copy.txt"), wanted, clause,
                    "a copy to a new name")

    def test_copy_blob_within_one_container(self, store: Store, container: str) -> None:
        clause = "copy_blob copies within a container"
        store.create_blob(container, "a.txt", TEXT)
        require_feature(store, "server_side_copy", lambda: store.copy_blob(
            container, "a.txt", container, "probe.txt"))
        store.copy_blob(container, "a.txt", container, "copies/a.txt")
        check_equal(store.get_blob_text(container, "copies/a.txt"), TEXT, clause, "copy")
        check_equal(store.list_blobs(container), ["a.txt", "copies/a.txt"], clause, "listing")

    def test_copy_of_missing_blob_raises_blob_not_found(
        self, store: Store, container: str
    ) -> None:
        check_raises(BlobNotFound, "copy_blob of a missing source raises BlobNotFound",
                     store.copy_blob, container, "nothing.txt", container, "copy.txt")
        check(not store.does_blob_exist(container, "copy.txt"), "copy_blob of a missing "
              "source creates nothing", "the destination exists")

    # ---- delete_blob ----

    def test_delete_blob_removes_it(self, store: Store, container: str) -> None:
        clause = "delete_blob deletes the blob"
        store.create_blob(container, "d/gone.txt", "x")
        store.create_blob(container, "d/stays.txt", "y")
        store.delete_blob(container, "d/gone.txt")
        check(not store.does_blob_exist(container, "d/gone.txt"), clause, "still exists")
        check_equal(store.list_blobs(container), ["d/stays.txt"], clause, "listing")
        check_raises(BlobNotFound, clause, store.get_blob_text, container, "d/gone.txt")

    def test_delete_missing_blob_raises_blob_not_found(
        self, store: Store, container: str
    ) -> None:
        check_raises(BlobNotFound, "delete_blob of a missing blob raises BlobNotFound",
                     store.delete_blob, container, "never/was.txt")

    # ---- delete_blobs ----

    def test_delete_blobs_reports_each_name(self, store: Store, container: str) -> None:
        clause = ("delete_blobs deletes each named blob and reports each name: None where "
                  "deleted, BlobNotFound (naming it) for a missing one, the others deleted")
        names = [f"many/{index:02d}.txt" for index in range(5)]
        for name in names:
            store.create_blob(container, name, name)
        store.create_blob(container, "many/stays.txt", "y")
        asked = [names[3], "many/never.txt", *names[:3], names[4], names[0]]
        outcomes = store.delete_blobs(container, asked)
        check_equal(list(outcomes), list(dict.fromkeys(asked)), clause,
                    "the outcomes' names (in the order asked, each once)")
        check(all(outcomes[name] is None for name in names), clause,
              f"outcomes of the blobs that existed: {outcomes}")
        missing = outcomes["many/never.txt"]
        check(isinstance(missing, BlobNotFound), clause,
              f"outcome of the missing blob: {missing!r}")
        assert missing is not None
        check_equal(missing.blob, "many/never.txt", clause, "the missing blob's error .blob")
        check_equal(store.list_blobs(container), ["many/stays.txt"], clause, "listing after")
        check_equal(store.delete_blobs(container, []), {}, clause, "no names")
