"""fsspec's own abstract tests (``fsspec.tests.abstract``, fsspec 2026.9.0: copy, get, put,
open, pipe) over ``xtstore://`` on store-file in a temporary folder, with the local file
system on the local side.

Each test runs in a fresh container, ``fs_path``, addressed both without and with the service
(``local:``). What cannot apply to a blob store is marked
below with its reason; everything else runs.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterator

import pytest
from fsspec.tests.abstract import AbstractFixtures
from fsspec.tests.abstract.copy import AbstractCopyTests
from fsspec.tests.abstract.get import AbstractGetTests
from fsspec.tests.abstract.open import AbstractOpenTests
from fsspec.tests.abstract.pipe import AbstractPipeTests
from fsspec.tests.abstract.put import AbstractPutTests

from xtstore.filesystem import XtstoreFileSystem


class XtstoreFixtures(AbstractFixtures):
    @pytest.fixture
    def fs(self, file_fs: XtstoreFileSystem) -> XtstoreFileSystem:
        return file_fs

    @pytest.fixture(params=["", "local:"], ids=["default-service", "named-service"])
    def fs_path(self, fs: XtstoreFileSystem, request: pytest.FixtureRequest) -> Iterator[str]:
        # Once in the default service's form (container/...), once naming the service
        # (local:container/...): every path fsspec builds and compares keeps its form.
        container = f"{request.param}abstract-{uuid.uuid4().hex[:10]}"
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
