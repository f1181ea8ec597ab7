"""Metadata given at upload, on the Store's side (docs/contract.md §1 "Metadata"): where the
provider cannot store it in the same write the Store sets it after the write, bad metadata
is refused before any write, and a provider's own writer that takes none refuses it; and the
conformance clauses about it (and about ``BlobProperties.checksums``) fail for providers that
break them."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pytest

import xtstore
from xtstore.errors import InvalidArgument, Unsupported
from xtstore.interface import ProgressCallback, StoreInterface, Text
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store
from xtstore.testing import SuiteOptions, run_conformance
from xtstore.testing.clauses_create_metadata import (
    FAILED,
    FOLLOWS,
    READ_BACK,
    SAME_WRITE,
    TRUE_HASH,
)
from xtstore.values import BlobInfo, BlobProperties, Capabilities
from xtstore.writer import BlobWriter

HERE = __name__
TAGS = {"stage": "train", "mtime": "1764633600.123456789"}


class XtSignatures(MemoryProvider):
    """store-memory with XT's upload signatures (no ``metadata`` keyword) and without
    ``create_metadata``, recording the calls the Store makes."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def capabilities(self) -> Capabilities:
        return replace(super().capabilities(), create_metadata=False)

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        self.calls.append(("create_blob", ()))
        super().create_blob(container, blob_path, text, fail_if_exists)

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: ProgressCallback | None = None) -> None:
        self.calls.append(("create_blob_from_path", ()))
        super().create_blob_from_path(container, blob_path, source_fn, progress_callback)

    def create_blob_from_stream(self, container: str, blob_path: str, stream: IO[bytes],
                                length: int | None = None,
                                progress_callback: ProgressCallback | None = None,
                                **keywords: Any) -> None:
        self.calls.append(("create_blob_from_stream", tuple(sorted(keywords))))
        super().create_blob_from_stream(container, blob_path, stream, length,
                                        progress_callback, **keywords)

    # The interface's own writer (a local spool uploaded by create_blob_from_stream).
    open_blob_writer = StoreInterface.open_blob_writer

    def set_blob_metadata(self, container: str, blob_path: str,
                          metadata: Mapping[str, str]) -> None:
        self.calls.append(("set_blob_metadata", tuple(sorted(metadata))))
        super().set_blob_metadata(container, blob_path, metadata)


