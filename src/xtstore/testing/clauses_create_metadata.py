"""Clauses "Metadata" (given at upload) and "Checksums" of docs/contract.md §1: metadata given
to an upload is stored in the same write as the content where ``capabilities().create_metadata``,
and ``BlobProperties.checksums`` states only true hashes of the content, on every store."""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import itertools
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from xtstore.errors import Unsupported
from xtstore.fingerprints import MTIME_KEY, format_mtime, mtime_ns, new_hasher, parse_mtime
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, put_bytes
from xtstore.testing.checks import (
    check,
    check_equal,
    check_raises,
    fail,
    precondition,
    properties_of,
    require_feature,
    short,
)
from xtstore.testing.clauses_ranges import check_bytes
from xtstore.testing.clauses_writers import crossing_size
from xtstore.values import CHECKSUM_ALGORITHMS, BlobProperties, Support

__all__ = ["ChecksumClauses", "CreateMetadataClauses"]

READ_BACK = ("Metadata: metadata given to create_blob, create_blob_from_path, "
             "create_blob_from_stream or open_blob(mode='wb') is read back exactly by "
             "get_blob_properties and get_blob_metadata")
REPLACES = ("Metadata: metadata given at upload replaces all the old blob's metadata; an "
            "upload without metadata leaves none")
SAME_WRITE = ("Metadata: where capabilities().create_metadata, the metadata is stored in the "
              "same write as the content: no reader sees the new content without it")
COPIED = "Metadata: copy_blob copies metadata given at upload to the destination"
FAILED = ("Metadata: an upload with metadata that fails or is aborted leaves no blob, or the "
          "old blob with its old content and metadata")
MTIME = ("Metadata: an mtime written by fingerprints.format_mtime round-trips to the "
         "nanosecond")
TRUE_HASH = ("Checksums: each algorithm in BlobProperties.checksums states the true hash of "
             "the content (lower-case hex), in get_blob_properties and in listings")
FOLLOWS = "Checksums: after an overwrite the checksums state the new content's hashes"

METHODS = ("create_blob", "create_blob_from_path", "create_blob_from_stream",
           "open_blob_writer")
"""The provider methods that take ``metadata=`` where ``capabilities().create_metadata``."""
TAGS = {"stage": "train", "run_id": "exp-7 lr=0.1, seed 3"}
"""Metadata every store keeps as given: identifier keys in lower case (Azure, S3), ASCII."""
OVERWRITES = 12
"""Overwrites by each of the two writers of the same-write clause."""
HEX_DIGITS = {"md5": 32, "crc32c": 8, "sha256": 64, "crc32": 8}


@functools.lru_cache(maxsize=16)
def true_hash(algorithm: str, data: bytes) -> str:
    """What ``checksums[algorithm]`` must be for content ``data`` (xtstore.fingerprints'
    hashers: hashlib, zlib's CRC-32 and CRC-32C)."""
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return hasher.hexdigest()


def check_checksums(props: BlobProperties, data: bytes, clause: str, what: str) -> None:
    """Every checksum ``props`` states is a known algorithm's true hash of ``data``."""
    checksums = props.checksums
    check(isinstance(checksums, dict), clause, f"{what}: checksums is {short(checksums)}")
    for algorithm, value in checksums.items():
        check(algorithm in CHECKSUM_ALGORITHMS, clause,
              f"{what}: {algorithm!r} is none of {CHECKSUM_ALGORITHMS}")
        digits = HEX_DIGITS[algorithm]
        check(isinstance(value, str) and re.fullmatch(f"[0-9a-f]{{{digits}}}", value), clause,
              f"{what}: {algorithm} is {short(value)}, not {digits} lower-case hex digits")
        check_equal(value, true_hash(algorithm, data), clause,
                    f"{what}: {algorithm} of the {len(data)} bytes")


def properties(store: Store, container: str, blob: str) -> BlobProperties:
    return properties_of(store.get_blob_properties(container, blob),
                         "Properties: get_blob_properties has .properties", blob)


