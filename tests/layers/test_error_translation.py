"""A provider's one error-translation function (``translate_error``): the error layer asks it
for every exception a call lets through, and for what an ``open_blob`` stream raises while it
is read after the call returned, and names the service, container and blob. A user provider
defined here, with an SDK exception of its own, shows it through ``get_storage()``."""

from __future__ import annotations

import io
from typing import IO, Any

import pytest

import xtstore
from xtstore.errors import (
    BlobNotFound,
    ContainerNotFound,
    StoreError,
    TransientError,
)
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory import MemoryProvider
from xtstore.store import Store


class SdkError(Exception):
    """What an SDK raises: an HTTP status and an error code, and a message that quotes a
    signed URL."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code} at https://acct.example/c/b?sig=SECRET")
        self.status = status
        self.code = code


class FailingStream(io.RawIOBase):
    """A download whose connection drops after ``good`` bytes: the read, not the call, fails."""

    def __init__(self, good: bytes) -> None:
        self._left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._left:
            raise SdkError(503, "ConnectionDropped")
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


class SdkProvider(MemoryProvider):
    """A memory store whose "SDK" fails the calls named in ``failures`` with ``SdkError``,
    and which translates its own errors, recording what it was asked."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.failures: dict[str, list[SdkError]] = {}
        self.asked: list[tuple[str, bool]] = []

    def fail(self, operation: str, *errors: SdkError) -> None:
        self.failures[operation] = list(errors)

    def _maybe_fail(self, operation: str) -> None:
        pending = self.failures.get(operation)
        if pending:
            raise pending.pop(0)

    def translate_error(self, error: BaseException, *, about_blob: bool) -> StoreError | None:
        if not isinstance(error, SdkError):
            return None
        self.asked.append((error.code, about_blob))
        if error.status == 404:
            return BlobNotFound("blob not found") if about_blob else ContainerNotFound(
                "container not found")
        if error.status == 503:
            return TransientError(f"{error.status} {error.code}", status=error.status)
        return None

    def get_blob_text(self, container: str, blob_path: str) -> str:
        self._maybe_fail("get_blob_text")
        return super().get_blob_text(container, blob_path)

    def get_container_properties(self, container: str) -> Any:
        self._maybe_fail("get_container_properties")
        return super().get_container_properties(container)

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> Any:
        self._maybe_fail("list_blobs")
        return super().list_blobs(container, path, return_names, recursive)

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None
                  ) -> IO[bytes]:
        if self.failures.get("open_blob.read"):
            return io.BufferedReader(FailingStream(b"first part|"), buffer_size=4)
        return super().open_blob(container, blob_path, snapshot)


def open_store() -> tuple[Store, SdkProvider]:
    store = xtstore.get_storage("sdk", {
        "providers": {"storage": {"store-sdk": f"{__name__}.SdkProvider"}},
        "external-services": {"sdk": {"provider": "store-sdk"}},
    })
    store.set_retry(0)
    provider = store.provider
    assert isinstance(provider, SdkProvider)
    provider.create_container("runs")
    provider.create_blob("runs", "a/b.txt", "content")
    return store, provider


def test_a_providers_own_error_is_typed_and_named_through_get_storage() -> None:
    store, provider = open_store()
    provider.fail("get_blob_text", SdkError(404, "NoSuchThing"))
    with pytest.raises(BlobNotFound) as raised:
        store.get_blob_text("runs", "a/b.txt")
    error = raised.value
    assert (error.service, error.container, error.blob) == ("sdk", "runs", "a/b.txt")
    assert provider.asked == [("NoSuchThing", True)]
    # The SDK's exception is not chained: its message quotes a signed URL.
    assert error.__cause__ is None and error.__suppress_context__
    assert "SECRET" not in str(error) + repr(error)


def test_container_calls_and_listings_are_not_about_a_blob() -> None:
    store, provider = open_store()
    provider.fail("get_container_properties", SdkError(404, "Bodiless"))
    provider.fail("list_blobs", SdkError(404, "Bodiless"))
    with pytest.raises(ContainerNotFound) as on_container:
        store.get_container_properties("runs")
    with pytest.raises(ContainerNotFound) as on_listing:
        store.list_blobs("runs", "a/")
    assert provider.asked == [("Bodiless", False), ("Bodiless", False)]
    assert on_container.value.container == on_listing.value.container == "runs"


