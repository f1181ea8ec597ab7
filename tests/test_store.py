"""The Store facade that get_storage() wraps around every provider: names checked before any
I/O, errors that name service, container and blob, progress that never goes backwards, and
safe hand-over to other processes."""

from __future__ import annotations

import dataclasses
import io
import pickle
from pathlib import Path
from typing import Any, cast

import pytest

import xtstore
from xtstore.adapter import ForeignProvider
from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    InvalidArgument,
    InvalidName,
    StoreError,
    TransientError,
    Unsupported,
)
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store
from xtstore.values import Capabilities, Support
from xtstore.writer import BlobWriter


class RecordingMemoryStore(MemoryProvider):
    """A real in-memory store that records every provider call it receives."""

    def __init__(self) -> None:
        super().__init__({"name": "mem"})
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if callable(attribute) and not name.startswith("_") and name not in {"calls"}:
            calls = super().__getattribute__("calls")

            def recorded(*args: Any, **kwargs: Any) -> Any:
                calls.append((name, args))
                return attribute(*args, **kwargs)

            return recorded
        return attribute


@pytest.fixture
def recording() -> RecordingMemoryStore:
    return RecordingMemoryStore()


@pytest.fixture
def store(recording: RecordingMemoryStore) -> Store:
    return Store(recording, "mem")


@pytest.mark.parametrize(
    ("operation", "args"),
    [
        ("create_container", ("Bad_Name",)),
        ("create_blob", ("runs", "a//b", "x")),
        ("create_blob", ("runs", "../escape", "x")),
        ("append_blob", ("runs", "a/./b", "x")),
        ("get_blob_text", ("no", "a")),
        ("list_blobs", ("runs", "a*b")),
        ("copy_blob", ("runs", "ok", "runs", "bad\\name")),
        ("delete_container", ("-x-",)),
        ("create_blob", ("runs", "ok", 42)),
    ],
)
def test_invalid_input_is_refused_before_any_provider_call(
    store: Store, recording: RecordingMemoryStore, operation: str, args: tuple[Any, ...]
) -> None:
    with pytest.raises(InvalidName) as caught:
        getattr(store, operation)(*args)
    assert recording.calls == []
    assert "service 'mem'" in str(caught.value)


def test_provider_receives_canonical_names(store: Store, recording: RecordingMemoryStore) -> None:
    store.create_container("runs")
    store.create_blob("runs", "/exp/log.txt", "x")
    store.list_blobs("runs", "/exp")
    store.list_blobs("runs", "ex*")
    assert ("create_blob", ("runs", "exp/log.txt", "x")) in recording.calls
    # Names are listed by the provider's own names-only listing.
    list_paths = [args[1] for name, args in recording.calls if name == "iter_blob_names"]
    assert list_paths == ["exp/", "ex*"]


def test_errors_name_service_container_and_blob(store: Store) -> None:
    store.create_container("runs")
    with pytest.raises(BlobNotFound) as caught:
        store.get_blob_text("runs", "/missing/log.txt")
    message = str(caught.value)
    assert "service 'mem'" in message
    assert "container 'runs'" in message
    assert "blob 'missing/log.txt'" in message


class FlakyMemoryStore(MemoryProvider):
    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__({"name": "mem"})
        self.failures = failures
        self.error = error
        self.attempts = 0

    def get_blob_text(self, container: str, blob_path: str) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        return super().get_blob_text(container, blob_path)


def test_builtin_transient_errors_from_a_provider_are_retried() -> None:
    provider = FlakyMemoryStore(2, ConnectionResetError("reset by peer"))
    store = Store(provider, "mem", retry=RetryPolicy(attempts=3, base_delay=0.001))
    store.create_container("runs")
    store.create_blob("runs", "a", "ok")
    assert store.get_blob_text("runs", "a") == "ok"
    assert provider.attempts == 3


def test_retries_run_out_with_a_typed_error_naming_the_blob() -> None:
    provider = FlakyMemoryStore(5, TimeoutError("read timed out"))
    store = Store(provider, "mem", retry=RetryPolicy(attempts=2, base_delay=0.001))
    store.create_container("runs")
    with pytest.raises(TransientError, match="blob 'a'"):
        store.get_blob_text("runs", "a")
    assert provider.attempts == 2


def test_set_retry_changes_the_number_of_retries() -> None:
    provider = FlakyMemoryStore(3, TransientError("503"))
    store = Store(provider, "mem", retry=RetryPolicy(attempts=1, base_delay=0.001))
    store.set_retry(3)
    assert store.get_retry() == 3
    store.create_container("runs")
    store.create_blob("runs", "a", "ok")
    assert store.get_blob_text("runs", "a") == "ok"


