"""The CLI tests' services on the emulators, and one view of a sync's side (local folder or
store folder) for tests that compare both ends.

:func:`write_cloud_config` rewrites the ``services`` fixture's config with an ``s3`` service
on the suite's moto server and an ``az`` service on its Azurite, beside ``local`` and
``other`` (store-file): the console script then reaches all four.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import xtstore
from tests.cli.conftest import Services
from tests.servers.azurite import Azurite
from tests.servers.s3_server import MotoServer

OLD_NS = 1_600_000_000_123_456_789
"""A modification time long before any test runs (files written earlier, as in real use)."""


def write_cloud_config(services: Services, moto: MotoServer | None = None,
                       azurite: Azurite | None = None) -> None:
    entries: dict[str, Any] = {
        "local": {"type": "storage", "provider": "store-file", "path": str(services.local_root)},
        "other": {"type": "storage", "provider": "store-file", "path": str(services.other_root)},
    }
    if moto is not None:
        entries["s3"] = moto.service_config()
    if azurite is not None:
        entries["az"] = {"type": "storage", "provider": "azure-blob",
                         "connection-string": azurite.connection_string}
    config = {"external-services": entries, "xt-services": {"storage": "local"}}
    services.config.write_text(json.dumps(config), encoding="utf-8")


class LocalSide:
    """A local folder below the test's work folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.address = str(root)

    def write(self, relative: str, data: bytes, mtime_ns: int = OLD_NS) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(mtime_ns, mtime_ns))

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink()

    def contents(self) -> dict[str, bytes]:
        if not self.root.exists():
            return {}
        return {path.relative_to(self.root).as_posix(): path.read_bytes()
                for path in sorted(self.root.rglob("*")) if path.is_file()}

    def stamps(self) -> dict[str, tuple[int, int]]:
        """Each file's inode and mtime: a file written again (even in place) changes them."""
        return {relative: ((self.root / relative).stat().st_ino,
                           (self.root / relative).stat().st_mtime_ns)
                for relative in self.contents()}

    def mtime_ns(self, relative: str) -> int:
        return (self.root / relative).stat().st_mtime_ns


class StoreSide:
    """A folder in a fresh container of one service, written and read in-process."""

    def __init__(self, services: Services, service: str, folder: str = "run1") -> None:
        self.store = xtstore.get_storage(service, config=xtstore.load_config(services.config))
        self.container = f"sync-{uuid.uuid4().hex[:10]}"
        self.store.create_container(self.container)
        self.prefix = folder + "/"
        self.address = f"{service}:{self.container}/{folder}"

    def write(self, relative: str, data: bytes, mtime_ns: int = OLD_NS) -> None:
        self.store.create_blob(self.container, self.prefix + relative, data,
                               metadata={"mtime": xtstore_format(mtime_ns)})

    def remove(self, relative: str) -> None:
        self.store.delete_blob(self.container, self.prefix + relative)

    def _names(self) -> list[str]:
        return sorted(name[len(self.prefix):] for name in self.store.list_blobs(
            self.container, self.prefix))

    def contents(self) -> dict[str, bytes]:
        return {name: self.store.get_blob_bytes(self.container, self.prefix + name)
                for name in self._names()}

    def stamps(self) -> dict[str, str]:
        """Each blob's etag: a blob written again gets a new one."""
        return {name: self.store.get_blob_properties(self.container, self.prefix + name)
                .properties.etag for name in self._names()}

    def mtime_ns(self, relative: str) -> int:
        from xtstore.fingerprints import mtime_ns

        properties = self.store.get_blob_properties(self.container, self.prefix + relative)
        return mtime_ns(properties.properties)


def xtstore_format(modified_ns: int) -> str:
    from xtstore.fingerprints import format_mtime

    return format_mtime(modified_ns)


Side = LocalSide | StoreSide
