"""Integrity end to end on azure-blob (issue 2.3), with real damage: the fault proxy flips one
byte of a response or request body between the provider and Azurite, or cuts a body short.

Every blob xtstore writes keeps the MD5 of its content (Put Blob's own, or the one xtstore
sends with the block list); a damaged download raises ``IntegrityError`` and leaves nothing at
the destination (no file, no temporary file); one damaged response is read again by the retry
layer (the error is transient); a damaged upload request is refused by the store (each
carries its body's MD5); a truncated body is never taken as complete.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers.azure.conftest import SMALL_SIZES
from tests.providers.azure.counting import RequestCounter
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from xtstore.errors import IntegrityError, TransientError

SMALL = os.urandom(200 * 1024)
"""One Put Blob up, one GET down (below the small test sizes' single put/get limits)."""
LARGE = os.urandom(600 * 1024)
"""Staged blocks up (128 KiB), ranged GETs down."""
CONTENT = {"small.bin": SMALL, "large.bin": LARGE, "streamed.bin": LARGE}
ATTEMPTS = 3


@pytest.fixture
def proxy(azurite: Azurite) -> Iterator[FaultProxy]:
    with running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=5.0,
                       lifetime=300.0) as running:
        yield running


def _store(azurite: Azurite, endpoint: str, **keys: Any) -> Any:
    entry = {
        "type": "storage", "provider": "azure-blob", "timeout": 30, **SMALL_SIZES,
        "connection-string": azurite.connection_string.replace(azurite.endpoint, endpoint),
        "retry": {"attempts": ATTEMPTS, "base-delay": 0.01, "max-delay": 0.05}, **keys,
    }
    return xtstore.get_storage("integrity", config={"external-services": {"integrity": entry}})


@pytest.fixture
def stores(azurite: Azurite, proxy: FaultProxy) -> Iterator[tuple[Any, Any, str]]:
    """(store through the proxy, store direct to Azurite, container holding the blobs)."""
    direct = _store(azurite, azurite.endpoint)
    container = f"in-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    direct.create_blob(container, "small.bin", SMALL)
    direct.create_blob(container, "large.bin", LARGE)
    direct.create_blob_from_stream(container, "streamed.bin", io.BytesIO(LARGE))
    yield _store(azurite, proxy.endpoint(azurite.endpoint)), direct, container
    direct.delete_container(container)


@pytest.mark.parametrize("name", sorted(CONTENT))
def test_every_blob_written_keeps_the_md5_of_its_content(
    stores: tuple[Any, Any, str], name: str
) -> None:
    _, direct, container = stores
    client = direct.provider.service_client.get_blob_client(container, name)
    stored = client.get_blob_properties().content_settings.content_md5
    assert bytes(stored) == hashlib.md5(CONTENT[name]).digest()


@pytest.mark.parametrize("name", sorted(CONTENT))
def test_a_damaged_download_is_refused_and_leaves_nothing(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, name: str
) -> None:
    store, _, container = stores
    proxy.inject(Fault.corrupt(after_bytes=4096), method="GET", path=name, times=None)
    out = tmp_path / "out"
    with pytest.raises(IntegrityError) as raised:
        store.get_blob_to_path(container, name, str(out / name))
    assert raised.value.container == container and raised.value.blob == name
    assert isinstance(raised.value, TransientError)  # retried: every attempt was damaged
    assert not out.exists() or list(out.iterdir()) == []  # no file, no temporary file
    assert len(proxy.requests("GET")) >= ATTEMPTS


def test_a_damaged_download_does_not_replace_an_existing_file(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path
) -> None:
    store, _, container = stores
    dest = tmp_path / "kept.bin"
    dest.write_bytes(b"the old content")
    proxy.inject(Fault.corrupt(after_bytes=10), method="GET", times=None)
    with pytest.raises(IntegrityError):
        store.get_blob_to_path(container, "large.bin", str(dest))
    assert dest.read_bytes() == b"the old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.bin"]


@pytest.mark.parametrize("name", ["small.bin", "large.bin"])
def test_one_damaged_response_is_read_again(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, name: str
) -> None:
    store, _, container = stores
    proxy.inject(Fault.corrupt(after_bytes=100), method="GET", path=name, nth=2)
    dest = tmp_path / name
    store.get_blob_to_path(container, name, str(dest))
    assert dest.read_bytes() == CONTENT[name]
    assert store.get_blob_bytes(container, name) == CONTENT[name]
    assert [e.fault for e in proxy.requests("GET")].count("corrupt-response") == 1


@pytest.mark.parametrize("name", ["small.bin", "large.bin"])
def test_damaged_whole_reads_are_refused(
    stores: tuple[Any, Any, str], proxy: FaultProxy, name: str
) -> None:
    store, _, container = stores
    proxy.inject(Fault.corrupt(after_bytes=500), method="GET", times=None)
    with pytest.raises(IntegrityError):
        store.get_blob_bytes(container, name)
    for read in (lambda stream: stream.read(), lambda stream: stream.read(len(CONTENT[name]))):
        stream = store.open_blob(container, name)
        with pytest.raises(IntegrityError):
            read(stream)
        stream.close()


