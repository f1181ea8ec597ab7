"""``Store``: what ``get_storage()`` returns, the one wrapper around every provider.

It checks names before any I/O, hands the provider canonical names, and runs each call
through the layer stack (logging, retry, error context). Providers never repeat this work.

:class:`ProviderStore` is the base of each built-in provider's public class (``FileStore``,
``MemoryStore``, ...), made by :func:`provider_store_class`: XT builds the class named by a
config's code path itself, with the service dict, and calls it directly, so that class is a
``Store`` around its implementation.
"""

from __future__ import annotations

import functools
import inspect
import operator
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any, ClassVar, Protocol, TypeVar, cast

from xtstore.attempts import begin_call, end_call
from xtstore.content_types import guess_content_type, is_content_type
from xtstore.continuation import Continuing
from xtstore.errors import (
    ConfigError,
    InvalidArgument,
    InvalidName,
    StoreError,
    Unsupported,
)
from xtstore.interface import (
    ProgressCallback,
    RetrySetting,
    StoreInterface,
    Text,
    delete_each,
    lists_names,
)
from xtstore.layers import Call, Layer, passive_now, run_through
from xtstore.layers.errors import ErrorContextLayer, ProviderTranslation
from xtstore.layers.logging import LoggingLayer
from xtstore.layers.retry import RetryLayer, RetryPolicy
from xtstore.listing import sorted_result
from xtstore.names import normalize_blob_path, parse_list_path, validate_container_name
from xtstore.paging import list_pages
from xtstore.values import BlobInfo, BlobProperties, Capabilities, ContainerInfo, SnapshotInfo
from xtstore.writer import BlobWriter

__all__ = ["ProviderStore", "Store", "StoreOrigin", "provider_store_class"]

T = TypeVar("T")

_NAME_CACHE_SIZE = 256

_NO_KEYWORDS: Mapping[str, Any] = {}
_NO_PROPERTIES: Mapping[str, Any] = {"properties": False}
"""The keyword ``Store.get_blob_to_path(..., properties=False)`` hands a provider whose
method has that parameter (docs/contract.md, "get_blob_to_path returns")."""


class StoreOrigin(Protocol):
    """How to build the same store again in another process (secrets re-resolved there,
    never carried in clear text). Made by :mod:`xtstore.registry`."""

    def build(self, extra_layers: Sequence[Layer] = ()) -> Store: ...


class _MonotonicProgress:
    """Forwards non-decreasing progress only (a retried transfer restarts at 0) and makes sure
    the last call is ``(total, total)``."""

    def __init__(self, callback: ProgressCallback) -> None:
        self._callback = callback
        self._last = (-1, -1)

    def __call__(self, current: int, total: int) -> None:
        if current < self._last[0]:
            return
        self._last = (current, total)
        self._callback(current, total)

    @property
    def complete(self) -> bool:
        """Whether the last call forwarded said every byte was moved."""
        current, total = self._last
        return current == total >= 0

    def finish(self, total: int) -> None:
        if self._last != (total, total):
            self._last = (total, total)
            self._callback(total, total)


def _wrap_progress(callback: ProgressCallback | None) -> _MonotonicProgress | None:
    return _MonotonicProgress(callback) if callback is not None else None