class KeywordLessMethods(MemoryProvider):
    """store-memory (``create_metadata`` True) with a subclass's create_blob in XT's
    signature: the Store must not pass it metadata, and sets it after the write."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.calls: list[str] = []

    def create_blob(self, container: str, blob_path: str, text: Text,
                    fail_if_exists: bool = False) -> None:
        self.calls.append("create_blob")
        super().create_blob(container, blob_path, text, fail_if_exists)

    def set_blob_metadata(self, container: str, blob_path: str,
                          metadata: Mapping[str, str]) -> None:
        self.calls.append("set_blob_metadata")
        super().set_blob_metadata(container, blob_path, metadata)


class OwnWriterWithoutMetadata(MemoryProvider):
    """A writer of its own in the signature before 2.5 (no ``metadata`` keyword)."""

    def open_blob_writer(self, container: str, blob_path: str, *,
                         content_type: str | None = None) -> BlobWriter:
        return super().open_blob_writer(container, blob_path, content_type=content_type)


def store_of(provider: str, **settings: Any) -> Store:
    return xtstore.get_storage("svc", config={"external-services": {"svc": {
        "type": "storage", "provider": provider, **settings}}})


def uploads(store: Store, source: Path) -> dict[str, Callable[[str, Any], None]]:
    source.write_bytes(b"content")

    def by_writer(blob: str, metadata: Any) -> None:
        with store.open_blob("runs", blob, mode="wb", metadata=metadata) as writer:
            writer.write(b"content")

    return {
        "create_blob": lambda blob, metadata: store.create_blob("runs", blob, "content",
                                                                metadata=metadata),
        "create_blob_from_path": lambda blob, metadata: store.create_blob_from_path(
            "runs", blob, str(source), metadata=metadata),
        "create_blob_from_stream": lambda blob, metadata: store.create_blob_from_stream(
            "runs", blob, io.BytesIO(b"content"), metadata=metadata),
        "open_blob": by_writer,
    }


def test_xt_style_provider_gets_the_metadata_set_after_the_write(tmp_path: Path) -> None:
    store = store_of(f"{HERE}.XtSignatures")
    provider = store.provider
    assert isinstance(provider, XtSignatures)
    store.create_container("runs")
    for method, upload in uploads(store, tmp_path / "source.bin").items():
        provider.calls.clear()
        upload(f"{method}.bin", TAGS)
        assert store.get_blob_bytes("runs", f"{method}.bin") == b"content"
        assert store.get_blob_metadata("runs", f"{method}.bin") == TAGS
        # The write took no metadata keyword (XT's signature), then the metadata was set.
        written = "create_blob_from_stream" if method == "open_blob" else method
        assert provider.calls[0][0] == written, provider.calls
        assert "metadata" not in provider.calls[0][1], provider.calls
        assert provider.calls[-1] == ("set_blob_metadata", ("mtime", "stage")), provider.calls
        assert [name for name, _ in provider.calls].count("set_blob_metadata") == 1


def test_method_without_the_keyword_gets_the_metadata_set_after_the_write() -> None:
    store = store_of(f"{HERE}.KeywordLessMethods")
    provider = store.provider
    assert isinstance(provider, KeywordLessMethods)
    assert store.capabilities().create_metadata
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "a", metadata=TAGS)
    assert provider.calls == ["create_blob", "set_blob_metadata"]
    assert store.get_blob_metadata("runs", "a.txt") == TAGS
    provider.calls.clear()
    store.create_blob_from_stream("runs", "b.txt", io.BytesIO(b"b"), metadata=TAGS)
    assert provider.calls == []  # memory's own method takes it: one write, nothing after
    assert store.get_blob_metadata("runs", "b.txt") == TAGS


@pytest.mark.parametrize("bad", [{"epoch": 3}, {3: "epoch"}, {"epoch": None}, ["epoch"],
                                 "epoch=3", 3, [("epoch", "3")]],
                         ids=["int value", "int key", "None value", "list", "str", "int",
                              "pairs"])
def test_bad_metadata_raises_invalid_argument_before_any_write(bad: Any,
                                                                tmp_path: Path) -> None:
    for provider in (f"{HERE}.XtSignatures", "store-memory"):
        store = store_of(provider)
        store.create_container("runs")
        store.create_blob("runs", "kept.bin", "old", metadata={"stage": "old"})
        calls = getattr(store.provider, "calls", [])
        calls.clear()
        for method, upload in uploads(store, tmp_path / "source.bin").items():
            for blob in ("new.bin", "kept.bin"):
                with pytest.raises(InvalidArgument) as caught:
                    upload(blob, bad)
                message = str(caught.value)
                assert "metadata must be a mapping of str to str" in message, message
                assert "svc" in message and "runs" in message and blob in message, message
                assert isinstance(caught.value, ValueError)
                assert not store.does_blob_exist("runs", "new.bin"), method
                assert store.get_blob_text("runs", "kept.bin") == "old", method
                assert store.get_blob_metadata("runs", "kept.bin") == {"stage": "old"}
        assert calls == []


@pytest.mark.parametrize("provider", [f"{HERE}.OwnWriterWithoutMetadata", "store-fsspec"])
def test_writer_of_its_own_without_the_keyword_refuses_metadata(provider: str) -> None:
    settings = {"url": "memory://store-metadata-writer"} if provider == "store-fsspec" else {}
    store = store_of(provider, **settings)
    store.create_container("runs")
    with pytest.raises(Unsupported) as caught:
        store.open_blob("runs", "w.bin", mode="wb", metadata=TAGS)
    message = str(caught.value)
    assert "set_blob_metadata" in message and "runs" in message and "w.bin" in message
    assert not store.does_blob_exist("runs", "w.bin")
    with store.open_blob("runs", "w.bin", mode="wb") as writer:  # without metadata: written
        writer.write(b"plain")
    assert store.get_blob_bytes("runs", "w.bin") == b"plain"
    # An upload by a create method still gets its metadata (set after the write).
    store.create_blob("runs", "c.bin", "c", metadata=TAGS)
    assert store.get_blob_metadata("runs", "c.bin") == TAGS
    store.delete_container("runs")


# ---- providers that break one clause each ----


class MetadataAfterTheWrite(MemoryProvider):
    """Claims create_metadata but sets the metadata a moment after the content."""

    def _put(self, container: str, blob_path: str, data: bytes, fail_if_exists: bool,
             content_type: str | None, metadata: Mapping[str, str] | None) -> None:
        super()._put(container, blob_path, data, fail_if_exists, content_type, None)
        if metadata:
            time.sleep(0.002)
            self.set_blob_metadata(container, blob_path, metadata)


class DropsUploadMetadata(MemoryProvider):
    """Takes metadata= on every upload and keeps none of it."""

    def _put(self, container: str, blob_path: str, data: bytes, fail_if_exists: bool,
             content_type: str | None, metadata: Mapping[str, str] | None) -> None:
        super()._put(container, blob_path, data, fail_if_exists, content_type, None)


class MetadataBeforeTheStream(MemoryProvider):
    """Sets a stream upload's metadata on the old blob before reading the stream."""

    def create_blob_from_stream(self, container: str, blob_path: str, stream: IO[bytes],
                                length: int | None = None,
                                progress_callback: ProgressCallback | None = None, *,
                                content_type: str | None = None,
                                metadata: Mapping[str, str] | None = None) -> None:
        if metadata is not None and self.does_blob_exist(container, blob_path):
            self.set_blob_metadata(container, blob_path, metadata)
        super().create_blob_from_stream(container, blob_path, stream, length,
                                        progress_callback, content_type=content_type,
                                        metadata=metadata)


