"""``StoreInterface``: the one abstract class every provider implements (docs/contract.md §1).

The methods are XT's storage interface with its names and signatures, plus additions (bytes,
streams, metadata setters, snapshot listing, an iterator form of listing). Every method that can
be built correctly from others has a default built from them (docs/contract.md §1, "What a
provider must write"), so a provider writes only the abstract methods plus one of each pair in
:data:`ONE_OF_EACH`, and overrides a default only to be faster. A class written for XT, with all
of XT's methods, is complete too.

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
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, TypeVar, cast

from xtstore.errors import ContainerNotFound, StoreError, Unsupported
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    Capabilities,
    ContainerInfo,
    SnapshotInfo,
    Support,
)
from xtstore.writer import BlobWriter

__all__ = [
    "ONE_OF_EACH",
    "XT_METHODS",
    "ProgressCallback",
    "RetryFunction",
    "RetrySetting",
    "StoreInterface",
    "Text",
    "delete_each",
    "lists_names",
    "unimplemented_methods",
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
"""The methods a class with no ``StoreInterface`` base must have to be accepted as a storage
provider (XT's interface). A ``StoreInterface`` subclass needs fewer: see
:func:`unimplemented_methods`."""

ONE_OF_EACH: tuple[tuple[str, str], ...] = (
    ("list_blobs", "iter_blobs"),
    ("create_blob_from_path", "create_blob_from_stream"),
)
"""Pairs of methods whose defaults are built from each other: a provider implements at least one
of each pair, and gets the other (``StoreInterface`` refuses to construct a class with neither,
which would otherwise call itself for ever)."""

COPY_CHUNK_SIZE = 4 * 1024 * 1024

_Provider = TypeVar("_Provider", bound="StoreInterface")
_Method = TypeVar("_Method", bound=Callable[..., Any])

_running_defaults = threading.local()


def _built_from(*blocks: str) -> Callable[[_Method], _Method]:
    """Mark a default as built from the methods ``blocks``. A provider whose own ``blocks``
    call the method back (e.g. a ``get_container_properties`` that reads
    ``get_container_metadata``) would recurse until ``RecursionError``; this raises a
    ``TypeError`` saying which method to implement instead."""

    def decorate(default: _Method) -> _Method:
        name = default.__name__

        @functools.wraps(default)
        def guarded(self: StoreInterface, *args: Any, **kwargs: Any) -> Any:
            running: set[tuple[int, str]] = _running_defaults.__dict__.setdefault("calls", set())
            call = (id(self), name)
            if call in running:
                raise TypeError(
                    f"{type(self).__qualname__}.{name} has no implementation of its own, and "
                    f"its default is built from {' and '.join(blocks)}, which called it back: "
                    f"implement {name} (docs/contract.md §1)")
            running.add(call)
            try:
                return default(self, *args, **kwargs)
            finally:
                running.discard(call)

        return cast(_Method, guarded)

    return decorate


def unimplemented_methods(cls: type[StoreInterface]) -> list[str]:
    """What a ``StoreInterface`` subclass must still implement before it can be constructed.

    Returns:
        Its abstract methods, sorted, then ``"either A or B"`` for each pair of
        :data:`ONE_OF_EACH` that it implements neither of; empty for a complete provider.
    """
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    for pair in ONE_OF_EACH:
        if all(getattr(cls, name) is getattr(StoreInterface, name) for name in pair):
            missing.append("either " + " or ".join(pair))
    return missing


@functools.lru_cache(maxsize=256)
def lists_names(cls: type) -> bool:
    """Whether the provider class ``cls`` has its own names-only listing
    (:meth:`StoreInterface.iter_blob_names`), which the Store then uses for
    ``list_blobs(return_names=True)`` and ``iter_blob_names``.

    Only where no subclass below the one that wrote it overrides ``list_blobs`` or
    ``iter_blobs``: a subclass that changes its listing and inherits the names keeps its
    own listing for names too."""
    mro = cls.__mro__

    def writer(method: str) -> int:
        return next((index for index, base in enumerate(mro) if method in vars(base)),
                    len(mro))

    names = writer("iter_blob_names")
    if names >= len(mro) or mro[names] is StoreInterface:
        return False
    return names <= min(writer("list_blobs"), writer("iter_blobs"))


def delete_each(delete_blob: Callable[[str, str], None], container: str,
                names: Iterable[str]) -> dict[str, StoreError | None]:
    """``delete_blobs`` one name at a time: ``delete_blob(container, name)`` once per name
    (in order, a repeated name once), each outcome None or that name's ``StoreError``;
    ``ContainerNotFound`` ends it (the default of :meth:`StoreInterface.delete_blobs`, and
    the Store's for a provider without batches)."""
    outcomes: dict[str, StoreError | None] = {}
    for name in names:
        if name in outcomes:
            continue
        try:
            delete_blob(container, name)
        except ContainerNotFound:
            raise
        except StoreError as error:
            outcomes[name] = error
        else:
            outcomes[name] = None
    return outcomes


class StoreInterface(abc.ABC):
    """The storage provider interface (docs/contract.md §1). Subclass it, or simply have
    every method of :data:`XT_METHODS` (classes written with the ``interface`` package load as
    they are, through :class:`xtstore.adapter.ForeignProvider`).

    A provider class is constructed with one argument: the service's config dict, ``${NAME}``
    and secrets resolved and ``name`` set to the service's name. It raises
    ``ConfigError(reason, key_path=...)`` for a bad key; xtstore adds the file and full key path.

    A subclass implements the abstract methods and one method of each pair in
    :data:`ONE_OF_EACH`; every other method has a default built from those (each default's
    Notes say from what, and when to override it for speed). Constructing a class that misses
    one raises ``TypeError`` naming every method still to write. Methods receive names that
    are already valid and canonical (see the module doc), return the library's value types,
    raise :mod:`xtstore.errors` types and never retry: the ``Store`` around them does that.
    """

    def __new__(cls: type[_Provider], *args: Any, **kwargs: Any) -> _Provider:
        # abc's own check cannot say that one method of a pair is enough, nor catch a class
        # implementing neither (whose defaults would call each other for ever).
        missing = unimplemented_methods(cls)
        if missing:
            raise TypeError(f"cannot construct {cls.__qualname__}: it does not implement "
                            f"{', '.join(missing)} (docs/contract.md §1)")
        return super().__new__(cls)

    # ---- misc ----

    def get_retry(self) -> RetrySetting:
        """What ``set_retry`` was last given: a number of retries, or the very retry
        function.

        Returns:
            The value as it was given (the same object for a function); 0 if never set.
        """
        setting: RetrySetting = getattr(self, "_xtstore_retry", 0)
        return setting

    def set_retry(self, value: RetrySetting) -> None:
        """Set how often a transient failure (timeout, connection reset, HTTP
        408/429/5xx) is retried, with exponential backoff and full jitter.

        Non-transient errors are never retried, and a non-idempotent request (append, create-only
        write, delete, snapshot) is repeated only when it surely never reached the store or its
        provider made the repeat harmless (``xtstore.attempts``, docs/contract.md §1 "Retry").

        Args:
            value: A number of retries (an int >= 0; the policy keeps its delays and time budget),
                or XT's retry function (what ``xtlib.utils.make_retry_func(n)`` returns), asked
                before each retry how many seconds to wait, None to stop.

        Raises:
            ConfigError: ``value`` is neither an int >= 0 nor a callable (checked by ``Store``).

        Notes:
            The default keeps ``value`` as it is: the ``Store`` around the provider does the
            retrying. A provider that retries by itself overrides this to follow ``value`` too, so
            that attempts are never multiplied.
        """
        self._xtstore_retry = value

    def get_service_name(self) -> str:
        """The name of the service this store was configured as.

        Returns:
            By default the ``name`` the provider kept from its settings, else its class name.
        """
        name = getattr(self, "name", None)
        return name if isinstance(name, str) and name else type(self).__name__

    def capabilities(self) -> Capabilities:
        """What the store does natively, emulates, or cannot do.

        A feature reported ``UNSUPPORTED`` raises :class:`Unsupported` when used, never a silent
        no-op; ``EMULATED`` has the same observable behaviour as ``NATIVE``.

        Returns:
            A :class:`Capabilities`. The default suits a class written for XT: everything emulated
            from XT's methods, and metadata only if the class has its own setters (XT's interface
            reads metadata but cannot write it).
        """
        cls = type(self)
        has_setters = (
            cls.set_blob_metadata is not StoreInterface.set_blob_metadata
            and cls.set_container_metadata is not StoreInterface.set_container_metadata
        )
        return Capabilities(metadata=Support.EMULATED if has_setters else Support.UNSUPPORTED)

    # ---- containers ----

    @_built_from("get_container_properties")
    def does_container_exist(self, container: str) -> bool:
        """Whether the container exists.

        Args:
            container: A valid container name.

        Returns:
            True if it exists, else False (never ``ContainerNotFound``).

        Notes:
            The default asks :meth:`get_container_properties` and answers False when it raises
            ``ContainerNotFound`` (or the ``FileNotFoundError`` the store translates into it).
            Override it where the store has a cheaper existence check.
        """
        try:
            self.get_container_properties(container)
        except (ContainerNotFound, FileNotFoundError):
            return False
        return True

    @abc.abstractmethod
    def create_container(self, container: str) -> bool:
        """Create an empty container.

        Args:
            container: A valid container name.

        Returns:
            True (XT's callers, e.g. ``StoreBlobObjs.create_workspace``, take a falsy result as
            failure).

        Raises:
            ContainerAlreadyExists: The container exists.
        """

    @abc.abstractmethod
    def list_containers(self) -> list[str]:
        """Every container's name, sorted.

        Returns:
            The names in ascending order; a provider's own bookkeeping is never listed.
        """

    @abc.abstractmethod
    def delete_container(self, container: str) -> bool:
        """Delete the container with every blob, snapshot and metadata record in it.

        Args:
            container: A valid container name.

        Returns:
            True (XT's callers test the result).

        Raises:
            ContainerNotFound: The container does not exist.
        """

    @abc.abstractmethod
    def get_container_properties(self, container: str) -> ContainerInfo:
        """The container's name, last-modified time and metadata.

        Args:
            container: A valid container name.

        Returns:
            A :class:`ContainerInfo` (``.last_modified`` timezone-aware UTC; ``.metadata`` a new
            plain dict on each access).

        Raises:
            ContainerNotFound: The container does not exist.
        """

    @_built_from("get_container_properties")
    def get_container_metadata(self, container: str) -> dict[str, str]:
        """The container's metadata.

        Args:
            container: A valid container name.

        Returns:
            A plain ``dict`` of str to str (``json.dumps`` accepts it).

        Raises:
            ContainerNotFound: The container does not exist.

        Notes:
            The default is ``get_container_properties(container).metadata``. Override it where
            the store reads metadata more cheaply than all the properties.
        """
        return self.get_container_properties(container).metadata

    # ---- blobs ----

    @_built_from("get_blob_properties")
    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        """Whether the blob exists.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.

        Returns:
            True if it exists; False, not an error, when the blob or its container does not.

        Notes:
            The default asks :meth:`get_blob_properties` and answers False when it raises
            ``BlobNotFound`` or ``ContainerNotFound`` (or a ``FileNotFoundError``, which the
            store translates into them). Override it where the store has a cheaper existence
            check than reading the properties and metadata.
        """
        try:
            self.get_blob_properties(container, blob_path)
        except (FileNotFoundError, ContainerNotFound):  # BlobNotFound is a FileNotFoundError
            return False
        return True

    @abc.abstractmethod
    def create_blob(
        self, container: str, blob_path: str, text: Text, fail_if_exists: bool = False
    ) -> None:
        """Write the whole blob, replacing any previous content, atomically.

        A reader sees the old content or the new, never a mix. The blob's metadata is cleared (as
        on Azure) and its etag changes.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            text: The content: ``str`` (stored as UTF-8) or ``bytes`` (stored exactly).
            fail_if_exists: Create only: fail if the blob exists. Atomic: of N concurrent creators
                (threads or processes) exactly one succeeds, and the blob holds its content.

        Raises:
            BlobAlreadyExists: ``fail_if_exists`` and the blob exists.
            ContainerNotFound: The container does not exist.
        """

    @_built_from("create_blob_from_stream")
    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Upload a local file as the blob's whole content, atomically, with memory
        bounded independently of the file's size.

        An upload that fails part-way leaves the old blob as it was. Metadata is cleared, as by
        ``create_blob``.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            source_fn: The local file to read.
            progress_callback: Called as ``(current_bytes, total_bytes)`` with non-decreasing values
                and one constant total, ending at ``(total, total)``.

        Raises:
            ContainerNotFound: The container does not exist.
            FileNotFoundError: ``source_fn`` is missing.

        Notes:
            The default opens ``source_fn`` and hands it to :meth:`create_blob_from_stream`
            with its size as ``length``, so it keeps that method's atomicity, memory bound and
            progress reports; a provider implements at least one of the two (:data:`ONE_OF_EACH`).
            Override it where the store uploads a file faster than a stream (e.g. parts read in
            parallel).
        """
        with open(source_fn, "rb") as source:
            length = os.fstat(source.fileno()).st_size
            self.create_blob_from_stream(container, blob_path, source, length=length,
                                         progress_callback=progress_callback)

    @abc.abstractmethod
    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        """Append to the blob, creating it if missing.

        Works on any blob this library created. Concurrent appends from several processes lose
        nothing and never interleave inside one call's text. The blob's metadata is kept.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            text: What to append: ``str`` (as UTF-8) or ``bytes``.
            append_with_rewrite: Read-modify-write under an etag condition instead of a native
                append (for stores with none); just as safe.

        Raises:
            ContainerNotFound: The container does not exist.

        Notes:
            No default: the interface has no conditional write to build a safe
            read-modify-write from.
        """

    @_built_from("iter_blobs")
    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        """The blobs under ``path``, as full names relative to the container, sorted.

        Args:
            container: A valid container name.
            path: ``""`` (the whole container), ``"foo/"`` (the folder ``foo``: never ``foobar``)
                or ``"foo*"`` (the raw name prefix ``foo``: ``foo/x`` and ``foobar``); the ``Store``
                turns ``None``, ``"foo"`` and ``"/foo"`` into these forms. An unknown path gives
                ``[]``.
            return_names: True for names; False for :class:`BlobInfo` entries with ``.name``,
                ``.is_dir`` and ``.properties`` (``content_length``, timezone-aware UTC
                ``last_modified``, ``modified_ns``, ``etag``); folder entries have ``is_dir=True``
                and ``properties=None``.
            recursive: True for every blob under the path and no folder entries; False for the
                blobs directly under it plus each child folder once, as ``"foo/bar/"``.

        Returns:
            The names or entries, sorted by full name. Snapshots never appear.

        Raises:
            ContainerNotFound: The container does not exist.

        Notes:
            The default collects :meth:`iter_blobs` and sorts it by name (linear for a sorted
            stream; a store whose pages give folders and blobs apart needs it); a provider
            implements at least one of the two (:data:`ONE_OF_EACH`). A provider that pages
            lazily implements ``iter_blobs`` and gets this; override it only where a whole
            listing is faster in one piece.
        """
        entries = sorted(self.iter_blobs(container, path, recursive=recursive),
                         key=lambda entry: entry.name)
        if return_names:
            return [entry.name for entry in entries]
        return entries

    @abc.abstractmethod
    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        """Delete the blob and all its snapshots, or only one snapshot.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            snapshot: None for the blob and every snapshot of it (their ids stop working, also
                after the blob is created again); a snapshot id for that snapshot only.

        Raises:
            BlobNotFound: The blob (or the snapshot) does not exist.
        """

    def delete_blobs(
        self, container: str, blob_paths: Sequence[str]
    ) -> dict[str, StoreError | None]:
        """Delete many blobs, each with all its snapshots, as ``delete_blob`` would.

        Args:
            container: A valid container name.
            blob_paths: Canonical blob paths (a name given twice is deleted once).

        Returns:
            For each name, in the order given: None where it was deleted, else the typed
            error of that name alone (``BlobNotFound`` for a blob that does not exist), so
            that one missing blob among many fails only itself.

        Raises:
            ContainerNotFound: The container does not exist (nothing of it can be deleted).

        Notes:
            The default calls ``delete_blob`` once per name. A store that deletes many
            objects in one request overrides it (store-s3: DeleteObjects, 1,000 keys a
            request); its deletes must stay safe to repeat after a lost response, never
            reporting a blob this call deleted as not found (``xtstore.attempts``).
        """
        return delete_each(self.delete_blob, container, blob_paths)

    @_built_from("get_blob_bytes")
    def get_blob_text(self, container: str, blob_path: str) -> str:
        """The blob's content decoded as UTF-8.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.

        Returns:
            A ``str``.

        Raises:
            BlobNotFound: The blob does not exist.
            UnicodeDecodeError: The content is not UTF-8.

        Notes:
            The default decodes :meth:`get_blob_bytes`, which itself defaults to a download
            through :meth:`get_blob_to_path`: a provider that overrides ``get_blob_bytes``
            gets a fast ``get_blob_text`` too.
        """
        return self.get_blob_bytes(container, blob_path).decode("utf-8")

    @abc.abstractmethod
    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> BlobProperties | None:
        """Download the blob (or a snapshot) to a local file, whole or nothing, with
        memory bounded independently of its size.

        The parent folders of ``dest_fn`` are created. After a failure (also a killed process)
        neither a partial ``dest_fn`` nor a temporary file is left at the destination; an existing
        ``dest_fn`` is replaced only by the complete content.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            dest_fn: The local file to write.
            snapshot: A snapshot id from ``snapshot_blob``, to read the content as it was then.
            progress_callback: As for ``create_blob_from_path``.

        Returns:
            The properties of the version written to ``dest_fn``, read from the response(s)
            that carried its content (as ``get_blob_properties`` would give them for that
            version: size, etag, content type, metadata, checksums), or None where the
            provider does not know them without another request. A caller that needs them
            (the ``mtime`` metadata of a download) asks ``get_blob_properties`` only on None.

        Raises:
            BlobNotFound: The blob or the snapshot does not exist.

        Notes:
            No default: whole or nothing, also when the process is killed, needs the core's
            local-file writer, which the interface cannot use (it imports nothing of the core).
            ``open_blob``, ``get_blob_bytes`` and ``get_blob_text`` default to this method.
        """

    @abc.abstractmethod
    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        """The blob's size, last-modified time, etag and metadata.

        Returns:
            The same :class:`BlobInfo` as its listing entry, with ``.metadata`` filled (a new plain
            dict on each access). The etag changes on every write of content.

        Raises:
            BlobNotFound: The blob does not exist.
        """

    @_built_from("get_blob_properties")
    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        """The blob's metadata.

        Returns:
            A plain ``dict`` of str to str (``json.dumps`` accepts it); empty after a
            ``create_blob`` or upload.

        Raises:
            BlobNotFound: The blob does not exist.

        Notes:
            The default is ``get_blob_properties(container, blob_path).metadata``. Override it
            where the store reads metadata more cheaply than all the properties.
        """
        return self.get_blob_properties(container, blob_path).metadata

    @abc.abstractmethod
    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        """Copy a blob, overwriting the destination; server-side where the store can.

        Works across containers and within one. The metadata is copied; the source is unchanged,
        and a later write to the source leaves the copy alone.

        Args:
            source_container: The source blob's container.
            source_blob_path: The source blob's canonical path.
            dest_container: The destination's container.
            dest_blob_path: The destination's canonical path.

        Raises:
            BlobNotFound: The source does not exist.
            ContainerNotFound: A container does not exist.

        Notes:
            No default: a copy built from a download and an upload could not write the content
            and its metadata in one step.
        """

    @abc.abstractmethod
    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        """Freeze the blob's current content under a new snapshot id.

        Reading with that id (``get_blob_to_path``, ``get_blob_bytes``, ``open_blob``) gives the
        content as it was, whatever is written or appended later. Snapshots never appear in
        ``list_blobs``.

        Returns:
            A :class:`SnapshotInfo` whose ``.snapshot`` is an opaque string id.

        Raises:
            BlobNotFound: The blob does not exist.
        """

    # ---- additions, with defaults built from the methods above ----

    @_built_from("open_blob")
    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        """The blob's exact bytes, or a snapshot's.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            snapshot: A snapshot id, or None for the current content.

        Raises:
            BlobNotFound: The blob or the snapshot does not exist.

        Notes:
            The default reads through :meth:`open_blob`.
        """
        with self.open_blob(container, blob_path, snapshot=snapshot) as stream:
            return stream.read()

    @_built_from("get_blob_to_path")
    def open_blob(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> IO[bytes]:
        """A readable binary stream of the blob's content, or a snapshot's.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            snapshot: A snapshot id, or None for the current content.

        Returns:
            A binary file object; the caller closes it.

        Raises:
            BlobNotFound: The blob or the snapshot does not exist.

        Notes:
            The default downloads to a temporary file with ``get_blob_to_path``; providers
            override it to stream.
        """
        import tempfile  # here: most commands never spool

        handle, temp_fn = tempfile.mkstemp(prefix="xtstore-")
        os.close(handle)
        try:
            self.get_blob_to_path(container, blob_path, temp_fn, snapshot=snapshot)
            stream = open(temp_fn, "rb")  # noqa: SIM115 - the caller closes it
        finally:
            os.unlink(temp_fn)
        return stream

    @_built_from("open_blob")
    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        """The bytes ``[start, end)`` of the blob, or of a snapshot: ``content[start:end]``.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            start: The first byte's offset, ``>= 0``.
            end: The offset after the last byte (exclusive, as in a slice), ``>= start``;
                None reads to the end. A range past the end is cut there (``b""`` when
                ``start`` is at or past it).
            snapshot: A snapshot id, or None for the current content.

        Raises:
            BlobNotFound: The blob or the snapshot does not exist.
            InvalidArgument: ``start`` or ``end`` is not a valid offset (the Store checks,
                before any request).

        Notes:
            The default seeks a stream from :meth:`open_blob` (or reads up to ``start`` where
            it cannot seek, as an XT provider's HTTP body); providers override it with one
            ranged request.
        """
        with self.open_blob(container, blob_path, snapshot=snapshot) as stream:
            if start:
                _skip_to(stream, start)
            return _read_up_to(stream, None if end is None else max(0, end - start))

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        """What ``open_blob(container, blob_path, mode="wb")`` returns: a writer whose content
        becomes the blob's whole content, atomically, on ``close()``, and never if it is
        aborted, fails or is killed (:mod:`xtstore.writer`), with memory bounded by one part.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            content_type: The blob's content type (passed only where
                ``capabilities().content_types``).
            metadata: The blob's metadata, stored with the content (passed only where
                ``capabilities().create_metadata``).

        Raises:
            ContainerNotFound: The container does not exist (at the call).

        Notes:
            The default spools the parts to an unnamed local file and uploads it with
            :meth:`create_blob_from_stream` on close; providers override it to upload parts
            as they are written (blocks, multipart parts, resumable chunks).
        """
        if not self.does_container_exist(container):
            raise ContainerNotFound("container not found", container=container)
        return BlobWriter(_SpooledUpload(self, container, blob_path, content_type, metadata))

    @_built_from("create_blob_from_path")
    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> None:
        """Upload everything ``stream`` yields as the blob's whole content,
        atomically, with bounded memory; the same rules as ``create_blob_from_path``.

        Args:
            container: A valid container name.
            blob_path: A canonical blob path.
            stream: A readable binary stream, read to its end.
            length: The number of bytes, if known (for progress and multipart sizing).
            progress_callback: As for ``create_blob_from_path``.

        Raises:
            ContainerNotFound: The container does not exist.

        Notes:
            The default spools to a temporary file and calls ``create_blob_from_path``; a
            provider implements at least one of the two (:data:`ONE_OF_EACH`), and one that
            can stream implements this one and gets ``create_blob_from_path``.
        """
        import shutil  # here: most commands never spool
        import tempfile

        with tempfile.NamedTemporaryFile(prefix="xtstore-") as spool:
            shutil.copyfileobj(stream, spool, COPY_CHUNK_SIZE)
            spool.flush()
            self.create_blob_from_path(
                container, blob_path, spool.name, progress_callback=progress_callback
            )

    @_built_from("list_blobs")
    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        """``list_blobs(container, path, return_names=False, recursive=recursive)`` as
        an iterator of :class:`BlobInfo`, in the same order.

        Raises:
            ContainerNotFound: The container does not exist (at the call, before iterating).

        Notes:
            Providers page lazily, so a container of millions of blobs is never held in memory.
            The default iterates ``list_blobs`` (whole, so a missing container fails at the
            call); a provider implements at least one of the two (:data:`ONE_OF_EACH`), and
            one that can page implements this one and gets ``list_blobs``.
        """
        entries = self.list_blobs(container, path, return_names=False, recursive=recursive)
        return iter([
            BlobInfo(name=entry, is_dir=entry.endswith("/")) if isinstance(entry, str) else entry
            for entry in entries
        ])

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """The names of ``iter_blobs(container, path, recursive=recursive)``, in the same
        order, asked of the store as names only: optional, for speed.

        The same names, path forms and order as ``iter_blobs`` (sorted by full name), with
        each child folder once as ``"foo/bar/"`` when ``recursive=False``; but the provider
        asks its store for names only (no properties, metadata or checksums) and builds no
        :class:`BlobInfo`. A provider that pages returns a
        :class:`xtstore.paging.PagedListing` of names, whose later pages the Store retries from
        their tokens as it does ``iter_blobs``' pages.

        Raises:
            ContainerNotFound: The container does not exist (at the call, before iterating).

        Notes:
            Where a provider class defines its own, the Store uses it for
            ``list_blobs(return_names=True)`` and ``Store.iter_blob_names``
            (:func:`lists_names`); otherwise the Store keeps to ``list_blobs``/``iter_blobs``.
            This default is for callers of a bare provider: ``list_blobs(return_names=True)``
            where the provider's ``iter_blobs`` is the default built from it, else the names of
            ``iter_blobs``.
        """
        if type(self).iter_blobs is StoreInterface.iter_blobs:
            names = self.list_blobs(container, path, return_names=True, recursive=recursive)
            return iter([name if isinstance(name, str) else name.name for name in names])
        return (entry.name for entry in self.iter_blobs(container, path, recursive=recursive))

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        """Replace the blob's metadata with ``metadata`` (str to str).

        The content is unchanged; whether the etag and last-modified time change depends on the
        store (see its page in docs/providers/).

        Raises:
            BlobNotFound: The blob does not exist.
            Unsupported: The default: XT's interface cannot write metadata.
        """
        raise Unsupported("this provider cannot set blob metadata", container=container,
                          blob=blob_path)

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        """Replace the container's metadata with ``metadata`` (str to str).

        Raises:
            ContainerNotFound: The container does not exist.
            Unsupported: The default: XT's interface cannot write metadata.
        """
        raise Unsupported("this provider cannot set container metadata", container=container)

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        """The blob's snapshots, oldest first.

        Returns:
            A list of :class:`SnapshotInfo`; empty for a blob with none (or no blob).

        Raises:
            ContainerNotFound: The container does not exist.
            Unsupported: The default: XT's interface cannot list snapshots.
        """
        raise Unsupported("this provider cannot list snapshots", container=container,
                          blob=blob_path)

    def translate_error(self, error: BaseException, *, about_blob: bool) -> StoreError | None:
        """The typed error for an exception this provider's SDK raised, or None: "not mine".

        The Store's error layer asks this once for every exception a call lets through (and
        for what a stream from :meth:`open_blob` raises while it is read), before its own
        translation of the ``OSError`` family, then names the service, container and blob.
        So a provider wraps no SDK call in error handling of its own, except where it
        decides what to do next by the kind of error (docs/contract.md §2).

        Args:
            error: What the call raised; never a :class:`StoreError` (those pass as they are).
            about_blob: The call names a blob (a bodiless 404 then means the blob is missing,
                not the container); False for container calls and listings.

        Returns:
            A new :class:`StoreError` with the reason only (the layer adds the context), or
            None to leave ``error`` to the built-in translation. The layer raises it without
            chaining ``error``, whose message may quote a credential (a signed URL), so the
            returned message must be free of secrets.

        Notes:
            The default returns None.
        """
        return None


def _can_seek(stream: IO[bytes]) -> bool:
    seekable = getattr(stream, "seekable", None)
    try:
        return bool(seekable()) if seekable is not None else False
    except (OSError, ValueError):
        return False


def _skip_to(stream: IO[bytes], offset: int) -> None:
    """Move a fresh ``stream`` to ``offset``: a seek, or reads (one chunk at a time) where it
    cannot seek."""
    if _can_seek(stream):
        stream.seek(offset)
        return
    left = offset
    while left > 0:
        skipped = len(stream.read(min(left, COPY_CHUNK_SIZE)))
        if not skipped:
            return
        left -= skipped


def _read_up_to(stream: IO[bytes], size: int | None) -> bytes:
    """``size`` bytes (all the rest for None), fewer only at the end: a raw stream's read may
    return less than it was asked for."""
    if size is None:
        return stream.read()
    parts: list[bytes] = []
    while size > 0:
        data = stream.read(size)
        if not data:
            break
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


class _SpooledUpload:
    """The default writer's sink: parts go to an unnamed temporary file (on disk, not in
    memory), uploaded whole by ``create_blob_from_stream`` on commit. Every part is written
    at its own offset, so a repeated step writes the same bytes to the same place."""

    part_size = COPY_CHUNK_SIZE

    def __init__(self, provider: StoreInterface, container: str, blob_path: str,
                 content_type: str | None, metadata: Mapping[str, str] | None = None) -> None:
        self._provider = provider
        self._where = (container, blob_path)
        self._content_type = content_type
        self._metadata = dict(metadata) if metadata is not None else None
        import tempfile  # here: most commands never spool

        self._spool = tempfile.TemporaryFile(prefix="xtstore-")  # noqa: SIM115 - closed by commit or abort
        self._uploaded = False

    def write_part(self, index: int, data: bytes) -> None:
        self._spool.seek(index * self.part_size)
        self._spool.write(data)

    def commit(self, parts: int, tail: bytes) -> None:
        if self._uploaded:
            # A repeat of a commit that returned (a step is repeatable): the blob is written,
            # and the spool, closed at once to free its disk space, is gone.
            return
        length = parts * self.part_size + len(tail)
        self.write_part(parts, tail)
        self._spool.truncate(length)
        self._spool.seek(0)
        extra: dict[str, Any] = {}
        capabilities = self._provider.capabilities()
        if self._content_type is not None and capabilities.content_types:
            extra["content_type"] = self._content_type
        if self._metadata is not None and capabilities.create_metadata:
            extra["metadata"] = self._metadata
        self._provider.create_blob_from_stream(*self._where, self._spool, length=length,
                                               **extra)
        if self._metadata is not None and "metadata" not in extra:
            self._provider.set_blob_metadata(*self._where, self._metadata)
        self._uploaded = True
        self._spool.close()

    def abort(self) -> None:
        self._spool.close()