def test_permission_errors_become_access_denied() -> None:
    store = Store(FlakyMemoryStore(1, PermissionError("no")), "mem")
    store.create_container("runs")
    with pytest.raises(AccessDenied) as caught:
        store.get_blob_text("runs", "a")
    assert isinstance(caught.value, PermissionError)


def test_progress_never_goes_backwards_and_ends_at_total(tmp_path: Path) -> None:
    class RestartingStore(MemoryProvider):
        """Reports progress twice from zero, as a transfer retried from the start would."""

        def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                                  progress_callback: Any = None, **typed: Any) -> None:
            size = Path(source_fn).stat().st_size
            for _ in range(2):
                for done in (0, size // 2):
                    progress_callback(done, size)
            super().create_blob_from_path(container, blob_path, source_fn, **typed)

    source = tmp_path / "data.bin"
    source.write_bytes(b"x" * 1000)
    seen: list[tuple[int, int]] = []
    restarting = Store(RestartingStore({"name": "mem"}), "mem")
    restarting.create_container("runs")
    restarting.create_blob_from_path(
        "runs", "data.bin", str(source), lambda current, total: seen.append((current, total))
    )
    currents = [current for current, _ in seen]
    assert currents == sorted(currents)
    assert seen[-1] == (1000, 1000)


def test_download_progress_ends_at_total_for_an_empty_blob(store: Store, tmp_path: Path) -> None:
    store.create_container("runs")
    store.create_blob("runs", "empty", b"")
    seen: list[tuple[int, int]] = []
    dest = str(tmp_path / "out")
    store.get_blob_to_path("runs", "empty", dest, None, lambda d, t: seen.append((d, t)))
    assert seen[-1] == (0, 0)


def test_download_progress_that_falls_short_ends_at_the_file_size(tmp_path: Path) -> None:
    class ShortReports(MemoryProvider):
        """Reports half the blob, then writes it whole."""

        def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                             snapshot: str | None = None, progress_callback: Any = None
                             ) -> Any:
            progress_callback(500, 1000)
            return super().get_blob_to_path(container, blob_path, dest_fn, snapshot)

    short = Store(ShortReports({"name": "mem"}), "mem")
    short.create_container("runs")
    short.create_blob("runs", "data.bin", b"x" * 1000)
    seen: list[tuple[int, int]] = []
    short.get_blob_to_path("runs", "data.bin", str(tmp_path / "out"), None,
                           lambda current, total: seen.append((current, total)))
    assert seen == [(500, 1000), (1000, 1000)]


def test_memory_store_refuses_to_move_to_another_process(store: Store) -> None:
    with pytest.raises(Unsupported, match="one process"):
        pickle.dumps(store)


def test_errors_survive_pickling_with_their_context() -> None:
    error = BlobNotFound("blob not found", service="s", container="c", blob="b")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is BlobNotFound
    assert str(copy) == str(error)


class XTStyleStore:
    """A provider as XT's page writes one: no base class, only XT's methods."""

    def __init__(self) -> None:
        self.inner = MemoryProvider({"name": "xt"})
        self.retry = 0

    def __getattr__(self, name: str) -> Any:
        if name in {"get_blob_bytes", "open_blob", "iter_blobs", "capabilities",
                    "set_blob_metadata", "set_container_metadata"}:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def get_retry(self) -> int:
        return self.retry

    def set_retry(self, value: int) -> None:
        self.retry = value


def test_xt_style_provider_gets_the_additions_from_xt_methods(tmp_path: Path) -> None:
    store = Store(ForeignProvider(XTStyleStore(), "xt"), "xt")
    store.create_container("runs")
    store.create_blob("runs", "a/b.bin", b"\x00\xff")
    assert store.get_blob_bytes("runs", "a/b.bin") == b"\x00\xff"
    with store.open_blob("runs", "a/b.bin") as stream:
        assert stream.read() == b"\x00\xff"
    store.create_blob_from_stream("runs", "c", io.BytesIO(b"streamed"))
    assert store.get_blob_text("runs", "c") == "streamed"
    assert [entry.name for entry in store.iter_blobs("runs")] == ["a/b.bin", "c"]
    assert store.capabilities().shared_between_processes


def test_every_store_error_is_a_store_error() -> None:
    for error_type in (BlobNotFound, InvalidName, AccessDenied, TransientError, Unsupported):
        assert issubclass(error_type, StoreError)


def test_set_retry_travels_with_a_pickled_store(tmp_path: Path) -> None:
    config = {"external-services": {"files": {"type": "storage", "provider": "store-file",
                                              "path": str(tmp_path)}}}
    store = xtstore.get_storage("files", config=config)
    store.set_retry(7)
    assert pickle.loads(pickle.dumps(store)).get_retry() == 7


def test_a_local_destination_problem_is_not_reported_as_a_missing_blob(
    store: Store, tmp_path: Path
) -> None:
    store.create_container("runs")
    store.create_blob("runs", "a", "x")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError) as caught:
        store.get_blob_to_path("runs", "a", str(blocker / "sub" / "out.txt"))
    assert not isinstance(caught.value, BlobNotFound)


