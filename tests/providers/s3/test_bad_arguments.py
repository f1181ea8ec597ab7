"""store-s3's client skips botocore's parameter validation (``parameter_validation=False``:
a per-request cost), because xtstore checks every argument itself first. Here bad input to
each public call that takes user input still raises the typed xtstore error naming the
service (and the container and blob where there is one), and no request reaches the server:
counted at moto's door by the fault proxy (every request the server is sent) and at the
client by botocore's ``before-send`` event."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import ParamValidationDecorator

from tests.servers.fault_proxy import FaultProxy
from tests.servers.s3_server import MotoServer
from xtstore.errors import BlobNotFound, InvalidArgument, InvalidName, StoreError
from xtstore.providers.s3.store import S3Provider
from xtstore.store import Store

from .helpers import count_requests

HERE = "there.txt"
"""A blob that exists, so that nothing below fails for want of it."""


@pytest.fixture(scope="module")
def container(s3_store: Store) -> Iterator[str]:
    name = "xtbad-" + uuid.uuid4().hex[:12]
    s3_store.create_container(name)
    s3_store.create_blob(name, HERE, "hello")
    yield name
    s3_store.delete_container(name)


@pytest.fixture
def proxied(moto_server: MotoServer, moto_proxy: FaultProxy) -> Store:
    """A store-s3 Store whose every request goes through the logging proxy to moto."""
    return Store(S3Provider(moto_server.service_config(name="s3", **{
        "endpoint-url": moto_proxy.url})), "s3")


def _client(store: Store) -> Any:
    return store.provider.client  # type: ignore[attr-defined]


def test_the_client_skips_botocores_parameter_validation(proxied: Store) -> None:
    assert not isinstance(_client(proxied)._serializer, ParamValidationDecorator)


def test_the_proxy_sees_a_valid_call(proxied: Store, container: str,
                                     moto_proxy: FaultProxy) -> None:
    """The control for the cases below: the same store's valid call is one request."""
    moto_proxy.clear()
    assert proxied.does_blob_exist(container, HERE)
    assert [(entry.method, entry.path) for entry in moto_proxy.log] == [
        ("HEAD", f"/{container}/{HERE}")]


Call = Callable[[Store, str, Path], object]

