"""User provider classes as XT users write them: a ``StoreInterface`` subclass with only XT's
methods is complete (every addition has a default), and a provider that delegates to another
xtstore store reports errors under the service its caller used. The defaults of the methods
that are built from others answer as the built-in providers' own methods do, on a real folder
and in memory, and a class lacking what a default is built from is refused, naming it."""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.adapter import missing_methods
from xtstore.errors import BlobNotFound, ContainerNotFound, ProviderLoadError, Unsupported
from xtstore.interface import COPY_CHUNK_SIZE, StoreInterface, _SpooledUpload
from xtstore.providers.file.store import FileProvider
from xtstore.providers.memory.store import MemoryProvider
from xtstore.registry.load import check_provider_class
from xtstore.store import Store
from xtstore.values import BlobInfo, BlobProperties, Capabilities, ContainerInfo, Support


class XtOnlyStore(StoreInterface):
    """Only XT's container and blob methods, over a folder, the way XT's own FileStore does
    it: no get_service_name, no capabilities, no additions."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.name = settings["name"]
        self.root = settings["path"]

    def _path(self, container: str, blob_path: str = "") -> str:
        return os.path.join(self.root, container, blob_path)

    def does_container_exist(self, container: str) -> bool:
        return os.path.isdir(self._path(container))

    def create_container(self, container: str) -> None:  # type: ignore[override]
        os.makedirs(self._path(container))

    def list_containers(self) -> list[str]:
        return sorted(os.listdir(self.root))

    def delete_container(self, container: str) -> None:  # type: ignore[override]
        shutil.rmtree(self._path(container))

    def get_container_properties(self, container: str) -> ContainerInfo:
        st = os.stat(self._path(container))
        return ContainerInfo(container, BlobProperties.from_ns(0, st.st_mtime_ns, "").last_modified)

    def get_container_metadata(self, container: str) -> dict[str, str]:
        return {}

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return os.path.isfile(self._path(container, blob_path))

    def create_blob(self, container: str, blob_path: str, text: Any,
                    fail_if_exists: bool = False) -> None:
        path = self._path(container, blob_path)
        if not self.does_container_exist(container):
            raise FileNotFoundError(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb" if fail_if_exists else "wb") as out:
            out.write(text.encode() if isinstance(text, str) else text)

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: Any = None) -> None:
        with open(source_fn, "rb") as source:
            self.create_blob(container, blob_path, source.read())

    def append_blob(self, container: str, blob_path: str, text: Any,
                    append_with_rewrite: bool = False) -> None:
        with open(self._path(container, blob_path), "ab") as out:
            out.write(text.encode() if isinstance(text, str) else text)

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> list[str] | list[BlobInfo]:
        top = self._path(container)
        if not os.path.isdir(top):
            raise FileNotFoundError(top)
        names = sorted(
            os.path.relpath(os.path.join(folder, name), top).replace(os.sep, "/")
            for folder, _, files in os.walk(top) for name in files
        )
        prefix = (path or "").rstrip("*")
        chosen = [name for name in names if name.startswith(prefix)]
        if return_names:
            return chosen
        return [self.get_blob_properties(container, name) for name in chosen]

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        os.remove(self._path(container, blob_path))

    def get_blob_text(self, container: str, blob_path: str) -> str:
        with open(self._path(container, blob_path), encoding="utf-8") as source:
            return source.read()

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None, progress_callback: Any = None) -> None:
        shutil.copyfile(self._path(container, blob_path), dest_fn)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        st = os.stat(self._path(container, blob_path))
        return BlobInfo(blob_path, properties=BlobProperties.from_ns(
            st.st_size, st.st_mtime_ns, f'"{st.st_mtime_ns}"'))

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        return {}

    def copy_blob(self, source_container: str, source_blob_path: str, dest_container: str,
                  dest_blob_path: str) -> None:
        shutil.copyfile(self._path(source_container, source_blob_path),
                        self._path(dest_container, dest_blob_path))

    def snapshot_blob(self, container: str, blob_path: str) -> Any:
        raise NotImplementedError


def xt_only_store(tmp_path: Any) -> Any:
    config = {"external-services": {"xtonly": {
        "type": "storage", "provider": "tests.test_interface_defaults.XtOnlyStore",
        "path": str(tmp_path)}}}
    return xtstore.get_storage("xtonly", config=config)


def test_a_subclass_with_only_xts_methods_loads_and_works(tmp_path: Any) -> None:
    store = xt_only_store(tmp_path)
    assert store.create_container("runs") is True
    store.create_blob("runs", "/logs/a.txt", "hello")
    store.append_blob("runs", "logs/a.txt", " world")
    assert store.get_blob_text("runs", "logs/a.txt") == "hello world"
    assert store.get_blob_bytes("runs", "logs/a.txt") == b"hello world"
    assert store.list_blobs("runs", "logs") == ["logs/a.txt"]
    assert [entry.name for entry in store.iter_blobs("runs")] == ["logs/a.txt"]
    with pytest.raises(BlobNotFound) as caught:
        store.get_blob_text("runs", "missing.txt")
    assert caught.value.service == "xtonly"
    assert store.delete_container("runs") is True


def test_its_capabilities_and_service_name_have_defaults(tmp_path: Any) -> None:
    store = xt_only_store(tmp_path)
    provider = store.provider
    assert provider.get_service_name() == "xtonly"
    capabilities = store.capabilities()
    assert isinstance(capabilities, Capabilities)
    assert capabilities.metadata is Support.UNSUPPORTED  # XT's interface cannot write it
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "x")
    with pytest.raises(Unsupported):
        store.set_blob_metadata("runs", "a.txt", {"k": "v"})


class WithMetadataSetters(XtOnlyStore):
    def set_blob_metadata(self, container: str, blob_path: str, metadata: Any) -> None:
        raise NotImplementedError

    def set_container_metadata(self, container: str, metadata: Any) -> None:
        raise NotImplementedError


class Nameless(XtOnlyStore):
    def __init__(self, settings: dict[str, Any]) -> None:
        self.root = settings["path"]


def test_default_capabilities_see_a_classs_own_metadata_setters(tmp_path: Any) -> None:
    settings = {"name": "x", "path": str(tmp_path)}
    assert WithMetadataSetters(settings).capabilities().metadata is Support.EMULATED
    assert Nameless(settings).get_service_name() == "Nameless"


class Relay(StoreInterface):
    """A provider that hands every call to another store opened with get_storage(), whose
    errors already name that inner service."""

    def __init__(self, settings: dict[str, Any]) -> None:
        inner = {"external-services": {"inner": {"type": "storage", "provider": "store-memory"}}}
        self.inner = xtstore.get_storage("inner", config=inner)

    def get_service_name(self) -> str:
        return "relay"

    def capabilities(self) -> Capabilities:
        return self.inner.capabilities()

    def does_container_exist(self, container: str) -> bool:
        return self.inner.does_container_exist(container)

    def create_container(self, container: str) -> bool:
        return self.inner.create_container(container)

    def list_containers(self) -> list[str]:
        return self.inner.list_containers()

    def delete_container(self, container: str) -> bool:
        return self.inner.delete_container(container)

    def get_container_properties(self, container: str) -> ContainerInfo:
        return self.inner.get_container_properties(container)

    def get_container_metadata(self, container: str) -> dict[str, str]:
        return self.inner.get_container_metadata(container)

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return self.inner.does_blob_exist(container, blob_path)

    def create_blob(self, container: str, blob_path: str, text: Any,
                    fail_if_exists: bool = False) -> None:
        self.inner.create_blob(container, blob_path, text, fail_if_exists)

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: Any = None) -> None:
        self.inner.create_blob_from_path(container, blob_path, source_fn, progress_callback)

    def append_blob(self, container: str, blob_path: str, text: Any,
                    append_with_rewrite: bool = False) -> None:
        self.inner.append_blob(container, blob_path, text, append_with_rewrite)

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> list[str] | list[BlobInfo]:
        return self.inner.list_blobs(container, path, return_names, recursive)

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        self.inner.delete_blob(container, blob_path, snapshot)

    def get_blob_text(self, container: str, blob_path: str) -> str:
        return self.inner.get_blob_text(container, blob_path)

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None, progress_callback: Any = None) -> None:
        self.inner.get_blob_to_path(container, blob_path, dest_fn, snapshot, progress_callback)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        return self.inner.get_blob_properties(container, blob_path)

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        return self.inner.get_blob_metadata(container, blob_path)

    def copy_blob(self, source_container: str, source_blob_path: str, dest_container: str,
                  dest_blob_path: str) -> None:
        self.inner.copy_blob(source_container, source_blob_path, dest_container,
                             dest_blob_path)

    def snapshot_blob(self, container: str, blob_path: str) -> Any:
        return self.inner.snapshot_blob(container, blob_path)


def test_errors_from_a_delegated_store_name_the_callers_service() -> None:
    config = {"external-services": {"outer": {
        "type": "storage", "provider": "tests.test_interface_defaults.Relay"}}}
    store = xtstore.get_storage("outer", config=config)
    store.create_container("runs")
    with pytest.raises(BlobNotFound) as missing_blob:
        store.get_blob_text("runs", "missing.txt")
    assert (missing_blob.value.service, missing_blob.value.container,
            missing_blob.value.blob) == ("outer", "runs", "missing.txt")
    assert str(missing_blob.value).startswith("service 'outer', container 'runs'")
    with pytest.raises(ContainerNotFound) as missing_container:
        list(store.iter_blobs("nothing-here"))
    assert missing_container.value.service == "outer"


# ---- the defaults of methods built from others ----

BUILT_FROM_OTHERS: tuple[str, ...] = (
    "does_container_exist", "get_container_metadata", "does_blob_exist", "get_blob_metadata",
    "get_blob_text", "list_blobs", "create_blob_from_path",
)


def with_defaults(provider: type[StoreInterface], names: tuple[str, ...]) -> type[StoreInterface]:
    """``provider`` with the interface's defaults in place of its own methods ``names``."""
    body = {name: getattr(StoreInterface, name) for name in names}
    return type(f"Defaults{provider.__name__}", (provider,), body)