class Store(StoreInterface):
    """A configured store: a provider inside the layer stack.

    Every method is the provider's, with the guarantees of docs/contract.md §1 enforced here:
    invalid names raise :class:`~xtstore.errors.InvalidName` before any I/O, transient errors are
    retried by one policy, and every error names the service, container and blob.

    Given another ``Store`` as ``provider``, it wraps that store's provider: one layer stack,
    never two.
    """

    provider: StoreInterface
    service_name: str

    def __init__(
        self,
        provider: StoreInterface,
        service_name: str,
        *,
        retry: RetryPolicy | None = None,
        origin: StoreOrigin | None = None,
        extra_layers: Sequence[Layer] = (),
    ) -> None:
        if isinstance(provider, Store):
            provider = provider.provider
        self.provider = provider
        self.service_name = service_name
        self.origin = origin
        self._retry_layer = RetryLayer(retry or RetryPolicy())
        self._error_layer = ErrorContextLayer(_own_translation(provider))
        self._set_layers(extra_layers)
        self._valid_containers: dict[str, str] = {}

    def __repr__(self) -> str:
        provider = type(self.provider).__name__
        return f"<xtstore.Store service={self.service_name!r} provider={provider}>"

    def __reduce__(self) -> tuple[Any, ...]:
        if not self.provider.capabilities().shared_between_processes:
            raise Unsupported(
                "this store lives in one process and cannot be moved to another",
                service=self.service_name,
            )
        if self.origin is None:
            raise Unsupported(
                "this store was built by hand, not from config, and cannot be rebuilt in "
                "another process; use xtstore.get_storage()",
                service=self.service_name,
            )
        function = self._retry_layer.function
        if function is not None:
            _check_picklable(function, self.service_name, "retry function", _RETRY_HINT)
        for layer in self.extra_layers:
            _check_picklable(layer, self.service_name, "layer", _LAYER_HINT)
        return (_rebuild_store, (self.origin, self.retry_policy, function, self.extra_layers))

    def _set_layers(self, extra_layers: Sequence[Layer]) -> None:
        # The one place the order of the stack is written: logging outermost (it times
        # retries too), then the caller's layers, retry, and error context innermost (so
        # that retry sees typed errors).
        self.extra_layers: tuple[Layer, ...] = tuple(extra_layers)
        self._layers: tuple[Layer, ...] = (
            LoggingLayer(),
            *self.extra_layers,
            self._retry_layer,
            self._error_layer,
        )
        self._passive = passive_now(self._layers)

    def _run(
        self,
        operation: str,
        action: Callable[[], T],
        container: str | None = None,
        blob: str | None = None,
        *,
        idempotent: bool = True,
        local_path: str | None = None,
        repeatable: bool = True,
    ) -> T:
        # A non-idempotent call's attempts share one memo (xtstore.attempts): what lets its
        # provider make a repeat harmless, and tell the retry layer so.
        token = begin_call()[1] if not idempotent and repeatable else None
        try:
            passive = self._passive
            if passive is not None and passive():
                # Every layer is passive on success: try the call directly, and run the
                # stack only if it fails.
                try:
                    return action()
                except Exception as error:
                    failure = error
                call = Call(operation, self.service_name, container, blob, idempotent,
                            local_path, repeatable)
                return self._after_failure(call, action, failure)
            call = Call(operation, self.service_name, container, blob, idempotent, local_path,
                        repeatable)
            return run_through(self._layers, call, action)
        finally:
            if token is not None:
                end_call(token)

    def _steps_of(self, result: object, container: str, blob: str | None,
                  step_name: str | None = None) -> bool:
        """Whether ``result`` makes requests after its call returned (``xtstore.continuation``);
        if so, it is handed a runner that puts each later step inside the layers, as a
        repeatable call named ``step_name`` (default: the result's own name for it)."""
        if not _continues(result):
            return False

        def run(step: str, body: Callable[[], T]) -> T:
            return self._run(step_name or step, body, container, blob)

        cast(Continuing, result).continue_under(run)
        return True

    def _after_failure(self, call: Call, action: Callable[[], T], failure: Exception) -> T:
        """Finish a call whose direct first attempt raised ``failure``: the whole stack sees
        that attempt as its first (so it is translated, given context and retried exactly as
        without the direct attempt), and runs ``action`` again only for retries."""
        pending = [failure]

        def attempt() -> T:
            if pending:
                raise pending.pop()
            return action()

        return run_through(self._layers, call, attempt)

    def _container(self, container: str) -> str:
        # Valid names are remembered (a bounded dict): most programs use a few containers.
        valid = self._valid_containers
        if type(container) is str and container in valid:
            return container
        try:
            name = validate_container_name(container)
        except Exception as error:
            raise _with_service(error, self.service_name) from None
        if len(valid) >= _NAME_CACHE_SIZE:
            valid.clear()
        valid[name] = name
        return name

    def _blob(self, container: str, blob_path: str) -> tuple[str, str]:
        container = self._container(container)
        try:
            return container, normalize_blob_path(blob_path, container=container)
        except Exception as error:
            raise _with_service(error, self.service_name) from None

    # ---- misc ----

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry_layer.policy

    def bind_service(
        self,
        service_name: str,
        *,
        retry: RetryPolicy,
        origin: StoreOrigin | None,
        extra_layers: Sequence[Layer] = (),
    ) -> None:
        """Make this store the configured service ``service_name``, with its retry policy,
        origin and extra layers: what ``get_storage()`` does to a provider class that is
        already a Store."""
        self.service_name = service_name
        self._retry_layer.policy = retry
        self.origin = origin
        self._set_layers(extra_layers)

    def get_retry(self) -> RetrySetting:
        """Exactly what ``set_retry`` was given; before that, the policy's number of retries."""
        function = self._retry_layer.function
        return function if function is not None else self._retry_layer.policy.retries

    def set_retry(self, value: RetrySetting) -> None:
        """``value`` is a number of retries (the policy keeps its delays and time budget), or
        XT's retry function ``f(context) -> seconds | None``, asked before each retry (see
        :class:`~xtstore.layers.retry.RetryContext`). The provider is told too, so that one
        with retries of its own can follow the same setting. Raises
        :class:`~xtstore.errors.ConfigError` for anything else."""
        layer = self._retry_layer
        if callable(value):
            layer.function = value
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            layer.function = None
            layer.policy = layer.policy.with_retries(value)
        else:
            raise ConfigError(
                "set_retry takes a number of retries (an int >= 0) or XT's retry function"
                f" f(context) -> seconds | None, not {value!r}",
                service=self.service_name,
            )
        self.provider.set_retry(value)

    def get_service_name(self) -> str:
        return self.service_name

    def capabilities(self) -> Capabilities:
        return self.provider.capabilities()

    # ---- containers ----

    def does_container_exist(self, container: str) -> bool:
        container = self._container(container)
        return self._run(
            "does_container_exist", lambda: self.provider.does_container_exist(container), container
        )

    def create_container(self, container: str) -> bool:
        """Returns True (XT's callers take a falsy result as failure)."""
        container = self._container(container)
        self._run(
            "create_container",
            lambda: self.provider.create_container(container),
            container,
            idempotent=False,
        )
        return True

    def list_containers(self) -> list[str]:
        return self._run("list_containers", self.provider.list_containers)

    def delete_container(self, container: str) -> bool:
        """Returns True (XT's callers take a falsy result as failure)."""
        container = self._container(container)
        self._run(
            "delete_container",
            lambda: self.provider.delete_container(container),
            container,
            idempotent=False,
        )
        return True

    def get_container_properties(self, container: str) -> ContainerInfo:
        container = self._container(container)
        return self._run(
            "get_container_properties",
            lambda: self.provider.get_container_properties(container),
            container,
        )

    def get_container_metadata(self, container: str) -> dict[str, str]:
        container = self._container(container)
        return self._run(
            "get_container_metadata",
            lambda: self.provider.get_container_metadata(container),
            container,
        )

    def set_container_metadata(self, container: str, metadata: Mapping[str, str]) -> None:
        container = self._container(container)
        frozen = _required_metadata(metadata, self.service_name, container, None)
        self._run(
            "set_container_metadata",
            lambda: self.provider.set_container_metadata(container, frozen),
            container,
        )

    # ---- blobs ----

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        container, blob = self._blob(container, blob_path)
        return self._run(
            "does_blob_exist", lambda: self.provider.does_blob_exist(container, blob), container,
            blob,
        )

    def create_blob(
        self,
        container: str,
        blob_path: str,
        text: Text,
        fail_if_exists: bool = False,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        container, blob = self._blob(container, blob_path)
        _check_text(text, self.service_name, container, blob)
        typed, after = self._upload_kwargs("create_blob", content_type, metadata, container, blob)
        self._run(
            "create_blob",
            lambda: self.provider.create_blob(container, blob, text, fail_if_exists=fail_if_exists,
                                              **typed),
            container,
            blob,
            idempotent=not fail_if_exists,
        )
        self._metadata_after(after, container, blob)

    def create_blob_from_path(
        self,
        container: str,
        blob_path: str,
        source_fn: str,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        container, blob = self._blob(container, blob_path)
        typed, after = self._upload_kwargs("create_blob_from_path", content_type, metadata,
                                           container, blob)
        source = os.fspath(source_fn)
        size = os.stat(source).st_size  # a missing source fails here, before any I/O
        progress = _wrap_progress(progress_callback)
        self._run(
            "create_blob_from_path",
            lambda: self.provider.create_blob_from_path(
                container, blob, source, progress_callback=progress, **typed
            ),
            container,
            blob,
            local_path=source,
        )
        self._metadata_after(after, container, blob)
        if progress is not None:
            progress.finish(size)

    def create_blob_from_stream(
        self,
        container: str,
        blob_path: str,
        stream: IO[bytes],
        length: int | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        container, blob = self._blob(container, blob_path)
        _check_stream(stream, length, self.service_name, container, blob)
        typed, after = self._upload_kwargs("create_blob_from_stream", content_type, metadata,
                                           container, blob)
        progress = _wrap_progress(progress_callback)
        start = _stream_position(stream)
        tries = 0

        def upload() -> None:
            # A repeat starts the stream again where the first attempt did: the upload then
            # writes the same whole blob again, which is harmless.
            nonlocal tries
            tries += 1
            if tries > 1 and start is not None:
                stream.seek(start)
            self.provider.create_blob_from_stream(
                container, blob, stream, length=length, progress_callback=progress, **typed
            )

        self._run(
            "create_blob_from_stream",
            upload,
            container,
            blob,
            # A stream that cannot seek was partly read by a failed attempt (even one whose
            # last request never left): it is never uploaded again.
            idempotent=start is not None,
            repeatable=start is not None,
        )
        self._metadata_after(after, container, blob)
        if progress is not None and length is not None:
            progress.finish(length)

    def append_blob(
        self, container: str, blob_path: str, text: Text, append_with_rewrite: bool = False
    ) -> None:
        container, blob = self._blob(container, blob_path)
        _check_text(text, self.service_name, container, blob)
        self._run(
            "append_blob",
            lambda: self.provider.append_blob(
                container, blob, text, append_with_rewrite=append_with_rewrite
            ),
            container,
            blob,
            idempotent=False,
        )

    def list_blobs(
        self,
        container: str,
        path: str | None = None,
        return_names: bool = True,
        recursive: bool = True,
    ) -> list[str] | list[BlobInfo]:
        container = self._container(container)
        canonical = self._list_path(container, path)
        provider = self.provider
        if return_names and lists_names(type(provider)):
            return self._collect_pages(
                lambda: provider.iter_blob_names(container, canonical, recursive=recursive),
                sorted, container, path)
        if getattr(type(provider), "list_blobs", None) is not list_pages:
            return self._run(
                "list_blobs",
                lambda: provider.list_blobs(
                    container, canonical, return_names=return_names, recursive=recursive
                ),
                container,
                path,
            )
        return self._collect_pages(
            lambda: provider.iter_blobs(container, canonical, recursive=recursive),
            functools.partial(sorted_result, return_names=return_names), container, path)

    def _collect_pages(self, first: Callable[[], Iterator[T]],
                       finish: Callable[[Iterator[T]], list[Any]], container: str,
                       path: str | None) -> list[Any]:
        """``list_blobs`` from a provider's listing (``first()``, its ``iter_blobs`` or
        ``iter_blob_names``), ``finish`` making the sorted result. Where the listing pages
        (xtstore.paging) the Store collects the pages itself, each later page a step of its
        own, so that a fault on page 7 repeats page 7, not the whole listing; a listing of
        another kind (a subclass's) is collected inside the call, as a list_blobs would."""

        def first_page() -> list[Any] | Iterator[T]:
            entries = first()
            if _continues(entries):
                return entries
            return finish(entries)

        entries = self._run("list_blobs", first_page, container, path)
        if isinstance(entries, list):
            return entries
        self._steps_of(entries, container, path, step_name="list_blobs.page")
        return finish(entries)

    def iter_blobs(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[BlobInfo]:
        container = self._container(container)
        canonical = self._list_path(container, path)
        entries = self._run(
            "iter_blobs",
            lambda: self.provider.iter_blobs(container, canonical, recursive=recursive),
            container,
            path,
        )
        # A listing that pages (xtstore.paging) runs each later page inside the layers, a
        # step repeated from its own token; any other iterator is guarded step by step.
        if self._steps_of(entries, container, path):
            return entries
        return _guarded_iterator(entries, self, container, path)

    def iter_blob_names(
        self, container: str, path: str | None = None, recursive: bool = True
    ) -> Iterator[str]:
        """``iter_blobs``' names, in the same order, asked of the store as names only where
        the provider has its own ``iter_blob_names`` (docs/contract.md §1 list_blobs)."""
        provider = self.provider
        if not lists_names(type(provider)):
            if type(provider).iter_blobs is StoreInterface.iter_blobs:
                # Its iter_blobs is built from list_blobs: ask that for names.
                return iter(cast(list[str], self.list_blobs(container, path, recursive=recursive)))
            return (entry.name for entry in self.iter_blobs(container, path, recursive=recursive))
        container = self._container(container)
        canonical = self._list_path(container, path)
        names = self._run(
            "iter_blob_names",
            lambda: provider.iter_blob_names(container, canonical, recursive=recursive),
            container,
            path,
        )
        if self._steps_of(names, container, path, step_name="iter_blob_names.page"):
            return names
        return _guarded_iterator(names, self, container, path, step="iter_blob_names.next")

    def _list_path(self, container: str, path: str | None) -> str:
        try:
            return parse_list_path(path, container=container).canonical
        except Exception as error:
            raise _with_service(error, self.service_name) from None

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        container, blob = self._blob(container, blob_path)
        self._run(
            "delete_blob",
            lambda: self.provider.delete_blob(container, blob, snapshot=snapshot),
            container,
            blob,
            idempotent=False,
        )

    @property
    def deletes_in_batches(self) -> bool:
        """Whether the provider has a ``delete_blobs`` of its own (many names a request),
        so that a caller hands it many names at once rather than one per worker thread."""
        own = getattr(type(self.provider), "delete_blobs", None)
        return own is not None and own is not StoreInterface.delete_blobs

    def delete_blobs(
        self, container: str, blob_paths: Sequence[str]
    ) -> dict[str, StoreError | None]:
        """Delete many blobs, each with all its snapshots: for each canonical name (in the
        order given, a name given twice once) None where it was deleted, else that name's
        typed error naming it (``BlobNotFound`` for a missing one), so one missing blob
        fails only itself. Raises ``InvalidName`` for any bad name before anything is
        deleted, ``ContainerNotFound`` for a missing container. A provider with its own
        ``delete_blobs`` (store-s3: DeleteObjects) gets them in one retried call; any other
        has ``delete_blob`` called for each name, each retried on its own."""
        container = self._container(container)
        if isinstance(blob_paths, (str, bytes)):
            raise InvalidArgument("delete_blobs takes a sequence of blob names, not one name",
                                  service=self.service_name, container=container)
        names = list(dict.fromkeys(self._blob(container, name)[1] for name in blob_paths))
        provider = self.provider
        if not self.deletes_in_batches:
            return delete_each(self.delete_blob, container, names)
        found = self._run("delete_blobs", lambda: provider.delete_blobs(container, names),
                          container, idempotent=False)
        for name, failure in found.items():
            if failure is not None:
                failure.add_context(service=self.service_name, container=container, blob=name)
        return found

    def get_blob_text(self, container: str, blob_path: str) -> str:
        container, blob = self._blob(container, blob_path)
        return self._run(
            "get_blob_text", lambda: self.provider.get_blob_text(container, blob), container, blob
        )

    def get_blob_bytes(
        self, container: str, blob_path: str, snapshot: str | None = None
    ) -> bytes:
        container, blob = self._blob(container, blob_path)
        return self._run(
            "get_blob_bytes",
            lambda: self.provider.get_blob_bytes(container, blob, snapshot=snapshot),
            container,
            blob,
        )

    def open_blob(
        self,
        container: str,
        blob_path: str,
        snapshot: str | None = None,
        mode: str = "rb",
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> IO[bytes]:
        """A readable, seekable binary stream of the blob (``mode="rb"``), or a writer whose
        content becomes the whole blob on ``close()`` (``mode="wb"``; see
        :meth:`~xtstore.interface.StoreInterface.open_blob_writer`)."""
        container, blob = self._blob(container, blob_path)
        if mode == "wb":
            if snapshot is not None:
                raise InvalidArgument("a snapshot cannot be written", service=self.service_name,
                                      container=container, blob=blob)
            return cast(IO[bytes], self._open_writer(container, blob, content_type, metadata))
        if mode != "rb":
            raise InvalidArgument(f"open_blob's mode must be 'rb' or 'wb', not {mode!r}",
                                  service=self.service_name, container=container, blob=blob)
        stream = self._run(
            "open_blob",
            lambda: self.provider.open_blob(container, blob, snapshot=snapshot),
            container,
            blob,
        )
        if self._steps_of(stream, container, blob):
            # Its reads run in the layers, each resuming where the last one broke off.
            return stream
        return cast(IO[bytes], _TypedReads(stream, self, container, blob))

    def _upload_kwargs(self, method: str, content_type: str | None,
                       metadata: Mapping[str, str] | None, container: str, blob: str
                       ) -> tuple[dict[str, Any], dict[str, str] | None]:
        """The keywords for the provider's upload ``method``, and the metadata left to set
        after it (None when there is none left).

        ``content_type``: the caller's, else the type guessed from the blob name; none at all
        for a provider without ``capabilities().content_types`` (an XT provider takes no such
        keyword), nor for a method that takes none (a subclass of a built-in provider
        overriding it with XT's signature, or the interface's default). ``metadata``: passed
        where ``capabilities().create_metadata`` and the method takes it, else returned to be
        set by ``set_blob_metadata`` once the content is written. Raises
        :class:`InvalidArgument` for a value that is no content type or no ``str`` to ``str``
        mapping, before any I/O."""
        if content_type is not None:
            _check_content_type(content_type, self.service_name, container, blob)
        frozen = _check_metadata(metadata, self.service_name, container, blob)
        capabilities = self.provider.capabilities()
        kwargs: dict[str, Any] = {}
        if capabilities.content_types and _takes_keyword(type(self.provider), method,
                                                         "content_type"):
            kwargs["content_type"] = content_type or guess_content_type(blob)
        if frozen is None:
            return kwargs, None
        if capabilities.create_metadata and _takes_keyword(type(self.provider), method,
                                                           "metadata"):
            kwargs["metadata"] = frozen
            return kwargs, None
        return kwargs, frozen

    def _metadata_after(self, metadata: dict[str, str] | None, container: str,
                        blob: str) -> None:
        if metadata is not None:
            self._run("set_blob_metadata",
                      lambda: self.provider.set_blob_metadata(container, blob, metadata),
                      container, blob)

    def _open_writer(self, container: str, blob: str, content_type: str | None,
                     metadata: Mapping[str, str] | None = None) -> BlobWriter:
        typed, after = self._upload_kwargs("open_blob_writer", content_type, metadata,
                                           container, blob)
        if (after is not None
                and type(self.provider).open_blob_writer is StoreInterface.open_blob_writer):
            typed["metadata"] = after  # the interface's default writer sets it itself
        elif after is not None:
            raise Unsupported(
                "this provider cannot store metadata with a writer's content (no"
                " capabilities().create_metadata): write the blob, then set_blob_metadata",
                service=self.service_name, container=container, blob=blob)
        writer = self._run(
            "open_blob",
            lambda: self.provider.open_blob_writer(container, blob, **typed),
            container,
            blob,
        )
        self._steps_of(writer, container, blob)
        return writer

    def open_blob_writer(
        self, container: str, blob_path: str, *, content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobWriter:
        container, blob = self._blob(container, blob_path)
        return self._open_writer(container, blob, content_type, metadata)

    def get_blob_range(
        self,
        container: str,
        blob_path: str,
        start: int,
        end: int | None = None,
        snapshot: str | None = None,
    ) -> bytes:
        container, blob = self._blob(container, blob_path)
        start, end = _range_offsets(start, end, self.service_name, container, blob)
        return self._run(
            "get_blob_range",
            lambda: self.provider.get_blob_range(container, blob, start, end, snapshot=snapshot),
            container,
            blob,
        )

    def get_blob_to_path(
        self,
        container: str,
        blob_path: str,
        dest_fn: str,
        snapshot: str | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        properties: bool = True,
    ) -> BlobProperties | None:
        """The provider's download, and what it returns: the properties of the version
        written, or None where it does not know them (docs/contract.md, get_blob_to_path).

        ``properties=False``: the caller has no use for them, and None is returned. The
        provider is told so (``properties=False``) only where its ``get_blob_to_path`` has a
        parameter of that name, so that it may skip reading them; any other provider (an
        XT-style one, a subclass overriding the method with the interface's signature) is
        called exactly as with ``properties=True`` (docs/contract.md, "get_blob_to_path
        returns")."""
        container, blob = self._blob(container, blob_path)
        dest = os.fspath(dest_fn)
        progress = _wrap_progress(progress_callback)
        provider = self.provider
        told = _NO_KEYWORDS
        if not properties and _takes_keyword(type(provider), "get_blob_to_path", "properties",
                                             False):
            told = _NO_PROPERTIES
        written = self._run(
            "get_blob_to_path",
            lambda: provider.get_blob_to_path(
                container, blob, dest, snapshot=snapshot, progress_callback=progress, **told
            ),
            container,
            blob,
            local_path=dest,
        )
        if progress is not None and not progress.complete:
            # The file's size is looked up only when the provider's report fell short.
            progress.finish(os.stat(dest).st_size)
        return written if properties else None

    def get_blob_properties(self, container: str, blob_path: str) -> BlobInfo:
        container, blob = self._blob(container, blob_path)
        return self._run(
            "get_blob_properties",
            lambda: self.provider.get_blob_properties(container, blob),
            container,
            blob,
        )

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        container, blob = self._blob(container, blob_path)
        return self._run(
            "get_blob_metadata",
            lambda: self.provider.get_blob_metadata(container, blob),
            container,
            blob,
        )

    def set_blob_metadata(
        self, container: str, blob_path: str, metadata: Mapping[str, str]
    ) -> None:
        container, blob = self._blob(container, blob_path)
        frozen = _required_metadata(metadata, self.service_name, container, blob)
        self._run(
            "set_blob_metadata",
            lambda: self.provider.set_blob_metadata(container, blob, frozen),
            container,
            blob,
        )

    def copy_blob(
        self,
        source_container: str,
        source_blob_path: str,
        dest_container: str,
        dest_blob_path: str,
    ) -> None:
        source_container, source_blob = self._blob(source_container, source_blob_path)
        dest_container, dest_blob = self._blob(dest_container, dest_blob_path)
        self._run(
            "copy_blob",
            lambda: self.provider.copy_blob(source_container, source_blob, dest_container,
                                            dest_blob),
            source_container,
            source_blob,
        )

    def snapshot_blob(self, container: str, blob_path: str) -> SnapshotInfo:
        container, blob = self._blob(container, blob_path)
        return self._run(
            "snapshot_blob",
            lambda: self.provider.snapshot_blob(container, blob),
            container,
            blob,
            idempotent=False,
        )

    def list_snapshots(self, container: str, blob_path: str) -> list[SnapshotInfo]:
        container, blob = self._blob(container, blob_path)
        return self._run(
            "list_snapshots",
            lambda: self.provider.list_snapshots(container, blob),
            container,
            blob,
        )


class ProviderStore(Store):
    """A built-in provider's public class: ``FileStore(service_dict)`` builds
    ``implementation(service_dict)`` and wraps it, so a class XT builds bare keeps the whole
    contract (names checked and made canonical, one retry policy, typed errors with context).

    The service name is the settings' ``name``, else the implementation's default. Such a
    store built by hand has no origin and cannot be pickled; ``get_storage()`` gives it one.
    """

    implementation: ClassVar[type[StoreInterface]]

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        build: Callable[[Mapping[str, Any]], StoreInterface] = self.implementation
        provider = build(settings if settings is not None else {})
        super().__init__(provider, provider.get_service_name())


def provider_store_class(
    name: str, implementation: type[StoreInterface], module: str
) -> type[ProviderStore]:
    """The public class ``module.name`` of a built-in provider: a :class:`ProviderStore`
    around ``implementation``, so that ``name(service_dict)``, as XT builds it, is a whole
    ``Store`` whose ``.provider`` is an ``implementation``."""
    namespace = {
        "__module__": module,
        "__qualname__": name,
        "__doc__": f"``{name}(service_dict)``: a :class:`~xtstore.store.Store` around"
        f" :class:`{implementation.__name__}`, which ``store.provider`` is (the class XT"
        " builds from the code path).",
        "implementation": implementation,
    }
    return type(name, (ProviderStore,), namespace)


def _rebuild_store(
    origin: StoreOrigin,
    retry: RetryPolicy,
    function: Callable[[Any], Any] | None = None,
    extra_layers: Sequence[Layer] = (),
) -> Store:
    # The policy travels too: set_retry() made after opening must hold in the worker.
    store = origin.build(extra_layers)
    store._retry_layer.policy = retry
    if function is not None:
        store.set_retry(function)
    return store


_RETRY_HINT = (
    "set_retry() a module-level function or an int before handing the store to another"
    " process, and set XT's function again there"
)
_LAYER_HINT = (
    "a layer goes with the store by value: define its class at module level and keep only"
    " picklable state in it, or open the store again in the worker with its own layers"
)


def _check_picklable(thing: object, service: str, what: str, hint: str) -> None:
    """A retry function or layer goes with the store to the worker (XT's own retry
    functions, ``make_retry_func`` closures, cannot); dropping it silently would change how
    the worker behaves, so the pickle fails instead, naming it."""
    import pickle  # only when a store is pickled: pickle costs start-up, and most runs never do

    try:
        pickle.dumps(thing)
    except Exception as error:
        raise Unsupported(
            f"this store's {what} {thing!r} cannot be pickled"
            f" ({type(error).__name__}: {error}); {hint}",
            service=service,
        ) from None


def _own_translation(provider: StoreInterface) -> ProviderTranslation | None:
    """The provider's ``translate_error``; None for the interface's default, which knows no
    error (so that a failure costs no call to it), or a provider that is no StoreInterface."""
    own = getattr(type(provider), "translate_error", None)
    if own is None or own is StoreInterface.translate_error:
        return None
    translation: ProviderTranslation = provider.translate_error
    return translation


class _TypedReads:
    """A provider's ``open_blob`` stream that is not
    :class:`~xtstore.continuation.Continuing` (an XT provider's, a file's), whose failures
    are typed and named like the call's. Its reads run after ``open_blob`` returned, outside
    the layers, so the error layer's translation is applied here (and nothing is retried).
    A plain class with slots, not an ``io.IOBase``: that would cost more than a memory
    store's whole ``open_blob``."""

    __slots__ = ("_store", "_stream", "_where")

    def __init__(self, stream: IO[bytes], store: Store, container: str, blob: str) -> None:
        self._stream = stream
        self._store = store
        self._where = (container, blob)

    def _typed(self, error: Exception) -> Exception:
        call = Call("open_blob.read", self._store.service_name, *self._where)
        typed = self._store._error_layer.typed_error(error, call)
        if typed is None:
            return error
        typed.from_stream = True
        return typed

    def read(self, size: int | None = -1) -> bytes:
        try:
            return self._stream.read(-1 if size is None else size)
        except Exception as error:
            raise self._typed(error)  # noqa: B904 - typed_error set the cause (or hid it)

    def read1(self, size: int = -1) -> bytes:
        read1: Callable[[int], bytes] = getattr(self._stream, "read1", self._stream.read)
        return self._guarded(read1, size)

    def readinto(self, buffer: Any) -> int:
        readinto: Callable[[Any], int] = getattr(self._stream, "readinto", self._readinto)
        return self._guarded(readinto, buffer)

    def _readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        return self._guarded(self._stream.readline, -1 if size is None else size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return self._guarded(self._stream.readlines, -1 if hint is None else hint)

    def __iter__(self) -> Iterator[bytes]:
        # The provider's own line iteration (a file's runs in C), each failure typed.
        try:
            yield from self._stream
        except Exception as error:
            raise self._typed(error)  # noqa: B904 - typed_error set the cause (or hid it)

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._guarded(self._stream.seek, offset, whence)

    def tell(self) -> int:
        return self._guarded(self._stream.tell)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        seekable = getattr(self._stream, "seekable", None)
        return bool(seekable()) if seekable is not None else False

    def writable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return bool(self._stream.closed)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> _TypedReads:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stream.close()

    def __getattr__(self, name: str) -> Any:
        # What else the provider's stream offers (a file's ``name`` and ``fileno``, fsspec's
        # ``size``, BytesIO's ``getvalue``).
        return getattr(self._stream, name)

    def _guarded(self, method: Callable[..., T], *args: Any) -> T:
        try:
            return method(*args)
        except Exception as error:
            raise self._typed(error)  # noqa: B904 - typed_error set the cause (or hid it)


def _with_service(error: Exception, service: str) -> Exception:
    add_context = getattr(error, "add_context", None)
    if add_context is not None:
        add_context(service=service)
    return error


def _check_text(text: object, service: str, container: str, blob: str) -> None:
    if not isinstance(text, (str, bytes, bytearray, memoryview)):
        raise InvalidName(
            f"blob content must be str or bytes, not {type(text).__name__}",
            service=service,
            container=container,
            blob=blob,
        )


@functools.cache
def _takes_keyword(provider_class: type, method: str, keyword: str,
                   catch_all: bool = True) -> bool:
    """Whether ``provider_class``'s ``method`` takes the keyword ``keyword`` (asked once per
    class, method, keyword and ``catch_all``). ``catch_all=False`` counts only a parameter of
    that name, not a ``**kwargs`` that might hand it on to something that takes none."""
    try:
        parameters = inspect.signature(getattr(provider_class, method)).parameters.values()
    except (AttributeError, TypeError, ValueError):
        return False
    return any((catch_all and parameter.kind is inspect.Parameter.VAR_KEYWORD)
               or (parameter.name == keyword
                   and parameter.kind is not inspect.Parameter.POSITIONAL_ONLY)
               for parameter in parameters)


def _check_metadata(metadata: object, service: str, container: str,
                    blob: str | None) -> dict[str, str] | None:
    """``metadata`` as a new dict, or None for none given. Raises ``InvalidArgument``
    for anything but a mapping of ``str`` to ``str``."""
    if metadata is None:
        return None
    if isinstance(metadata, Mapping):
        frozen = dict(metadata)
        if all(isinstance(key, str) and isinstance(value, str) for key, value in frozen.items()):
            return frozen
    raise InvalidArgument(f"metadata must be a mapping of str to str, not {metadata!r}",
                          service=service, container=container, blob=blob)


def _required_metadata(metadata: object, service: str, container: str,
                       blob: str | None) -> dict[str, str]:
    """``metadata`` for ``set_blob_metadata`` / ``set_container_metadata``: a new dict, or
    ``InvalidArgument`` for anything but a mapping of ``str`` to ``str`` (None included)."""
    frozen = _check_metadata(metadata, service, container, blob)
    if frozen is None:
        raise InvalidArgument("metadata must be a mapping of str to str, not None",
                              service=service, container=container, blob=blob)
    return frozen


def _offset(value: object) -> int | None:
    """``value`` as a plain int if it is an integer ``>= 0`` of any integer type (a numpy one
    too) but ``bool``; else None. A byte offset, a byte count."""
    if isinstance(value, bool):
        return None
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None
    return number if number >= 0 else None


def _check_stream(stream: object, length: object, service: str, container: str,
                  blob: str) -> None:
    """``InvalidArgument`` before any I/O for a ``stream`` without ``read`` (s3transfer
    would take a ``str`` for a file name) or a ``length`` that is neither None nor an
    integer ``>= 0``."""
    if not callable(getattr(stream, "read", None)):
        raise InvalidArgument(
            f"create_blob_from_stream takes a readable binary stream, not"
            f" {type(stream).__name__}", service=service, container=container, blob=blob)
    if length is not None and _offset(length) is None:
        raise InvalidArgument(f"a stream's length must be None or an int >= 0, not {length!r}",
                              service=service, container=container, blob=blob)


def _check_content_type(content_type: object, service: str, container: str,
                        blob: str) -> None:
    if is_content_type(content_type):
        return
    raise InvalidArgument(
        f"a content type must be 'type/subtype' with optional '; parameters' in printable"
        f" ASCII, not {content_type!r}", service=service, container=container, blob=blob)


def _range_offsets(start: object, end: object, service: str, container: str,
                   blob: str) -> tuple[int, int | None]:
    """``start`` and ``end`` as plain ints (any integer type, a numpy one too, is taken),
    or ``InvalidArgument`` before any request."""
    first, last = _offset(start), None if end is None else _offset(end)
    if first is None or (end is not None and last is None):
        reason = (f"a byte range's start and end must be offsets (ints >= 0, end may be None),"
                  f" not start={start!r}, end={end!r}")
    elif last is not None and last < first:
        reason = f"a byte range's end ({end}) must not be before its start ({start})"
    else:
        return first, last
    raise InvalidArgument(reason, service=service, container=container, blob=blob)


def _continues(result: object) -> bool:
    """Whether ``result`` is :class:`~xtstore.continuation.Continuing`, asked of its type:
    the protocol's own ``isinstance`` costs 12-18 us on a generator or a BytesIO, more than
    a memory store's whole call."""
    return callable(getattr(type(result), "continue_under", None))


def _stream_position(stream: IO[bytes]) -> int | None:
    """Where a seekable stream stands now, or None if it cannot be rewound."""
    try:
        return stream.tell() if stream.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _guarded_iterator(
    entries: Iterator[T], store: Store, container: str, path: str | None,
    step: str = "iter_blobs.next",
) -> Iterator[T]:
    # Each step runs inside the layers (that is where the provider requests its pages), as
    # a call that is never repeated: a generator that raised is finished, and retrying
    # next() on it would end the listing early instead of failing it.
    fetch = functools.partial(next, iter(entries), None)
    run = store._run
    while True:
        entry = run(step, fetch, container, path, repeatable=False)
        if entry is None:
            return
        yield entry