# (call, the typed error, where it is: (container, blob) the error must name; None for "the
# good container / no blob"). Each call gets the store, the good container and a tmp folder.
CASES: dict[str, tuple[Call, type[BaseException], tuple[str | None, str | None]]] = {
    # container names, on each container call and on blob calls
    "create_container bad name": (
        lambda s, c, t: s.create_container("Bad_Name"), InvalidName, ("Bad_Name", None)),
    "create_container too short": (
        lambda s, c, t: s.create_container("ab"), InvalidName, ("ab", None)),
    "delete_container double hyphen": (
        lambda s, c, t: s.delete_container("a--b"), InvalidName, ("a--b", None)),
    "does_container_exist int": (
        lambda s, c, t: s.does_container_exist(123), InvalidName, ("123", None)),  # type: ignore[arg-type]
    "get_container_properties None": (
        lambda s, c, t: s.get_container_properties(None), InvalidName, ("None", None)),  # type: ignore[arg-type]
    "get_container_metadata too long": (
        lambda s, c, t: s.get_container_metadata("a" * 64), InvalidName, ("a" * 64, None)),
    "list_blobs bad container": (
        lambda s, c, t: s.list_blobs("UPPER"), InvalidName, ("UPPER", None)),
    "create_blob bad container": (
        lambda s, c, t: s.create_blob("-bad", "x", "x"), InvalidName, ("-bad", None)),
    "copy_blob bad dest container": (
        lambda s, c, t: s.copy_blob(c, HERE, "X", "y"), InvalidName, ("X", None)),
    # blob names
    "get_blob_text dotdot": (
        lambda s, c, t: s.get_blob_text(c, "a/../b"), InvalidName, (None, "a/../b")),
    "get_blob_bytes int": (
        lambda s, c, t: s.get_blob_bytes(c, 123), InvalidName, (None, "123")),  # type: ignore[arg-type]
    "get_blob_properties None": (
        lambda s, c, t: s.get_blob_properties(c, None), InvalidName, (None, "None")),  # type: ignore[arg-type]
    "does_blob_exist empty": (
        lambda s, c, t: s.does_blob_exist(c, ""), InvalidName, (None, "")),
    "create_blob bytes name": (
        lambda s, c, t: s.create_blob(c, b"name", "x"), InvalidName, (None, "b'name'")),  # type: ignore[arg-type]
    "create_blob reserved name": (
        lambda s, c, t: s.create_blob(c, ".xtstore/container", "x"), InvalidName,
        (None, ".xtstore/container")),
    "create_blob name over 1024 bytes": (
        lambda s, c, t: s.create_blob(c, "é" * 513, "x"), InvalidName, (None, "é" * 513)),
    "append_blob control character": (
        lambda s, c, t: s.append_blob(c, "a\x00b", "x"), InvalidName, (None, "a\x00b")),
    "create_blob_from_path empty segment": (
        lambda s, c, t: s.create_blob_from_path(c, "a//b", str(t / "src.bin")), InvalidName,
        (None, "a//b")),
    "create_blob_from_stream backslash": (
        lambda s, c, t: s.create_blob_from_stream(c, "a\\b", io.BytesIO(b"x")), InvalidName,
        (None, "a\\b")),
    "get_blob_to_path dot": (
        lambda s, c, t: s.get_blob_to_path(c, "./x", str(t / "out")), InvalidName,
        (None, "./x")),
    "open_blob U+FFFF": (
        lambda s, c, t: s.open_blob(c, "a\uffff"), InvalidName, (None, "a\uffff")),
    "open_blob_writer dotdot": (
        lambda s, c, t: s.open_blob_writer(c, ".."), InvalidName, (None, "..")),
    "get_blob_range bad name": (
        lambda s, c, t: s.get_blob_range(c, "a/./b", 0), InvalidName, (None, "a/./b")),
    "delete_blob dotdot": (
        lambda s, c, t: s.delete_blob(c, "../x"), InvalidName, (None, "../x")),
    "delete_blobs one bad name": (
        lambda s, c, t: s.delete_blobs(c, [HERE, 1]), InvalidName, (None, "1")),  # type: ignore[list-item]
    "copy_blob bad source": (
        lambda s, c, t: s.copy_blob(c, "a/../b", c, "y"), InvalidName, (None, "a/../b")),
    "snapshot_blob bad name": (
        lambda s, c, t: s.snapshot_blob(c, "a//"), InvalidName, (None, "a//")),
    "list_snapshots bad name": (
        lambda s, c, t: s.list_snapshots(c, "."), InvalidName, (None, ".")),
    "get_blob_metadata bad name": (
        lambda s, c, t: s.get_blob_metadata(c, "a\x7fb"), InvalidName, (None, "a\x7fb")),
    "set_blob_metadata bad name": (
        lambda s, c, t: s.set_blob_metadata(c, "..", {"a": "b"}), InvalidName, (None, "..")),
    # list paths
    "list_blobs dotdot prefix": (
        lambda s, c, t: s.list_blobs(c, "../*"), InvalidName, (None, "../*")),
    "list_blobs double slash": (
        lambda s, c, t: s.list_blobs(c, "a//"), InvalidName, (None, "a//")),
    "iter_blobs int path": (
        lambda s, c, t: s.iter_blobs(c, 5), InvalidName, (None, "5")),  # type: ignore[arg-type]
    "iter_blob_names dot folder": (
        lambda s, c, t: s.iter_blob_names(c, "./"), InvalidName, (None, "./")),
    # content of the wrong type
    "create_blob int text": (
        lambda s, c, t: s.create_blob(c, "t", 123), InvalidName, (None, "t")),  # type: ignore[arg-type]
    "create_blob None text": (
        lambda s, c, t: s.create_blob(c, "t", None), InvalidName, (None, "t")),  # type: ignore[arg-type]
    "append_blob list text": (
        lambda s, c, t: s.append_blob(c, "t", [1, 2]), InvalidName, (None, "t")),  # type: ignore[arg-type]
    "create_blob_from_stream str for a stream": (
        lambda s, c, t: s.create_blob_from_stream(c, "t", "not a stream"),  # type: ignore[arg-type]
        InvalidArgument, (None, "t")),
    "create_blob_from_stream int for a stream": (
        lambda s, c, t: s.create_blob_from_stream(c, "t", 5), InvalidArgument, (None, "t")),  # type: ignore[arg-type]
    "create_blob_from_stream negative length": (
        lambda s, c, t: s.create_blob_from_stream(c, "t", io.BytesIO(b"abc"), length=-1),
        InvalidArgument, (None, "t")),
    "create_blob_from_stream str length": (
        lambda s, c, t: s.create_blob_from_stream(c, "t", io.BytesIO(b"abc"), length="3"),  # type: ignore[arg-type]
        InvalidArgument, (None, "t")),
    # content types
    "create_blob int content type": (
        lambda s, c, t: s.create_blob(c, "t", "x", content_type=123),  # type: ignore[arg-type]
        InvalidArgument, (None, "t")),
    "create_blob_from_path no subtype": (
        lambda s, c, t: s.create_blob_from_path(c, "t", str(t / "src.bin"), content_type="text"),
        InvalidArgument, (None, "t")),
    "open_blob wb content type with a newline": (
        lambda s, c, t: s.open_blob(c, "t", mode="wb", content_type="text/plain\n"),
        InvalidArgument, (None, "t")),
    # metadata
    "create_blob int metadata value": (
        lambda s, c, t: s.create_blob(c, "t", "x", metadata={"a": 1}),  # type: ignore[dict-item]
        InvalidArgument, (None, "t")),
    "create_blob int metadata key": (
        lambda s, c, t: s.create_blob(c, "t", "x", metadata={1: "a"}),  # type: ignore[dict-item]
        InvalidArgument, (None, "t")),
    "create_blob str metadata": (
        lambda s, c, t: s.create_blob(c, "t", "x", metadata="a=b"),  # type: ignore[arg-type]
        InvalidArgument, (None, "t")),
    "create_blob non-ASCII metadata value": (
        lambda s, c, t: s.create_blob(c, "t", "x", metadata={"a": "é"}),
        InvalidArgument, (None, "t")),
    "create_blob_from_stream metadata key with a space": (
        lambda s, c, t: s.create_blob_from_stream(c, "t", io.BytesIO(b"x"),
                                                  metadata={"a b": "c"}),
        InvalidArgument, (None, "t")),
    "create_blob_from_path metadata keys equal but for case": (
        lambda s, c, t: s.create_blob_from_path(c, "t", str(t / "src.bin"),
                                                metadata={"k": "1", "K": "2"}),
        InvalidArgument, (None, "t")),
    "open_blob_writer metadata value with a newline": (
        lambda s, c, t: s.open_blob_writer(c, "t", metadata={"a": "b\nc"}),
        InvalidArgument, (None, "t")),
    "set_blob_metadata int value": (
        lambda s, c, t: s.set_blob_metadata(c, HERE, {"a": 1}),  # type: ignore[dict-item]
        InvalidArgument, (None, HERE)),
    "set_blob_metadata None": (
        lambda s, c, t: s.set_blob_metadata(c, HERE, None),  # type: ignore[arg-type]
        InvalidArgument, (None, HERE)),
    "set_blob_metadata str": (
        lambda s, c, t: s.set_blob_metadata(c, HERE, "ab"),  # type: ignore[arg-type]
        InvalidArgument, (None, HERE)),
    "set_container_metadata int value": (
        lambda s, c, t: s.set_container_metadata(c, {"a": 1}),  # type: ignore[dict-item]
        InvalidArgument, (None, None)),
    "set_container_metadata non-ASCII value": (
        lambda s, c, t: s.set_container_metadata(c, {"a": "é"}), InvalidArgument, (None, None)),
    # byte ranges
    "get_blob_range negative start": (
        lambda s, c, t: s.get_blob_range(c, HERE, -1), InvalidArgument, (None, HERE)),
    "get_blob_range negative end": (
        lambda s, c, t: s.get_blob_range(c, HERE, 0, -2), InvalidArgument, (None, HERE)),
    "get_blob_range end before start": (
        lambda s, c, t: s.get_blob_range(c, HERE, 5, 2), InvalidArgument, (None, HERE)),
    "get_blob_range str start": (
        lambda s, c, t: s.get_blob_range(c, HERE, "0"), InvalidArgument, (None, HERE)),  # type: ignore[arg-type]
    "get_blob_range float end": (
        lambda s, c, t: s.get_blob_range(c, HERE, 0, 1.5), InvalidArgument, (None, HERE)),  # type: ignore[arg-type]
    "get_blob_range bool start": (
        lambda s, c, t: s.get_blob_range(c, HERE, True), InvalidArgument, (None, HERE)),
    # snapshots and modes
    "get_blob_bytes int snapshot": (
        lambda s, c, t: s.get_blob_bytes(c, HERE, snapshot=5),  # type: ignore[arg-type]
        BlobNotFound, (None, HERE)),
    "get_blob_to_path unknown snapshot": (
        lambda s, c, t: s.get_blob_to_path(c, HERE, str(t / "out"), snapshot="bogus"),
        BlobNotFound, (None, HERE)),
    "get_blob_range unknown snapshot": (
        lambda s, c, t: s.get_blob_range(c, HERE, 0, 1, snapshot="bogus"),
        BlobNotFound, (None, HERE)),
    "open_blob unknown snapshot": (
        lambda s, c, t: s.open_blob(c, HERE, snapshot="../x"), BlobNotFound, (None, HERE)),
    "delete_blob unknown snapshot": (
        lambda s, c, t: s.delete_blob(c, HERE, snapshot="bogus"), BlobNotFound, (None, HERE)),
    "open_blob mode": (
        lambda s, c, t: s.open_blob(c, HERE, mode="r"), InvalidArgument, (None, HERE)),
    "open_blob wb snapshot": (
        lambda s, c, t: s.open_blob(c, "n", snapshot="x", mode="wb"), InvalidArgument,
        (None, "n")),
    "delete_blobs one name for a sequence": (
        lambda s, c, t: s.delete_blobs(c, HERE), InvalidArgument, (None, None)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_the_typed_error_before_any_request(
    proxied: Store, container: str, moto_proxy: FaultProxy, tmp_path: Path, case: str
) -> None:
    call, expected, (bad_container, bad_blob) = CASES[case]
    (tmp_path / "src.bin").write_bytes(b"x" * 10)
    moto_proxy.clear()
    with count_requests(_client(proxied)) as sent, pytest.raises(expected) as caught:
        call(proxied, container, tmp_path)
    assert sent.operations == []
    assert moto_proxy.log == []
    error = caught.value
    assert isinstance(error, StoreError)
    assert (error.service, error.container, error.blob) == (
        "s3", bad_container or container, bad_blob)
    assert not (tmp_path / "out").exists()


def test_bad_local_paths_fail_before_any_request(
    proxied: Store, container: str, moto_proxy: FaultProxy, tmp_path: Path
) -> None:
    """Local file names are not the store's: what ``open`` raises for them, raised first."""
    moto_proxy.clear()
    with count_requests(_client(proxied)) as sent:
        with pytest.raises(FileNotFoundError):
            proxied.create_blob_from_path(container, "t", str(tmp_path / "missing"))
        with pytest.raises(TypeError):
            proxied.create_blob_from_path(container, "t", 123)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            proxied.get_blob_to_path(container, HERE, 123)  # type: ignore[arg-type]
    assert sent.operations == []
    assert moto_proxy.log == []