@pytest.fixture(params=[MemoryProvider, FileProvider], ids=["memory", "file"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """The same provider twice, over one store: as built in, and with the defaults."""
    provider_class = request.param
    settings = {"name": "own", "path": str(tmp_path / "store")}
    own = provider_class(settings)
    defaults = with_defaults(provider_class, BUILT_FROM_OTHERS)(settings)
    if provider_class is MemoryProvider:
        defaults._containers = own._containers  # type: ignore[attr-defined]  # one store
    yield Store(own, "own"), Store(defaults, "defaults")


def fill(store: Store) -> None:
    store.create_container("box")
    store.set_container_metadata("box", {"team": "ml"})
    for name in ("a.txt", "d/x.txt", "d/y/z.txt", "dx.txt"):
        store.create_blob("box", name, f"content of {name}")
    store.set_blob_metadata("box", "d/x.txt", {"k": "v"})
    store.create_blob("box", "latin1.bin", "é".encode("latin-1"))


def answer(call: Callable[[Store], Any], store: Store) -> Any:
    """What ``call(store)`` returns, or the type of what it raises."""
    try:
        return call(store)
    except Exception as error:
        return type(error)


def test_each_default_answers_as_the_providers_own_method(stores: tuple[Store, Store]) -> None:
    own, defaults = stores
    fill(own)
    calls: list[Callable[[Store], Any]] = [
        lambda store: store.does_container_exist("box"),
        lambda store: store.does_container_exist("nothing-here"),
        lambda store: store.get_container_metadata("box"),
        lambda store: store.get_container_metadata("nothing-here"),
        lambda store: store.does_blob_exist("box", "d/x.txt"),
        lambda store: store.does_blob_exist("box", "d"),
        lambda store: store.does_blob_exist("box", "missing.txt"),
        lambda store: store.does_blob_exist("nothing-here", "a.txt"),
        lambda store: store.get_blob_metadata("box", "d/x.txt"),
        lambda store: store.get_blob_metadata("box", "a.txt"),
        lambda store: store.get_blob_metadata("box", "missing.txt"),
        lambda store: store.get_blob_text("box", "d/y/z.txt"),
        lambda store: store.get_blob_text("box", "missing.txt"),
        lambda store: store.get_blob_text("box", "latin1.bin"),
        lambda store: store.list_blobs("nothing-here"),
    ]
    for path in (None, "d", "d/", "d*", "d/y/", "nope/"):
        for recursive in (True, False):
            calls.append(functools.partial(Store.list_blobs, container="box", path=path,
                                           recursive=recursive))
            calls.append(functools.partial(Store.list_blobs, container="box", path=path,
                                           return_names=False, recursive=recursive))
    for number, call in enumerate(calls):
        assert answer(call, defaults) == answer(call, own), f"call {number}"
    assert defaults.get_blob_metadata("box", "d/x.txt") == {"k": "v"}
    assert defaults.does_blob_exist("box", "d") is False
    assert answer(lambda store: store.get_blob_text("box", "latin1.bin"),
                  defaults) is UnicodeDecodeError


def test_the_default_upload_from_a_path_keeps_the_streams_contract(
    stores: tuple[Store, Store], tmp_path: Path
) -> None:
    own, defaults = stores
    fill(own)
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 40_000)
    calls: list[tuple[int, int]] = []
    # Through the provider itself: Store would complete a progress sequence it left unfinished.
    defaults.provider.create_blob_from_path("box", "d/x.txt", str(source),
                                            progress_callback=lambda *c: calls.append(c))
    assert own.get_blob_bytes("box", "d/x.txt") == source.read_bytes()
    assert own.get_blob_metadata("box", "d/x.txt") == {}  # an upload clears metadata
    size = source.stat().st_size
    assert calls[-1] == (size, size) and {total for _, total in calls} == {size}
    assert [current for current, _ in calls] == sorted(current for current, _ in calls)
    with pytest.raises(FileNotFoundError) as missing_source:
        defaults.create_blob_from_path("box", "new.bin", str(tmp_path / "absent.bin"))
    assert not isinstance(missing_source.value, BlobNotFound)  # about the caller's file
    with pytest.raises(ContainerNotFound):
        defaults.create_blob_from_path("nothing-here", "new.bin", str(source))
    assert not own.does_blob_exist("box", "new.bin")


def test_the_default_iter_blobs_fails_at_the_call_for_a_missing_container(
    tmp_path: Path,
) -> None:
    provider = FileProvider({"path": str(tmp_path)})
    with pytest.raises((ContainerNotFound, FileNotFoundError)):
        StoreInterface.iter_blobs(provider, "nothing-here")  # not iterated


# A complete provider to take methods away from: store-memory's methods on a bare subclass.
MEMORY_METHODS = {key: value for key, value in vars(MemoryProvider).items()
                  if key not in ("__dict__", "__weakref__", "__slots__")}


def lacking(*names: str) -> type[StoreInterface]:
    """store-memory's provider without the methods ``names`` (inherited defaults stay)."""
    body = {key: value for key, value in MEMORY_METHODS.items() if key not in names}
    return type("Lacking", (StoreInterface,), body)


@pytest.mark.parametrize(("removed", "to_write"), [
    (("does_container_exist", "get_container_properties"), "get_container_properties"),
    (("get_container_metadata", "get_container_properties"), "get_container_properties"),
    (("does_blob_exist", "get_blob_properties"), "get_blob_properties"),
    (("get_blob_metadata", "get_blob_properties"), "get_blob_properties"),
    (("get_blob_bytes", "open_blob", "get_blob_to_path"), "get_blob_to_path"),
    (("list_blobs", "iter_blobs"), "either list_blobs or iter_blobs"),
    (("create_blob_from_path", "create_blob_from_stream"),
     "either create_blob_from_path or create_blob_from_stream"),
])
def test_a_default_without_what_it_is_built_from_is_refused_naming_it(
    removed: tuple[str, ...], to_write: str
) -> None:
    cls = lacking(*removed)
    assert missing_methods(cls) == [to_write]
    with pytest.raises(TypeError) as construction:
        cls({"name": "x"})
    assert str(construction.value) == (
        f"cannot construct Lacking: it does not implement {to_write} (docs/contract.md §1)")
    with pytest.raises(ProviderLoadError) as loading:
        check_provider_class(cls, "ext.Lacking")
    assert str(loading.value).endswith(
        f"'ext.Lacking' does not implement StoreInterface: missing {to_write}")


def test_one_method_of_each_pair_is_enough() -> None:
    # XT's way (list_blobs, create_blob_from_path) and the streaming way (store-memory's).
    assert missing_methods(XtOnlyStore) == []
    assert "list_blobs" not in vars(MemoryProvider)
    assert "create_blob_from_path" not in vars(MemoryProvider)
    assert missing_methods(MemoryProvider) == []


class PropertiesFromMetadata(FileProvider):
    """A provider whose get_container_properties reads its own get_container_metadata, as a
    user's provider may: with the default in its place, each would call the other until
    RecursionError."""

    def get_container_properties(self, container: str) -> ContainerInfo:
        info = super().get_container_properties(container)
        self.get_container_metadata(container)
        return info


def test_a_building_block_calling_its_default_back_is_a_clear_error(tmp_path: Path) -> None:
    cls = with_defaults(PropertiesFromMetadata, ("get_container_metadata",))
    store = Store(cls({"path": str(tmp_path)}), "files")
    store.create_container("box")
    with pytest.raises(TypeError, match=r"DefaultsPropertiesFromMetadata.get_container_metadata "
                       r"has no implementation of its own, and its default is built from "
                       r"get_container_properties, which called it back: implement "
                       r"get_container_metadata"):
        store.get_container_properties("box")
    with pytest.raises(TypeError, match="implement get_container_metadata"):
        store.get_container_metadata("box")
    assert store.list_containers() == ["box"]  # nothing else is affected


def test_every_missing_method_is_named_at_once() -> None:
    cls = lacking("snapshot_blob", "copy_blob", "list_blobs", "iter_blobs")
    assert missing_methods(cls) == ["copy_blob", "snapshot_blob",
                                    "either list_blobs or iter_blobs"]


# ---- get_blob_range and open_blob_writer: the defaults every provider starts with ----


class _ForwardOnly(io.RawIOBase):
    """An HTTP body as an XT provider may return it: at most ``most`` bytes a read, and no
    seeking (unless ``can_seek``)."""

    def __init__(self, data: bytes, most: int, can_seek: bool = False) -> None:
        self._data = data
        self._position = 0
        self._most = most
        self._can_seek = can_seek
        self.reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._can_seek

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if not self._can_seek:
            raise io.UnsupportedOperation("seek")
        self._position = offset + (0, self._position, len(self._data))[whence]
        return self._position

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        chunk = self._data[self._position:self._position + min(len(buffer), self._most)]
        buffer[:len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)


class ForwardOnlyBodies(MemoryProvider):
    """store-memory whose open_blob streams like a forward-only HTTP body with short reads,
    and whose get_blob_range is the interface's default."""

    get_blob_range = StoreInterface.get_blob_range
    can_seek = False

    def open_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> Any:
        return _ForwardOnly(self.get_blob_bytes(container, blob_path, snapshot), most=1000,
                            can_seek=self.can_seek)


class ShortReadBodies(ForwardOnlyBodies):
    can_seek = True


@pytest.mark.parametrize("provider", [ForwardOnlyBodies, ShortReadBodies],
                         ids=["forward-only", "seekable"])
def test_the_default_range_reads_a_stream_with_short_reads(provider: type) -> None:
    store = Store(provider({"name": "mem"}), "mem")
    store.create_container("box")
    content = bytes(range(256)) * 40
    store.create_blob("box", "b.bin", content)
    size = len(content)
    for start, end in ((0, None), (0, 5000), (1234, 9000), (9999, None), (size, None),
                       (size + 7, None), (size - 3, size + 100), (300, 300)):
        assert store.get_blob_range("box", "b.bin", start, end) == content[start:end], (
            start, end)
    with pytest.raises(BlobNotFound):
        store.get_blob_range("box", "missing.bin", 0, 10)


def test_the_default_range_over_the_default_stream_of_an_xt_provider(tmp_path: Any) -> None:
    store = xt_only_store(tmp_path)
    store.create_container("runs")
    content = bytes(range(256)) * 10
    store.create_blob("runs", "b.bin", content)
    for start, end in ((0, None), (10, 20), (2550, None), (2560, None), (3000, 4000)):
        assert store.get_blob_range("runs", "b.bin", start, end) == content[start:end]
    with pytest.raises(BlobNotFound):
        store.get_blob_range("runs", "missing.bin", 0, 10)


def test_the_default_writer_of_an_xt_provider_writes_whole_on_close(tmp_path: Any) -> None:
    store = xt_only_store(tmp_path)
    store.create_container("runs")
    store.create_blob("runs", "model.pt", "old")
    content = os.urandom(COPY_CHUNK_SIZE + 4321)
    with store.open_blob("runs", "model.pt", mode="wb") as writer:
        for start in range(0, len(content), 65_536):
            writer.write(content[start:start + 65_536])
        assert store.get_blob_bytes("runs", "model.pt") == b"old"
    assert store.get_blob_bytes("runs", "model.pt") == content
    with pytest.raises(ContainerNotFound):
        store.open_blob("nothing-here", "model.pt", mode="wb")


class StreamRecorder(MemoryProvider):
    """store-memory that records what create_blob_from_stream is given."""

    content_types = False

    def __init__(self) -> None:
        super().__init__({"name": "mem"})
        self.uploads: list[dict[str, Any]] = []

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities(), content_types=self.content_types)

    def create_blob_from_stream(self, container: str, blob_path: str, stream: Any,
                                length: int | None = None, progress_callback: Any = None,
                                **extra: Any) -> None:
        self.uploads.append({"length": length, **extra})
        super().create_blob_from_stream(container, blob_path, stream, length,
                                        progress_callback)


