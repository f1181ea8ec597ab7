"""Services for ``xtstore://`` tests, each in a config file passed as ``config=`` (pandas'
``storage_options``): store-file in a temporary folder, and the suite's moto and Azurite
servers.

fsspec finds ``xtstore`` through the ``fsspec.specs`` entry point of an installed xtstore. A
checkout used without installing it (``PYTHONPATH=src``) has an older install's metadata, or
none, so the class the entry point names is registered here when fsspec does not know the
protocol yet; tests/filesystem/test_registration.py checks the entry point itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
import yaml
from fsspec.registry import known_implementations

from tests.providers.azure.conftest import SMALL_SIZES
from tests.servers.azurite import Azurite
from tests.servers.s3_server import MotoServer
from xtstore.filesystem import XtstoreFileSystem

if "xtstore" not in known_implementations:
    fsspec.register_implementation("xtstore", "xtstore.filesystem.XtstoreFileSystem")


def write_config(folder: Path, services: dict[str, dict[str, Any]], default: str) -> str:
    """A config file with ``services`` (``default`` the storage service); its path."""
    path = folder / f"xtstore-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump({"external-services": services,
                                    "xt-services": {"storage": default}}), encoding="utf-8")
    return str(path)


def file_service(root: Path) -> dict[str, Any]:
    return {"type": "storage", "provider": "store-file", "path": str(root)}


@pytest.fixture
def file_config(tmp_path: Path) -> str:
    """A config file whose default service ``local`` is store-file in a temporary folder."""
    return write_config(tmp_path, {"local": file_service(tmp_path / "store")}, "local")


@pytest.fixture
def file_fs(file_config: str) -> Iterator[XtstoreFileSystem]:
    fs = XtstoreFileSystem(config=file_config, skip_instance_cache=True)
    yield fs


StoreConfig = Callable[[], str]


@pytest.fixture
def s3_config(tmp_path: Path, moto_server: MotoServer) -> str:
    # Two parts in flight: an S3 upload holds max-concurrency parts of multipart-chunksize
    # (5 MiB, the least S3 allows), and the checkpoint tests measure what a writer holds.
    return write_config(tmp_path, {"s3": moto_server.service_config(**{"max-concurrency": 2})},
                        "s3")


@pytest.fixture
def azure_config(tmp_path: Path, azurite: Azurite) -> str:
    service = {"type": "storage", "provider": "azure-blob",
               "connection-string": azurite.connection_string, **SMALL_SIZES}
    return write_config(tmp_path, {"az": service}, "az")