def listed_properties(store: Store, container: str) -> dict[str, BlobProperties]:
    """Each blob's properties as ``list_blobs(return_names=False)`` gives them."""
    entries = store.list_blobs(container, return_names=False)
    return {entry.name: properties_of(entry, TRUE_HASH, f"listing entry {entry.name}")
            for entry in entries if not isinstance(entry, str) and not entry.is_dir}


def check_metadata(store: Store, container: str, blob: str, wanted: Mapping[str, str],
                   clause: str, what: str) -> None:
    """``get_blob_metadata`` and ``get_blob_properties(...).metadata`` are both ``wanted``."""
    check_equal(store.get_blob_metadata(container, blob), dict(wanted), clause,
                f"{what}: get_blob_metadata")
    check_equal(store.get_blob_properties(container, blob).metadata, dict(wanted), clause,
                f"{what}: get_blob_properties(...).metadata")


def uploaders(store: Store, container: str, tmp_path: Path
              ) -> dict[str, Callable[[str, bytes, dict[str, Any]], None]]:
    """``method -> upload(blob, content, keywords)`` for the four uploads taking metadata=."""
    def from_text(blob: str, data: bytes, keywords: dict[str, Any]) -> None:
        store.create_blob(container, blob, data.decode("ascii"), **keywords)

    sources = itertools.count()

    def from_path(blob: str, data: bytes, keywords: dict[str, Any]) -> None:
        source = tmp_path / f"upload-{next(sources)}.bin"  # one each: writers run at once
        source.write_bytes(data)
        store.create_blob_from_path(container, blob, str(source), **keywords)

    def from_stream(blob: str, data: bytes, keywords: dict[str, Any]) -> None:
        store.create_blob_from_stream(container, blob, io.BytesIO(data), **keywords)

    def by_writer(blob: str, data: bytes, keywords: dict[str, Any]) -> None:
        with store.open_blob(container, blob, mode="wb", **keywords) as writer:
            writer.write(data)

    return {"create_blob": from_text, "create_blob_from_path": from_path,
            "create_blob_from_stream": from_stream, "open_blob(mode='wb')": by_writer}