@pytest.mark.parametrize("name", ["small.bin", "large.bin"])
def test_a_truncated_body_is_never_taken_as_complete(
    stores: tuple[Any, Any, str], proxy: FaultProxy, tmp_path: Path, name: str
) -> None:
    store, _, container = stores
    proxy.inject(Fault.truncate(), method="GET", times=None)
    with pytest.raises(TransientError):
        store.get_blob_to_path(container, name, str(tmp_path / name))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TransientError):
        store.get_blob_bytes(container, name)


@pytest.mark.parametrize("how", ["small", "blocks", "stream"])
def test_a_damaged_upload_is_refused(
    stores: tuple[Any, Any, str], proxy: FaultProxy, how: str
) -> None:
    store, direct, container = stores
    # The second block of a staged upload, or the one Put Blob.
    proxy.inject(Fault.corrupt(after_bytes=1000, request=True), method="PUT",
                 path=None if how == "small" else "comp=block&", nth=1 if how == "small" else 2,
                 times=None)
    with pytest.raises(IntegrityError) as raised:
        if how == "stream":
            store.create_blob_from_stream(container, "up.bin", io.BytesIO(LARGE))
        else:
            store.create_blob(container, "up.bin", SMALL if how == "small" else LARGE)
    assert raised.value.blob == "up.bin"
    assert not direct.does_blob_exist(container, "up.bin")


def test_one_damaged_upload_is_sent_again(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, direct, container = stores
    proxy.inject(Fault.corrupt(after_bytes=1000, request=True), method="PUT")
    store.create_blob(container, "again.bin", SMALL)
    assert direct.get_blob_bytes(container, "again.bin") == SMALL
    proxy.inject(Fault.corrupt(after_bytes=1000, request=True), method="PUT",
                 path="comp=block&", nth=3)
    store.create_blob(container, "again-blocks.bin", LARGE)
    assert direct.get_blob_bytes(container, "again-blocks.bin") == LARGE


def test_a_refused_create_only_upload_is_sent_again_and_made_once(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    # A create-only write is safe to repeat (If-None-Match, and a repeat that meets the blob
    # compares it with its own bytes): the store refused the damaged body, so it is sent again.
    store, direct, container = stores
    proxy.inject(Fault.corrupt(after_bytes=1000, request=True), method="PUT")
    store.create_blob(container, "once.bin", SMALL, fail_if_exists=True)
    assert [e.status for e in proxy.requests("PUT")] == [400, 201]
    assert direct.get_blob_bytes(container, "once.bin") == SMALL


def _count_md5(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Count the bytes every MD5 computed from now on hashes (xtstore's and the SDK's both
    call ``hashlib.md5``); returns the counter."""
    real = hashlib.md5
    lock = threading.Lock()
    hashed = [0]

    class Counting:
        def __init__(self, data: bytes = b"", **options: Any) -> None:
            self._digest = real(**options)
            self.update(data)

        def update(self, data: Any) -> None:
            with lock:
                hashed[0] += memoryview(data).nbytes
            self._digest.update(data)

        def digest(self) -> bytes:
            return self._digest.digest()

        def hexdigest(self) -> str:
            return self._digest.hexdigest()

    monkeypatch.setattr(hashlib, "md5", Counting)
    return lambda: hashed[0]


@pytest.mark.parametrize(("how", "digests"), [
    ("put blob", 1), ("stream, one put blob", 1), ("blocks", 2), ("stream of blocks", 2)])
def test_each_checksum_of_an_upload_is_computed_once(
    stores: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch, how: str, digests: int
) -> None:
    # One Put Blob: its body's MD5 is the blob's, so one pass over the bytes. Staged blocks:
    # each block's MD5 and the whole's, each computed once (Azure keeps no MD5 of its own
    # for a blob committed from blocks), and the MD5 of the block list sent.
    _, direct, container = stores
    data = LARGE if "blocks" in how else SMALL
    hashed = _count_md5(monkeypatch)
    if how.startswith("stream"):
        direct.create_blob_from_stream(container, "once.bin", io.BytesIO(data), len(data))
    else:
        direct.create_blob(container, "once.bin", data)
    block_list = 200 * len(data) // SMALL_SIZES["max-block-size"] if "blocks" in how else 0
    assert digests * len(data) <= hashed() <= digests * len(data) + block_list
    monkeypatch.undo()
    client = direct.provider.service_client.get_blob_client(container, "once.bin")
    assert bytes(client.get_blob_properties().content_settings.content_md5) == \
        hashlib.md5(data).digest()
    assert direct.get_blob_bytes(container, "once.bin") == data


def test_a_short_stream_of_unknown_length_is_one_put_blob(
    azurite: Azurite, stores: tuple[Any, Any, str]
) -> None:
    _, _, container = stores
    counter = RequestCounter()
    store = _store(azurite, azurite.endpoint, **{"client-options": {"raw_request_hook": counter}})
    store.create_blob_from_stream(container, "short.bin", io.BytesIO(SMALL[:1000]))
    assert counter.methods == ["PUT"]  # not a Put Block and a Put Block List
    assert store.get_blob_bytes(container, "short.bin") == SMALL[:1000]
    counter.reset()
    store.create_blob_from_stream(container, "long.bin", io.BytesIO(LARGE))
    assert counter.methods == ["PUT comp=block"] * 5 + ["PUT comp=blocklist"]  # 128 KiB blocks
    assert store.get_blob_bytes(container, "long.bin") == LARGE
