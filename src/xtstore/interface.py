"""``StoreInterface``: the one abstract class every storage provider implements (DESIGN §1).

The abstract methods are XT's storage interface with its names and signatures; ``get_retry``,
``set_retry``, ``get_service_name()`` and ``capabilities()`` have defaults, so a class that
implements only XT's methods is complete. The concrete methods below them are additions
(bytes, streams, metadata setters, snapshot listing, an iterator form of listing) with default
implementations built only from XT's methods, so a provider written for XT gets them for free
and a built-in provider overrides them with something faster.

Providers hold only store-specific code: ``get_storage()`` wraps every provider in
:class:`xtstore.store.Store`, which validates names before any I/O, retries transient errors
and makes every error name its service, container and blob (a built-in provider's public
class, e.g. ``FileStore``, is itself a ``Store`` around its implementation, so it keeps the
contract when XT builds it bare). A provider therefore receives
names that are already valid and canonical:

* ``container`` is a valid container name;
* ``blob_path`` has no leading ``/`` and no empty, ``.`` or ``..`` segment;
* ``list_blobs``'s ``path`` is ``""`` (whole container), ``"foo/"`` (a folder) or ``"foo*"``
  (a raw name prefix). User-written providers loaded by code path get ``path`` the same way.
"""

from __future__ import annotations

import abc
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from xtstore.errors import Unsupported
from xtstore.values import BlobInfo, Capabilities, ContainerInfo, SnapshotInfo, Support

__all__ = [
    "XT_METHODS",
    "ProgressCallback",
    "RetryFunction",
    "RetrySetting",
    "StoreInterface",
    "Text",
]

ProgressCallback = Callable[[int, int], Any]
"""``progress_callback(current_bytes, total_bytes)``: non-decreasing, ends at (total, total)."""

Text = str | bytes
"""Blob content given as ``str`` (stored as UTF-8) or ``bytes``."""

RetryFunction = Callable[[Any], "float | None"]
"""XT's retry function (what ``xtlib.utils.make_retry_func(n)`` returns): called with an
azure-storage 2.x style context before each retry, it returns the seconds to wait, or None to
stop retrying (see :class:`xtstore.layers.retry.RetryContext`)."""

RetrySetting = int | RetryFunction
"""What ``set_retry`` takes and ``get_retry`` returns: a number of retries, or XT's retry
function."""

XT_METHODS: tuple[str, ...] = (
    "get_retry",
    "set_retry",
    "does_container_exist",
    "create_container",
    "list_containers",
    "delete_container",
    "get_container_properties",
    "get_container_metadata",
    "does_blob_exist",
    "create_blob",
    "create_blob_from_path",
    "append_blob",
    "list_blobs",
    "delete_blob",
    "get_blob_text",
    "get_blob_to_path",
    "get_blob_properties",
    "get_blob_metadata",
    "copy_blob",
    "snapshot_blob",
)
"""The methods a class must have to be accepted as a storage provider (XT's interface)."""

COPY_CHUNK_SIZE = 4 * 1024 * 1024