def spooled(provider: StoreInterface, blob: str = "b.bin",
            content_type: str | None = None) -> Any:
    return _SpooledUpload(provider, "box", blob, content_type)


def test_the_default_sink_puts_each_part_at_its_offset_whatever_the_order() -> None:
    provider = StreamRecorder()
    provider.create_container("box")
    sink = spooled(provider)
    part = sink.part_size
    first, second = b"a" * part, b"b" * part
    sink.write_part(1, second)
    sink.write_part(0, first)
    sink.write_part(1, second)  # a repeated step
    sink.commit(2, b"tail")
    assert provider.get_blob_bytes("box", "b.bin") == first + second + b"tail"
    assert provider.uploads == [{"length": 2 * part + 4}]


def test_a_repeated_commit_uploads_the_same_content() -> None:
    provider = StreamRecorder()
    provider.create_container("box")
    sink = spooled(provider)
    sink.write_part(0, b"p" * sink.part_size)
    failing = provider.create_blob_from_stream

    def fail_once(*args: Any, **kwargs: Any) -> None:
        provider.create_blob_from_stream = failing  # type: ignore[method-assign]
        args[2].read(1000)  # consumed part of the spool before it failed
        raise ConnectionResetError("reset")

    provider.create_blob_from_stream = fail_once  # type: ignore[method-assign]
    with pytest.raises(ConnectionResetError):
        sink.commit(1, b"end")
    sink.commit(1, b"end")
    assert provider.get_blob_bytes("box", "b.bin") == b"p" * sink.part_size + b"end"


