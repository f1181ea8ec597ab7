"""fsspec's own abstract tests (``fsspec.tests.abstract``, fsspec 2026.9.0: copy, get, put,
open, pipe) over ``xtstore://`` on store-file in a temporary folder (and on store-memory, a
flat store), with the local file system on the local side. fsspec 2026.9.0's ``mv.py`` has no
test class, only tests of its own local file system.

Each test runs in a fresh container, ``fs_path``, on store-file addressed both without and with
the service (``local:``). Nothing is skipped or expected to fail: the one thing a blob store
cannot do, keep an empty folder, is fsspec's own fixture ``supports_empty_directories``
(False here), with which its tests make a target folder by writing a file into it.

``XTSTORE_ABSTRACT_CLOUD=1`` runs them over S3 (moto) and Azure (Azurite) too: about ten
minutes more, each test making and deleting containers on the emulators (all 274 passed at
the time of writing).
"""

from __future__ import annotations

import os
import posixpath
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.tests.abstract import AbstractFixtures
from fsspec.tests.abstract.copy import AbstractCopyTests
from fsspec.tests.abstract.get import AbstractGetTests
from fsspec.tests.abstract.open import AbstractOpenTests
from fsspec.tests.abstract.pipe import AbstractPipeTests
from fsspec.tests.abstract.put import AbstractPutTests

from tests.filesystem.conftest import write_config
from xtstore.filesystem import XtstoreFileSystem

FLAVOURS = {
    # store-file, paths in the default service's form (container/...) and naming the
    # service (local:container/...): every path fsspec builds and compares keeps its form.
    "file": ("store-file", ""),
    "file-named-service": ("store-file", "local:"),
    # store-memory: a flat store, where a name may be a blob and a folder at once.
    "memory": ("store-memory", ""),
}
if os.environ.get("XTSTORE_ABSTRACT_CLOUD") == "1":
    FLAVOURS.update({"s3": ("s3_config", ""), "azure": ("azure_config", "")})


class XtstoreFixtures(AbstractFixtures):
    @pytest.fixture(params=sorted(FLAVOURS))
    def flavour(self, request: pytest.FixtureRequest) -> tuple[str, str]:
        return FLAVOURS[request.param]

    @pytest.fixture
    def fs(self, flavour: tuple[str, str], tmp_path: Path,
           request: pytest.FixtureRequest) -> XtstoreFileSystem:
        provider, _ = flavour
        if provider.endswith("_config"):  # a server's config fixture (tests/filesystem)
            return XtstoreFileSystem(config=request.getfixturevalue(provider),
                                     skip_instance_cache=True)
        service = {"type": "storage", "provider": provider}
        if provider == "store-file":
            service["path"] = str(tmp_path / "store")
        config = write_config(tmp_path, {"local": service}, "local")
        return XtstoreFileSystem(config=config, skip_instance_cache=True)

    @pytest.fixture
    def fs_path(self, fs: XtstoreFileSystem, flavour: tuple[str, str]) -> Iterator[str]:
        container = f"{flavour[1]}abstract-{uuid.uuid4().hex[:10]}"
        fs.mkdir(container)
        yield container
        fs.rm(container, recursive=True)

    @pytest.fixture
    def fs_join(self):  # type: ignore[no-untyped-def]
        return posixpath.join

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        # Folders are the names of the blobs under them: an empty one cannot exist.
        return False


class TestXtstoreCopy(XtstoreFixtures, AbstractCopyTests):
    pass


class TestXtstoreGet(XtstoreFixtures, AbstractGetTests):
    pass


class TestXtstorePut(XtstoreFixtures, AbstractPutTests):
    pass


class TestXtstoreOpen(XtstoreFixtures, AbstractOpenTests):
    pass


class TestXtstorePipe(XtstoreFixtures, AbstractPipeTests):
    pass