class StoreInterface(abc.ABC):
    """The storage provider interface. Subclass it, or simply have every method of
    :data:`XT_METHODS` (classes written with the ``interface`` package load as they are).

    A provider class is constructed with one argument: the service's config dict, secrets
    resolved and ``name`` set to the service's name.
    """

    # ---- misc ----

    def get_retry(self) -> RetrySetting:
        """What ``set_retry`` was last given (0 if never called)."""
        setting: RetrySetting = getattr(self, "_xtstore_retry", 0)
        return setting

    def set_retry(self, value: RetrySetting) -> None:
        """Keep ``value`` (a number of retries or XT's retry function) as it is. The store
        around the provider does the retrying; a provider that retries by itself overrides
        this to follow ``value`` too, so that attempts are never multiplied."""
        self._xtstore_retry = value

    def get_service_name(self) -> str:
        """The name of the service this store was configured as: by default the ``name`` the
        provider kept from its settings, else its class name."""
        name = getattr(self, "name", None)
        return name if isinstance(name, str) and name else type(self).__name__

    def capabilities(self) -> Capabilities:
        """What the store does natively, emulates, or cannot do. The default suits a class
        written for XT: everything emulated from XT's methods, and metadata only if the class
        has its own setters (XT's interface reads metadata but cannot write it)."""
        cls = type(self)
        has_setters = (
            cls.set_blob_metadata is not StoreInterface.set_blob_metadata
            and cls.set_container_metadata is not StoreInterface.set_container_metadata
        )
        return Capabilities(metadata=Support.EMULATED if has_setters else Support.UNSUPPORTED)

    # ---- containers ----

    @abc.abstractmethod
    def does_container_exist(self, container: str) -> bool:
        """True if the container exists."""

    @abc.abstractmethod
    def create_container(self, container: str) -> bool:
        """Create an empty container and return True (XT's callers test the result). Raises
        ``ContainerAlreadyExists``."""

    @abc.abstractmethod
    def list_containers(self) -> list[str]:
        """Every container's name, sorted."""

    @abc.abstractmethod
    def delete_container(self, container: str) -> bool:
        """Delete the container with everything in it and return True (XT's callers test the
        result). Raises ``ContainerNotFound``."""

    @abc.abstractmethod
    def get_container_properties(self, container: str) -> ContainerInfo:
        """Name, last-modified time and metadata. Raises ``ContainerNotFound``."""

    @abc.abstractmethod
    def get_container_metadata(self, container: str) -> dict[str, str]:
        """The container's metadata. Raises ``ContainerNotFound``."""

    # ---- blobs ----

    @abc.abstractmethod
    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        """True if the blob exists (False, not an error, when the container does not)."""

    @abc.abstractmethod
    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False
    ) -> None:
        """Write the whole blob atomically. With ``fail_if_exists``, raise
        ``BlobAlreadyExists`` if it exists; of N concurrent creators exactly one wins.
        Raises ``ContainerNotFound``."""

    @abc.abstractmethod
    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Upload a local file with memory bounded independently of its size. Raises
        ``ContainerNotFound``; ``FileNotFoundError`` if ``source_fn`` is missing."""

    @abc.abstractmethod
    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Append to the blob, creating it if missing. Concurrent appends lose nothing and
        never interleave inside one call's text. ``append_with_rewrite`` asks for
        read-modify-write under an etag condition."""

    @abc.abstractmethod
    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        """List blobs under ``path`` (see the module doc for the canonical forms), sorted by
        full name. ``recursive=False`` adds each child folder once as ``"a/b/"``.
        Raises ``ContainerNotFound``."""

    @abc.abstractmethod
    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """Delete the blob and its snapshots, or with ``snapshot`` only that snapshot.
        Raises ``BlobNotFound``."""

    @abc.abstractmethod
    def get_blob_text(self, container: str, blob_path: str) -> str:
        """The blob's content decoded as UTF-8. Raises ``BlobNotFound``."""

    @abc.abstractmethod
    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Download to ``dest_fn`` (parent folders created) with bounded memory; never leave a
        partial ``dest_fn`` after a failure. Raises ``BlobNotFound``."""

    @abc.abstractmethod
    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """The blob's :class:`BlobInfo` with metadata. Raises ``BlobNotFound``."""

    @abc.abstractmethod
    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        """The blob's metadata. Raises ``BlobNotFound``."""

    @abc.abstractmethod
    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Copy, overwriting the destination; server-side where the store can."""

    @abc.abstractmethod
    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """Freeze the blob's current content under a new snapshot id."""

    # ---- additions, with defaults built from XT's methods ----

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """The blob's exact bytes (or a snapshot's). Raises ``BlobNotFound``."""
        with self.open_blob(container, blob_path, snapshot=snapshot) as stream:
            return stream.read()

    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """A readable binary stream of the blob's content. The default downloads to a
        temporary file; providers override it to stream. Raises ``BlobNotFound``."""
        handle, temp_fn = tempfile.mkstemp(prefix="xtstore-")
        os.close(handle)
        try:
            self.get_blob_to_path(container, blob_path, temp_fn, snapshot=snapshot)
            stream = open(temp_fn, "rb")  # noqa: SIM115 - the caller closes it
        finally:
            os.unlink(temp_fn)
        return stream

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Upload everything ``stream`` yields, atomically, with bounded memory. The default
        spools to a temporary file; providers override it to stream."""
        with tempfile.NamedTemporaryFile(prefix="xtstore-") as spool:
            shutil.copyfileobj(stream, spool, COPY_CHUNK_SIZE)
            spool.flush()
            self.create_blob_from_path(
                container, blob_path, spool.name, progress_callback=progress_callback
            )

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """``list_blobs(return_names=False)`` as an iterator (providers page lazily)."""
        entries = self.list_blobs(container, path, return_names=False, recursive=recursive)
        for entry in entries:
            if isinstance(entry, str):
                yield BlobInfo(name=entry, is_dir=entry.endswith("/"))
            else:
                yield entry

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Replace the blob's metadata. Raises ``BlobNotFound``."""
        raise Unsupported("this provider cannot set blob metadata", container=container,
                          blob=blob_path)

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Replace the container's metadata. Raises ``ContainerNotFound``."""
        raise Unsupported("this provider cannot set container metadata", container=container)

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """The blob's snapshots, oldest first."""
        raise Unsupported("this provider cannot list snapshots", container=container,
                          blob=blob_path)