def test_an_xt_style_provider_without_metadata_setters_reports_metadata_unsupported() -> None:
    capabilities = ForeignProvider(XTStyleStore(), "xt").capabilities()
    assert capabilities.metadata is Support.UNSUPPORTED


class KwargsMemoryStore(MemoryProvider):
    """A real in-memory store that records the keywords the Store gives its uploads (not
    those of its own calls from one upload method to another)."""

    def __init__(self, content_types: bool) -> None:
        super().__init__({"name": "mem"})
        self.content_types = content_types
        self.keywords: list[tuple[str, dict[str, Any]]] = []
        self.depth = 0

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities(), content_types=self.content_types)

    def _recorded(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self.depth:
            self.keywords.append((name, kwargs))
        self.depth += 1
        try:
            return getattr(super(), name)(*args, **kwargs)
        finally:
            self.depth -= 1

    def create_blob(self, *args: Any, **kwargs: Any) -> None:
        self._recorded("create_blob", *args, **kwargs)

    def create_blob_from_path(self, *args: Any, **kwargs: Any) -> None:
        self._recorded("create_blob_from_path", *args, **kwargs)

    def create_blob_from_stream(self, *args: Any, **kwargs: Any) -> None:
        self._recorded("create_blob_from_stream", *args, **kwargs)

    def open_blob_writer(self, *args: Any, **kwargs: Any) -> BlobWriter:
        return cast(BlobWriter, self._recorded("open_blob_writer", *args, **kwargs))


def upload_each_way(store: Store, tmp_path: Path, **typed: Any) -> None:
    source = tmp_path / "source"
    source.write_bytes(b"1,2\n")
    store.create_blob("runs", "a/one.csv", "1,2\n", **typed)
    store.create_blob_from_path("runs", "a/two.csv", str(source), **typed)
    store.create_blob_from_stream("runs", "a/three.csv", io.BytesIO(b"1,2\n"), **typed)
    with store.open_blob("runs", "a/four.csv", mode="wb", **typed) as writer:
        writer.write(b"1,2\n")


UPLOADS = ["create_blob", "create_blob_from_path", "create_blob_from_stream",
           "open_blob_writer"]
UPLOADED = ["a/one.csv", "a/two.csv", "a/three.csv", "a/four.csv"]


def test_a_provider_with_content_types_gets_the_one_given(tmp_path: Path) -> None:
    provider = KwargsMemoryStore(content_types=True)
    store = Store(provider, "mem")
    store.create_container("runs")
    upload_each_way(store, tmp_path, content_type="text/plain; charset=utf-8")
    assert [(name, kwargs.get("content_type")) for name, kwargs in provider.keywords] == [
        (name, "text/plain; charset=utf-8") for name in UPLOADS]
    for blob in UPLOADED:
        properties = store.get_blob_properties("runs", blob).properties
        assert properties is not None
        assert properties.content_type == "text/plain; charset=utf-8"


def test_a_provider_with_content_types_gets_one_guessed_from_the_name(tmp_path: Path) -> None:
    provider = KwargsMemoryStore(content_types=True)
    store = Store(provider, "mem")
    store.create_container("runs")
    upload_each_way(store, tmp_path)
    assert [(name, kwargs.get("content_type")) for name, kwargs in provider.keywords] == [
        (name, "text/csv") for name in UPLOADS]
    store.create_blob("runs", "model.ckpt", b"\x00")
    properties = store.get_blob_properties("runs", "model.ckpt").properties
    assert properties is not None and properties.content_type == "application/octet-stream"


@pytest.mark.parametrize("given", [None, "text/plain"])
def test_a_provider_without_content_types_gets_no_such_keyword(tmp_path: Path,
                                                                given: str | None) -> None:
    provider = KwargsMemoryStore(content_types=False)
    store = Store(provider, "mem")
    store.create_container("runs")
    upload_each_way(store, tmp_path, content_type=given)
    assert [name for name, _ in provider.keywords] == UPLOADS
    assert all("content_type" not in kwargs for _, kwargs in provider.keywords)


class StrictXTStore:
    """An XT provider whose uploads take exactly XT's arguments (a content_type keyword
    would be a TypeError)."""

    def __init__(self) -> None:
        self.inner = MemoryProvider({"name": "xt"})

    def create_blob(self, container: str, blob_path: str, text: Any,
                    fail_if_exists: bool = False) -> None:
        self.inner.create_blob(container, blob_path, text, fail_if_exists)

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: Any = None) -> None:
        self.inner.create_blob_from_path(container, blob_path, source_fn, progress_callback)

    def __getattr__(self, name: str) -> Any:
        if name in {"get_blob_bytes", "open_blob", "iter_blobs", "capabilities",
                    "set_blob_metadata", "set_container_metadata", "create_blob_from_stream",
                    "open_blob_writer"}:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def get_retry(self) -> int:
        return 0

    def set_retry(self, value: int) -> None:
        pass


