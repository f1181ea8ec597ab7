"""Every provider's get_blob_to_path writes whole-or-nothing through the one local writer: a
process killed with SIGKILL in the middle of a download (after its first progress report,
while the rest is still to come) leaves neither a partial file under the destination's name
nor a temporary file next to it, and a file it was replacing keeps its old content."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers.azure.conftest import SMALL_SIZES
from tests.providers.killing import kill_while_writing
from tests.servers.azurite import Azurite
from tests.servers.s3_server import MotoServer

MiB = 1024 * 1024

# Opens the service, writes the blob first when asked (store-memory lives in this process
# only), then downloads it, and stops for good at the first progress report short of the end.
DOWNLOADER = """
import json, sys, time
import xtstore
config, service, container, blob, dest, create_size = sys.argv[1:]
store = xtstore.get_storage(service, json.loads(config))
if int(create_size):
    store.create_container(container)
    store.create_blob(container, blob, bytes(range(256)) * (int(create_size) // 256))

def progress(current, total):
    if 0 < current < total:
        print("writing", flush=True)
        time.sleep(120)

store.get_blob_to_path(container, blob, dest, progress_callback=progress)
print("finished", flush=True)
"""


def service(provider: str, **keys: Any) -> dict[str, Any]:
    return {"external-services": {"target": {"type": "storage", "provider": provider, **keys}}}


@pytest.fixture
def child_imports_this_xtstore(monkeypatch: pytest.MonkeyPatch) -> None:
    source = os.path.dirname(os.path.dirname(xtstore.__file__))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [source, *filter(None, [os.environ.get("PYTHONPATH")])]
    ))


@pytest.fixture(params=["store-file", "store-memory", "store-fsspec", "azure-blob", "store-s3"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict[str, Any], int]]:
    """A service config holding the blob ``models/model.bin`` of the size also given, or
    (store-memory) one whose downloader writes it first."""
    provider: str = request.param
    if provider == "store-memory":
        yield service(provider), 40 * MiB
        return
    if provider == "store-file":
        config, size = service(provider, path=str(tmp_path / "store")), 40 * MiB
    elif provider == "store-fsspec":
        config, size = service(provider, url=f"file://{tmp_path / 'store'}"), 40 * MiB
    elif provider == "azure-blob":
        azurite: Azurite = request.getfixturevalue("azurite")
        config = service(provider, **{"connection-string": azurite.connection_string},
                         **SMALL_SIZES)
        size = 4 * MiB
    else:
        moto: MotoServer = request.getfixturevalue("moto_server")
        config = {"external-services": {"target": moto.service_config()}}
        size = 16 * MiB
    store = xtstore.get_storage("target", config)
    container = f"kill-{uuid.uuid4().hex[:12]}"
    config["container"] = container
    store.create_container(container)
    store.create_blob(container, "model.bin", bytes(range(256)) * (size // 256))
    try:
        yield config, 0
    finally:
        store.delete_container(container)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("replacing", [False, True], ids=["new-file", "replacing"])
def test_a_download_killed_midway_leaves_no_partial_or_temporary_file(
    target: tuple[dict[str, Any], int], replacing: bool, tmp_path: Path,
    child_imports_this_xtstore: None,
) -> None:
    config, create_size = target
    container = config.pop("container", "kill-memory")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    dest = downloads / "model.bin"
    if replacing:
        dest.write_bytes(b"the previous model")
    kill_while_writing(DOWNLOADER, json.dumps(config), "target", container, "model.bin",
                       str(dest), str(create_size))
    if replacing:
        assert os.listdir(downloads) == ["model.bin"]
        assert dest.read_bytes() == b"the previous model"
    else:
        assert os.listdir(downloads) == []