class _Md5Reporting(MemoryProvider):
    def md5(self, container: str, blob_path: str, data: bytes) -> str:
        return hashlib.md5(data).hexdigest()

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        info = super().get_blob_properties(container, blob_path)
        props = info.properties
        assert props is not None
        data = self.get_blob_bytes(container, blob_path)
        return BlobInfo(blob_path, properties=BlobProperties(
            props.content_length, props.last_modified, props.modified_ns, props.etag,
            props.content_type, props.metadata,
            checksums={"md5": self.md5(container, blob_path, data)}))


class WrongChecksum(_Md5Reporting):
    """States an MD5 of the content without its last byte."""

    def md5(self, container: str, blob_path: str, data: bytes) -> str:
        return hashlib.md5(data[:-1]).hexdigest()


class StaleChecksum(_Md5Reporting):
    """States the MD5 of the first content written under each name, for ever."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self._first: dict[tuple[str, str], str] = {}

    def md5(self, container: str, blob_path: str, data: bytes) -> str:
        return self._first.setdefault((container, blob_path), hashlib.md5(data).hexdigest())


OPTIONS = SuiteOptions(bounded_memory=False, large_blob_size=2 * 2**20)


BROKEN_CASES = [
    ("MetadataAfterTheWrite", "same_write", "metadata_is_stored_in_the_same_write_as_the_content",
     SAME_WRITE),
    ("DropsUploadMetadata", "read_back", "metadata_given_at_upload_is_read_back_exactly",
     READ_BACK),
    ("MetadataBeforeTheStream", "failed_upload",
     "failed_upload_with_metadata_leaves_the_old_blob_and_its_metadata", FAILED),
    ("WrongChecksum", "true_hash", "checksums_state_the_true_hash_of_the_content", TRUE_HASH),
    ("StaleChecksum", "checksums_follow", "checksums_follow_the_content_after_an_overwrite",
     FOLLOWS),
]
"""(provider, pytest -k expression, the clause it breaks, that clause's quote)."""


@pytest.mark.parametrize(("provider", "select", "clause", "quote"), BROKEN_CASES,
                         ids=[case[0] for case in BROKEN_CASES])
def test_clause_fails_for_the_provider_that_breaks_it(provider: str, select: str,
                                                      clause: str, quote: str) -> None:
    report = run_conformance(lambda: store_of(f"{HERE}.{provider}"), OPTIONS, select=select)
    failed = {result.clause: result.message for result in report.failed}
    assert clause in failed, report.results
    assert failed[clause].startswith(f"{quote} — "), failed[clause]


def test_the_same_providers_pass_the_clauses_they_do_not_break() -> None:
    # The checksum breakers keep metadata right, the metadata breakers state no checksums.
    for provider, select in (("WrongChecksum", "metadata"), ("StaleChecksum", "metadata"),
                             ("DropsUploadMetadata", "checksums"),
                             ("MetadataAfterTheWrite", "checksums")):
        report = run_conformance(lambda p=provider: store_of(f"{HERE}.{p}"), OPTIONS,
                                 select=select)
        assert report.ok and not report.skipped, (provider, report.results)