@pytest.mark.parametrize("given", [None, "text/plain"])
def test_an_xt_provider_through_the_adapter_gets_no_content_type(tmp_path: Path,
                                                                 given: str | None) -> None:
    store = Store(ForeignProvider(StrictXTStore(), "xt"), "xt")
    store.create_container("runs")
    upload_each_way(store, tmp_path, content_type=given)
    assert [store.get_blob_text("runs", blob) for blob in UPLOADED] == ["1,2\n"] * 4
    assert not store.capabilities().content_types


def test_the_store_keeps_xt_s_positional_signatures(tmp_path: Path) -> None:
    store = Store(KwargsMemoryStore(content_types=True), "mem")
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "x", False)
    with pytest.raises(BlobAlreadyExists):
        store.create_blob("runs", "a.txt", "y", True)
    source = tmp_path / "source"
    source.write_bytes(b"12")
    seen: list[tuple[int, int]] = []
    store.create_blob_from_path("runs", "b.txt", str(source), lambda done, total:
                                seen.append((done, total)))
    store.create_blob_from_stream("runs", "c.txt", io.BytesIO(b"12"), 2, None)
    assert seen[-1] == (2, 2)
    assert store.get_blob_text("runs", "a.txt") == "x"


@pytest.mark.parametrize("content_types", [True, False])
@pytest.mark.parametrize("bad", ["", "text", "text/plain\r\nX-Injected: 1", "text/plain; é=1",
                                 42])
def test_a_bad_content_type_is_refused_before_any_provider_call(
        tmp_path: Path, bad: Any, content_types: bool) -> None:
    provider = KwargsMemoryStore(content_types=content_types)
    store = Store(provider, "mem")
    store.create_container("runs")
    source = tmp_path / "source"
    source.write_bytes(b"x")
    calls: list[Any] = [
        lambda: store.create_blob("runs", "a", "x", content_type=bad),
        lambda: store.create_blob_from_path("runs", "a", str(source), content_type=bad),
        lambda: store.create_blob_from_stream("runs", "a", io.BytesIO(b"x"), content_type=bad),
        lambda: store.open_blob("runs", "a", mode="wb", content_type=bad),
    ]
    for call in calls:
        with pytest.raises(InvalidArgument) as caught:
            call()
        assert caught.value.container == "runs" and caught.value.blob == "a"
    assert provider.keywords == []
    assert not store.does_blob_exist("runs", "a")


class OldStyleSubclass(MemoryProvider):
    """A user's subclass of a built-in provider written against 2.3: its create_blob keeps
    XT's signature, while it inherits the declaration of content types."""

    def create_blob(self, container: str, blob_path: str, text: Any,
                    fail_if_exists: bool = False) -> None:
        super().create_blob(container, blob_path, text, fail_if_exists)


def test_an_upload_overridden_without_content_type_gets_none(tmp_path: Path) -> None:
    store = Store(OldStyleSubclass({"name": "old"}), "old")
    store.create_container("runs")
    store.create_blob("runs", "a.csv", "1,2\n", content_type="text/x-given")
    store.create_blob_from_stream("runs", "b.csv", io.BytesIO(b"1,2\n"))
    found = [store.get_blob_properties("runs", name).properties for name in ("a.csv", "b.csv")]
    assert [p.content_type for p in found if p is not None] == [None, "text/csv"]


class _Offset:
    """An integer that is not an int (as numpy's are): taken through ``__index__``."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_a_range_takes_any_integer_type_and_hands_the_provider_plain_ints(
        store: Store, recording: RecordingMemoryStore) -> None:
    store.create_container("runs")
    store.create_blob("runs", "a", b"0123456789")
    assert store.get_blob_range("runs", "a", _Offset(2), _Offset(5)) == b"234"  # type: ignore[arg-type]
    handed = [args for name, args in recording.calls if name == "get_blob_range"]
    assert handed == [("runs", "a", 2, 5)]
    assert all(type(offset) is int for offset in handed[0][2:])


@pytest.mark.parametrize(("start", "end"), [(-1, None), (3, 2), (True, None), (1.0, 4),
                                            ("1", None), (0, -5)])
def test_a_bad_range_is_refused_before_any_provider_call(
        store: Store, recording: RecordingMemoryStore, start: Any, end: Any) -> None:
    with pytest.raises(InvalidArgument) as caught:
        store.get_blob_range("runs", "a", start, end)
    assert (caught.value.service, caught.value.container, caught.value.blob) == ("mem", "runs",
                                                                                 "a")
    assert recording.calls == []