def _takes_metadata(method: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(parameter.kind is inspect.Parameter.VAR_KEYWORD or parameter.name == "metadata"
               for parameter in parameters)


def require_create_metadata(store: Store, container: str) -> None:
    """Skip the calling clause where ``capabilities().create_metadata`` is False, after
    checking that an upload with metadata still keeps it where the store keeps metadata at all
    (the Store sets it after the write) or raises ``Unsupported`` once the content is written.
    Where it is True, check that the store keeps metadata and that each provider method takes
    ``metadata=`` (else the Store would quietly set it after the write instead)."""
    capabilities = store.capabilities()
    if capabilities.create_metadata:
        check(capabilities.metadata is not Support.UNSUPPORTED, SAME_WRITE,
              "capabilities() reports create_metadata with metadata UNSUPPORTED")
        without = [name for name in METHODS
                   if not _takes_metadata(getattr(store.provider, name))]
        check(not without, SAME_WRITE,
              f"{type(store.provider).__name__}.{', '.join(without)} take no metadata keyword")
        return
    wanted = {"proof": "set-after-the-write"}
    if capabilities.metadata is Support.UNSUPPORTED:
        check_raises(Unsupported, "capabilities: a feature reported UNSUPPORTED (metadata) "
                     "raises Unsupported", store.create_blob, container, "proof.txt", "p",
                     metadata=wanted)
        how = "raises Unsupported once the content is written (metadata is UNSUPPORTED)"
    else:
        store.create_blob(container, "proof.txt", "p", metadata=wanted)
        check_metadata(store, container, "proof.txt", wanted, READ_BACK,
                       "create_blob(metadata=...) without create_metadata")
        how = "is set by the Store after the write and reads back"
    check_equal(store.get_blob_text(container, "proof.txt"), "p", READ_BACK,
                "the content of an upload with metadata")
    pytest.skip(f"capabilities().create_metadata is False: the metadata of an upload {how}, "
                "not in the same write")


class _FailingStream(io.RawIOBase):
    """Yields ``head``, then raises: an upload that fails part-way. Not seekable, so the
    Store cannot retry it."""

    def __init__(self, head: bytes) -> None:
        self._head = head

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._head:
            raise OSError("the source broke part-way (a test of the conformance suite)")
        count = min(len(buffer), len(self._head))
        buffer[:count] = self._head[:count]
        self._head = self._head[count:]
        return count


class CreateMetadataClauses(SuiteBase):
    def test_metadata_given_at_upload_is_read_back_exactly(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        require_create_metadata(store, container)
        for number, (method, upload) in enumerate(uploaders(store, container,
                                                            tmp_path).items()):
            blob = f"tagged/{number}.bin"
            data = f"content of {method}\n".encode()
            wanted = {**TAGS, "method": method.split("(")[0]}
            upload(blob, data, {"metadata": wanted})
            check_bytes(store.get_blob_bytes(container, blob), data, READ_BACK, method)
            check_metadata(store, container, blob, wanted, READ_BACK, method)

    def test_metadata_given_at_upload_replaces_the_old_metadata(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        require_create_metadata(store, container)
        for number, (method, upload) in enumerate(uploaders(store, container,
                                                            tmp_path).items()):
            blob = f"re/{number}.bin"
            with precondition(REPLACES, "writing the old version with its metadata"):
                put_bytes(store, container, blob, b"old content")
                store.set_blob_metadata(container, blob, {"stage": "old", "stale": "yes"})
            upload(blob, b"new content", {"metadata": {"stage": "new"}})
            check_bytes(store.get_blob_bytes(container, blob), b"new content", REPLACES, method)
            check_metadata(store, container, blob, {"stage": "new"}, REPLACES,
                           f"{method} over a blob with metadata")
            upload(blob, b"newer content", {"metadata": {}})
            check_metadata(store, container, blob, {}, REPLACES,
                           f"{method}(metadata={{}}) over a blob with metadata")

    def test_upload_without_metadata_leaves_none(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        # What every store does today (docs/contract.md §1 "Metadata": writing content resets
        # it), so it runs wherever the store keeps metadata, create_metadata or not.
        with precondition(REPLACES, "writing a blob to set metadata on"):
            put_bytes(store, container, "probe.txt", b"probe")
        require_feature(store, "metadata", lambda: store.set_blob_metadata(
            container, "probe.txt", {"stage": "old"}))
        for number, (method, upload) in enumerate(uploaders(store, container,
                                                            tmp_path).items()):
            blob = f"plain/{number}.bin"
            with precondition(REPLACES, "writing the old version with its metadata"):
                put_bytes(store, container, blob, b"old content")
                store.set_blob_metadata(container, blob, {"stage": "old"})
            upload(blob, b"new content", {})
            check_bytes(store.get_blob_bytes(container, blob), b"new content", REPLACES, method)
            check_metadata(store, container, blob, {}, REPLACES,
                           f"{method} without metadata over a blob with metadata")

    def test_metadata_is_stored_in_the_same_write_as_the_content(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        require_create_metadata(store, container)
        blob = "same.bin"
        with precondition(SAME_WRITE, "writing the old version with its metadata"):
            store.create_blob(container, blob, "x", metadata={"length": "1"})
        # A writer holds its content until close(): the old blob and its metadata until then.
        writer = store.open_blob(container, blob, mode="wb", metadata={"length": "2"})
        writer.write(b"yy")
        check_metadata(store, container, blob, {"length": "1"}, SAME_WRITE,
                       "a writer written but not closed")
        writer.close()
        check_metadata(store, container, blob, {"length": "2"}, SAME_WRITE,
                       "after the writer's close()")
        # Two writers overwrite it by every method, each content's length in its metadata: a
        # reader polling the properties must never see one length with another's metadata,
        # nor may the last write be left with a lost race's metadata.
        methods = list(uploaders(store, container, tmp_path).items())
        errors: list[BaseException] = []

        def overwrite(first: int) -> None:
            try:
                for length in range(first, first + 2 * OVERWRITES, 2):
                    method, upload = methods[length % len(methods)]
                    upload(blob, b"z" * length, {"metadata": {"length": str(length),
                                                              "method": method}})
            except BaseException as error:  # reported by the reader below
                errors.append(error)

        writers = [threading.Thread(target=overwrite, args=(first,), daemon=True)
                   for first in (3, 4)]
        for thread in writers:
            thread.start()
        seen = 0
        try:
            while any(thread.is_alive() for thread in writers) or seen == 0:
                self._check_consistent(store, container, blob, "a reader saw")
                seen += 1
        finally:
            for thread in writers:
                thread.join(timeout=self.options.concurrency_timeout)
        if errors:
            fail(SAME_WRITE, f"an overwrite raised {type(errors[0]).__name__}: {errors[0]}")
        self._check_consistent(store, container, blob, "after the overwrites the blob has")

    def _check_consistent(self, store: Store, container: str, blob: str, how: str) -> None:
        props = properties(store, container, blob)
        if props.metadata.get("length") != str(props.content_length):
            fail(SAME_WRITE, f"{how} {props.content_length} bytes with metadata "
                 f"{short(props.metadata)}, not the metadata written with that content")

    def test_copy_blob_carries_metadata_given_at_upload(
        self, store: Store, make_container: Callable[[], str], tmp_path: Path
    ) -> None:
        source, dest = make_container(), make_container()
        require_create_metadata(store, source)
        store.create_blob(source, "tagged.txt", "tagged", metadata=TAGS)
        require_feature(store, "server_side_copy", lambda: store.copy_blob(
            source, "tagged.txt", dest, "probe.txt"))
        store.create_blob(dest, "older.txt", "older", metadata={"stale": "yes"})
        store.copy_blob(source, "tagged.txt", dest, "older.txt")
        store.copy_blob(source, "tagged.txt", source, "fresh/copy.txt")
        check_metadata(store, dest, "older.txt", TAGS, COPIED,
                       "a copy to another container over a blob with metadata of its own")
        check_metadata(store, source, "fresh/copy.txt", TAGS, COPIED, "a copy to a new name")
        check_equal(store.get_blob_text(dest, "older.txt"), "tagged", COPIED, "the copy's content")

    def test_failed_upload_with_metadata_leaves_the_old_blob_and_its_metadata(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        require_create_metadata(store, container)
        size = crossing_size(self.options)
        data = b"f" * size

        class _Stop(Exception):
            pass

        def in_with_block(blob: str) -> None:
            with contextlib.suppress(_Stop), \
                    store.open_blob(container, blob, mode="wb", metadata=TAGS) as writer:
                writer.write(data)
                raise _Stop

        def by_abort(blob: str) -> None:
            writer = store.open_blob(container, blob, mode="wb", metadata=TAGS)
            writer.write(data)
            writer.abort()  # type: ignore[attr-defined]

        def broken_stream(blob: str) -> None:
            stream = io.BufferedReader(_FailingStream(data[: 2 * 1024 * 1024]))
            with contextlib.suppress(Exception):
                store.create_blob_from_stream(container, blob, stream, metadata=TAGS)

        ways: list[tuple[str, Callable[[str], None]]] = [
            ("an exception left the writer's with block", in_with_block),
            ("the writer's abort()", by_abort),
            ("create_blob_from_stream's stream raised part-way", broken_stream)]
        for how, end in ways:
            for blob, old in (("fresh.bin", None), ("kept.bin", b"old content")):
                if old is not None:
                    with precondition(FAILED, "writing the old version with its metadata"):
                        store.create_blob(container, blob, old.decode(),
                                          metadata={"stage": "old"})
                end(blob)
                if old is None:
                    check(not store.does_blob_exist(container, blob), FAILED,
                          f"{how}: {blob} exists, though it did not before")
                    continue
                check_bytes(store.get_blob_bytes(container, blob), old, FAILED,
                            f"{how}: the old blob's content")
                check_metadata(store, container, blob, {"stage": "old"}, FAILED,
                               f"{how}: the old blob")
        check_equal(sorted(str(name) for name in store.list_blobs(container)), ["kept.bin"],
                    FAILED, "the listing after the failed uploads")

    def test_mtime_metadata_round_trips_to_the_nanosecond(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        require_create_metadata(store, container)
        for number, (method, upload) in enumerate(uploaders(store, container,
                                                            tmp_path).items()):
            modified_ns = 1_764_633_600_123_456_789 + number * 1_000_000_007
            stated = format_mtime(modified_ns)
            blob = f"timed/{number}.bin"
            upload(blob, b"timed", {"metadata": {MTIME_KEY: stated}})
            metadata = store.get_blob_metadata(container, blob)
            check_equal(metadata.get(MTIME_KEY), stated, MTIME, f"{method}: the mtime stored")
            check_equal(parse_mtime(metadata.get(MTIME_KEY, "")), modified_ns, MTIME,
                        f"{method}: parse_mtime of it")
            check_equal(mtime_ns(properties(store, container, blob)), modified_ns, MTIME,
                        f"{method}: fingerprints.mtime_ns of the blob's properties")


class ChecksumClauses(SuiteBase):
    def _written(self, store: Store, container: str, tmp_path: Path) -> dict[str, bytes]:
        """Blobs written every way (an empty one, small ones, one through a writer of
        several parts: an S3 multipart upload, whose ETag is no MD5), by name."""
        contents = {
            "empty.bin": b"",
            "text.txt": b"checksums of a str\n",
            "path.bin": bytes(range(256)) * 5,
            "stream.bin": b"streamed " * 999,
            "parts.bin": bytes(range(251)) * (crossing_size(self.options) // 251 + 1),
        }
        with precondition(TRUE_HASH, "writing the blobs"):
            store.create_blob(container, "text.txt", contents["text.txt"].decode())
            put_bytes(store, container, "empty.bin", b"")
            put_bytes(store, container, "path.bin", contents["path.bin"])
            store.create_blob_from_stream(container, "stream.bin",
                                          io.BytesIO(contents["stream.bin"]))
            with store.open_blob(container, "parts.bin", mode="wb") as writer:
                writer.write(contents["parts.bin"])
        return contents

    def test_checksums_state_the_true_hash_of_the_content(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        contents = self._written(store, container, tmp_path)
        if store.capabilities().server_side_copy is not Support.UNSUPPORTED:
            store.copy_blob(container, "path.bin", container, "copied.bin")
            contents["copied.bin"] = contents["path.bin"]
        for blob, data in contents.items():
            check_checksums(properties(store, container, blob), data, TRUE_HASH,
                            f"get_blob_properties of {blob}")
        listed = listed_properties(store, container)
        check_equal(sorted(listed), sorted(contents), TRUE_HASH, "the blobs listed")
        for blob, props in listed.items():
            check_checksums(props, contents[blob], TRUE_HASH, f"the listing entry of {blob}")

    def test_checksums_follow_the_content_after_an_overwrite(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        old, new = b"A" * 4096, b"B" * 4096  # one size: only the hashes tell them apart
        ways = uploaders(store, container, tmp_path)
        for number, (method, upload) in enumerate(ways.items()):
            blob = f"over/{number}.bin"
            with precondition(FOLLOWS, "writing the old version"):
                put_bytes(store, container, blob, old)
            check_checksums(properties(store, container, blob), old, FOLLOWS,
                            f"{blob} before the overwrite")
            upload(blob, new, {})
            check_checksums(properties(store, container, blob), new, FOLLOWS,
                            f"{blob} after {method} overwrote it")
        for blob, props in listed_properties(store, container).items():
            check_checksums(props, new, FOLLOWS, f"the listing entry of {blob}")