def test_the_default_sink_spools_to_an_unnamed_file_closed_on_commit_and_abort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    provider = StreamRecorder()
    provider.create_container("box")
    committed, aborted = spooled(provider, "c.bin"), spooled(provider, "a.bin")
    committed.write_part(0, b"x" * committed.part_size)
    aborted.write_part(0, b"y" * aborted.part_size)
    if os.name == "posix" and sys.platform.startswith("linux"):
        assert os.listdir(tmp_path) == []  # nothing a killed process would leave behind
    committed.commit(1, b"")
    aborted.abort()
    assert committed._spool.closed and aborted._spool.closed
    assert not provider.does_blob_exist("box", "a.bin")


def test_the_default_sink_passes_a_content_type_only_to_a_store_that_keeps_them() -> None:
    provider = StreamRecorder()
    provider.create_container("box")
    spooled(provider, content_type="text/csv").commit(0, b"a,b\n")
    provider.content_types = True
    spooled(provider, content_type="text/csv").commit(0, b"a,b\n")
    spooled(provider).commit(0, b"a,b\n")
    assert provider.uploads == [{"length": 4}, {"length": 4, "content_type": "text/csv"},
                                {"length": 4}]


def test_a_commit_repeated_after_it_returned_changes_nothing() -> None:
    # A step is repeatable (xtstore.writer.PartSink): a layer may run it again after it
    # returned, e.g. when a later layer failed.
    provider = StreamRecorder()
    provider.create_container("box")
    sink = spooled(provider)
    sink.write_part(0, b"q" * sink.part_size)
    sink.commit(1, b"end")
    provider.create_blob("box", "b.bin", "written by someone else since")
    sink.commit(1, b"end")
    assert provider.get_blob_text("box", "b.bin") == "written by someone else since"
    assert len(provider.uploads) == 1