def test_a_translated_transient_error_is_retried_with_its_status() -> None:
    provider = SdkProvider({"name": "sdk"})
    store = Store(provider, "sdk", retry=RetryPolicy(attempts=3, base_delay=0.001))
    store.create_container("runs")
    store.create_blob("runs", "a/b.txt", "content")
    provider.fail("get_blob_text", SdkError(503, "Busy"), SdkError(503, "Busy"))
    assert store.get_blob_text("runs", "a/b.txt") == "content"
    provider.fail("get_blob_text", *[SdkError(503, "Busy") for _ in range(3)])
    with pytest.raises(TransientError) as raised:
        store.get_blob_text("runs", "a/b.txt")
    assert raised.value.status == 503
    assert raised.value.blob == "a/b.txt"


def test_an_error_the_provider_does_not_know_passes_as_it_is() -> None:
    store, provider = open_store()
    provider.fail("get_blob_text", SdkError(418, "Teapot"))
    with pytest.raises(SdkError):
        store.get_blob_text("runs", "a/b.txt")
    assert provider.asked == [("Teapot", True)]


def test_a_stream_read_failing_after_open_blob_returned_is_typed_and_named() -> None:
    store, provider = open_store()
    provider.fail("open_blob.read", SdkError(503, "ConnectionDropped"))
    with store.open_blob("runs", "a/b.txt") as stream:
        assert stream.read(5) == b"first"
        with pytest.raises(TransientError) as raised:
            stream.read()
    error = raised.value
    assert (error.service, error.container, error.blob) == ("sdk", "runs", "a/b.txt")
    assert error.status == 503
    assert "SECRET" not in str(error)


def test_a_stream_of_a_provider_without_translation_still_names_builtin_errors() -> None:
    store = Store(BrokenReads({"name": "mem"}), "mem")
    store.create_container("runs")
    store.create_blob("runs", "x.bin", b"data")
    with store.open_blob("runs", "x.bin") as stream, pytest.raises(TransientError) as raised:
        stream.read()
    assert (raised.value.service, raised.value.blob) == ("mem", "x.bin")


class ResetStream(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise ConnectionResetError("connection reset by peer")


class BrokenReads(MemoryProvider):
    """No ``translate_error``: a stream whose reads fail with a built-in OSError."""

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None
                  ) -> IO[bytes]:
        super().open_blob(container, blob_path, snapshot)
        return io.BufferedReader(ResetStream())


def test_the_stream_behaves_like_the_providers_own() -> None:
    store, _ = open_store()
    with store.open_blob("runs", "a/b.txt") as stream:
        assert stream.readable() and stream.seekable()
        assert stream.read(3) == b"con"
        assert stream.tell() == 3
        stream.seek(0)
        assert list(stream) == [b"content"]
        assert not stream.closed
    assert stream.closed


def test_a_source_stream_failing_inside_another_stores_write_names_the_source() -> None:
    # A cross-service copy: the destination's write reads the source's stream, whose read
    # fails; the error is the source's, not the destination's.
    source = Store(BrokenReads({"name": "src"}), "src")
    source.create_container("runs")
    source.create_blob("runs", "x.bin", b"data")
    destination = Store(MemoryProvider({"name": "dst"}), "dst")
    destination.create_container("copies")
    with source.open_blob("runs", "x.bin") as stream, pytest.raises(TransientError) as raised:
        destination.create_blob_from_stream("copies", "y.bin", stream)
    error = raised.value
    assert (error.service, error.container, error.blob) == ("src", "runs", "x.bin")
    assert not destination.does_blob_exist("copies", "y.bin")


def test_line_iteration_over_the_stream_is_typed_too() -> None:
    store = Store(BrokenReads({"name": "mem"}), "mem")
    store.create_container("runs")
    store.create_blob("runs", "x.bin", b"data")
    with store.open_blob("runs", "x.bin") as stream, pytest.raises(TransientError) as raised:
        list(stream)
    assert (raised.value.service, raised.value.blob) == ("mem", "x.bin")
