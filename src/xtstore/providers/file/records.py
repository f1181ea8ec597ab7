"""The sidecar records of ``store-file``, kept outside the containers' namespace: blob and
container metadata (JSON files under ``.xtstore/meta``) and the snapshots under
``.xtstore/snapshots`` (hard links named by snapshot id, which encodes when each was made).

Setting a blob's metadata changes neither its etag nor its last-modified time. A record is
rewritten whole through the write path (:meth:`~xtstore.providers.file.writes.Writer
.replace_record`), and a blob's record is set under the lock that deleting the blob takes,
so no record outlives its blob."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from xtstore.errors import BlobNotFound
from xtstore.localfiles.oscalls import unlink_quietly
from xtstore.providers._shared import snapshot_created
from xtstore.providers.file.confinement import Confinement
from xtstore.providers.file.layout import SNAPSHOT_ID, Layout
from xtstore.providers.file.writes import Writer
from xtstore.values import SnapshotInfo

__all__ = ["Records"]


class Records:
    """The metadata and snapshot records of one store."""

    __slots__ = ("_confined", "_layout", "_writer")

    def __init__(self, layout: Layout, confined: Confinement, writer: Writer) -> None:
        self._layout = layout
        self._confined = confined
        self._writer = writer

    # ---- blob metadata ----

    def blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        """The blob's metadata record (empty if it has none); the blob is not checked."""
        try:
            with open(self._layout.meta_file(container, blob_path), "rb") as handle:
                return dict(json.loads(handle.read())["metadata"])
        except FileNotFoundError:
            return {}

    def copy_blob_metadata(self, container: str, blob_path: str,
                           metadata: Mapping[str, str]) -> None:
        """Give a copy its source's ``metadata``: a record, or none if it is empty. The copy
        is not checked."""
        if metadata:
            self._replace_blob_record(container, blob_path, metadata)
        else:
            unlink_quietly(self._layout.meta_file(container, blob_path))

    def set_blob_metadata(self, container: str, blob_path: str,
                          metadata: Mapping[str, str]) -> None:
        """Replace the blob's metadata. Raises :class:`BlobNotFound`."""
        # Under the lock that deleting a blob takes, so no record is written for a blob that
        # a concurrent delete has just removed.
        with self._layout.blob_lock(container, blob_path) as lock_path:
            try:
                self._confined.stat_blob(container, blob_path)
            except BlobNotFound:
                os.unlink(lock_path)  # leave no lock file for a blob that is not there
                raise
            self._replace_blob_record(container, blob_path, metadata)

    def _replace_blob_record(self, container: str, blob_path: str,
                             metadata: Mapping[str, str]) -> None:
        document = json.dumps({"blob": blob_path, "metadata": dict(metadata)}).encode()
        self._writer.replace_record(self._layout.meta_file(container, blob_path), document)

    # ---- container metadata ----

    def container_metadata(self, container: str) -> dict[str, str]:
        """Raises :class:`ContainerNotFound`."""
        self._layout.require_container(container)
        try:
            with open(self._layout.container_meta_file(container), "rb") as handle:
                return dict(json.loads(handle.read()))
        except FileNotFoundError:
            return {}

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Raises :class:`ContainerNotFound`."""
        self._layout.require_container(container)
        document = json.dumps(dict(metadata)).encode()
        self._writer.replace_record(self._layout.container_meta_file(container), document)

    # ---- snapshots ----

    def snapshot_info(self, container: str, blob_path: str, snapshot_id: str) -> SnapshotInfo:
        return SnapshotInfo(container, blob_path, snapshot_id, snapshot_created(snapshot_id))

    def snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """Oldest first. Raises :class:`ContainerNotFound`."""
        self._layout.require_container(container)
        try:
            ids = sorted(name for name in os.listdir(self._layout.snapshot_folder(
                container, blob_path)) if SNAPSHOT_ID.fullmatch(name))
        except FileNotFoundError:
            ids = []
        return [self.snapshot_info(container, blob_path, i) for i in ids]
