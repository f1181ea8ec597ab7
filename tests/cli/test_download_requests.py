"""``xtstore download`` (and ``sync``) of small blobs that carry ``mtime`` metadata sends one
GET per file and no HEAD: the blob's properties come back with its content
(``get_blob_to_path``'s return value), and each local file gets the time its metadata
states. At 84e16ee a download that needed the metadata (S3, whose listings carry none; any
caller of ``download_transfer(read_mtime=True)``) sent a HEAD before every GET. Requests are
counted by a logging proxy between the client and the emulator (moto, Azurite)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.cli.cloud import OLD_NS, write_cloud_config
from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import FaultProxy
from tests.servers.s3_server import MotoServer
from xtstore.fingerprints import MTIME_KEY, format_mtime
from xtstore.interface import ProgressCallback
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store
from xtstore.transfer import download_transfer
from xtstore.values import BlobInfo, Capabilities

NAMES = [f"run/{index}.txt" for index in range(4)]


def _fill(store: Store, container: str) -> dict[str, int]:
    """The small blobs, each with its own ``mtime`` metadata: name -> that time."""
    stated = {}
    for index, name in enumerate(NAMES):
        when = OLD_NS + index * 1_000_000_007
        store.create_blob(container, name, f"content {index}\n",
                          metadata={MTIME_KEY: format_mtime(when)})
        stated[name] = when
    return stated


def _check_files(dest: Path, stated: dict[str, int]) -> None:
    for name, when in stated.items():
        local = dest / name.removeprefix("run/")
        assert local.read_text() == f"content {NAMES.index(name)}\n"
        assert local.stat().st_mtime_ns == when, name


def _per_blob(proxy: FaultProxy, method: str, name: str) -> int:
    return len(proxy.requests(method, rf"/{name}(\?|$)"))


@pytest.mark.parametrize("command", ["download", "sync"])
def test_download_from_s3_is_one_get_per_file_with_the_metadata_mtime(
    services: Services, xt: Runner, moto_server: MotoServer, moto_proxy: FaultProxy,
    command: str,
) -> None:
    write_cloud_config(services, MotoServer(moto_proxy.url, moto_server.log_path))
    store = xtstore.get_storage("s3", config={"external-services": {
        "s3": moto_server.service_config()}})
    bucket = "xtdl-" + uuid.uuid4().hex[:12]
    store.create_container(bucket)
    try:
        stated = _fill(store, bucket)
        moto_proxy.clear()
        ok(xt(command, f"s3:{bucket}/run" + ("/" if command == "sync" else ""), "./out"))
        _check_files(services.work / "out", stated)
        log = [f"{entry.method} {entry.target}" for entry in moto_proxy.log]
        for name in NAMES:
            assert _per_blob(moto_proxy, "GET", name) == 1, log
            assert _per_blob(moto_proxy, "HEAD", name) == 0, log
    finally:
        for name in NAMES:
            store.delete_blob(bucket, name)
        store.delete_container(bucket)


def _azure_store(azurite: Azurite, endpoint: str) -> Store:
    return xtstore.get_storage("az", config={"external-services": {"az": {
        "type": "storage", "provider": "azure-blob",
        "connection-string": azurite.connection_string.replace(azurite.endpoint, endpoint)}}})


def test_download_from_azure_is_one_get_per_file_with_the_metadata_mtime(
    services: Services, xt: Runner, azurite: Azurite, azurite_proxy: FaultProxy
) -> None:
    write_cloud_config(services, azurite=Azurite(azurite_proxy.port, azurite.log_path))
    store = _azure_store(azurite, azurite.endpoint)
    container = "xtdl-" + uuid.uuid4().hex[:12]
    store.create_container(container)
    try:
        stated = _fill(store, container)
        azurite_proxy.clear()
        ok(xt("download", f"az:{container}/run", "out"))
        _check_files(services.work / "out", stated)
        log = [f"{entry.method} {entry.target}" for entry in azurite_proxy.log]
        for name in NAMES:
            assert _per_blob(azurite_proxy, "GET", name) == 1, log
            assert _per_blob(azurite_proxy, "HEAD", name) == 0, log
    finally:
        store.delete_container(container)


def test_download_transfer_reading_the_mtime_on_azure_is_one_get(
    azurite: Azurite, azurite_proxy: FaultProxy, tmp_path: Path
) -> None:
    store = _azure_store(azurite, azurite_proxy.endpoint(azurite.endpoint))
    container = "xtdl-" + uuid.uuid4().hex[:12]
    store.create_container(container)
    try:
        stated = _fill(store, container)
        azurite_proxy.clear()
        for name in NAMES:
            local = tmp_path / name.removeprefix("run/")
            download_transfer(store, container, name, str(local), 10,
                              read_mtime=True).action(lambda done, total: None)
        _check_files(tmp_path, stated)
        assert [entry.method for entry in azurite_proxy.log] == ["GET"] * len(NAMES)
    finally:
        store.delete_container(container)


class _NoDownloadProperties(MemoryProvider):
    """store-memory as an XT-style provider: downloads return no properties (and it declares
    no ``download_properties``); every call is logged, to show the order of the reads."""

    def __init__(self, config: Any = None) -> None:
        super().__init__(config or {})
        self.calls: list[str] = []

    def capabilities(self) -> Capabilities:
        return replace(super().capabilities(), download_properties=False)

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        self.calls.append("properties")
        return super().get_blob_properties(container, blob_path)

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None) -> None:
        self.calls.append("content")
        super().get_blob_to_path(container, blob_path, dest_fn, snapshot, progress_callback)


def test_a_provider_that_returns_no_properties_has_them_read_before_the_content(
    tmp_path: Path
) -> None:
    """The fallback where ``capabilities().download_properties`` is not declared: the
    properties are read before the content (a blob replaced in between leaves the file
    looking older, never newer), and no file is downloaded twice."""
    provider = _NoDownloadProperties()
    store = Store(provider, "xt-style")
    store.create_container("box")
    stated = _fill(store, "box")
    for name in NAMES:
        download_transfer(store, "box", name, str(tmp_path / name.removeprefix("run/")), 10,
                          read_mtime=True).action(lambda done, total: None)
    _check_files(tmp_path, stated)
    assert provider.calls == ["properties", "content"] * len(NAMES)
