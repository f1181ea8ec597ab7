"""Providers written the way XT writes them (no ``StoreInterface`` base, XT's method names),
with the habits of XT's own providers that the adapter has to absorb. Each keeps its blobs
in a real store: files in a folder, or a real in-process ``MemoryStore``.

* :class:`XTStyleFileStore` behaves as XT's ``store_file.FileStore`` does: bags with a
  naive local ``last_modified`` and no etag, ``os.stat_result`` for a container, a bag with
  only ``.snapshot``, built-in ``OSError``s, a print from ``get_blob_to_path``, a
  ``copy_blob`` that does not create the destination's folders, a retry setting of None.
* :class:`Azure21ShapedStore` returns objects shaped like azure-storage-blob 2.1's models
  (``Blob``, ``BlobProperties``, ``Container``, ``ContainerProperties``) and raises errors
  shaped like its ``AzureHttpError`` (``.status_code``, ``ErrorCode:`` in the message).
* :class:`SelfRetryingStore` retries by itself like XT's azure provider does: every call runs
  in a loop driven by its ``retry`` function (``f(context) -> seconds | None``).
"""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Callable
from typing import Any

from xtstore.errors import BlobNotFound, ContainerAlreadyExists, ContainerNotFound
from xtstore.providers.memory.store import MemoryStore


class Bag:
    """An object with whatever attributes are set on it (XT's ``utils.PropertyBag``)."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class XTStyleFileStore:
    def __init__(self, service: dict[str, Any]) -> None:
        self.root = os.path.expanduser(service["path"])
        os.makedirs(self.root, exist_ok=True)
        self.retry: Any = None

    def _path(self, container: str, blob: str | None = None, snapshot: str | None = None
              ) -> str:
        path = os.path.join(self.root, container)
        if blob:
            path = os.path.join(path, blob)
        return path + (snapshot or "")

    def _bag(self, full_path: str, name: str) -> Bag:
        stat = os.stat(full_path)
        modified = datetime.datetime.fromtimestamp(stat.st_mtime)  # naive, local time
        return Bag(name=name, properties=Bag(content_length=stat.st_size,
                                             last_modified=modified))

    def get_service_name(self) -> str:
        return "xt-style-file"

    def get_retry(self) -> Any:
        return self.retry

    def set_retry(self, value: Any) -> None:
        self.retry = value

    def does_container_exist(self, container: str) -> bool:
        return os.path.isdir(self._path(container))

    def create_container(self, container: str) -> bool:
        os.makedirs(self._path(container))
        return True

    def list_containers(self) -> list[str]:
        return os.listdir(self.root)

    def delete_container(self, container: str) -> None:
        shutil.rmtree(self._path(container), ignore_errors=True)  # None, even when missing

    def get_container_properties(self, container: str) -> os.stat_result:
        return os.stat(self._path(container))

    def get_container_metadata(self, container: str) -> None:
        return None

    def does_blob_exist(self, container: str, blob_path: str) -> bool:
        return os.path.exists(self._path(container, blob_path))

    def create_blob(self, container: str, blob_path: str, text: str,
                    fail_if_exists: bool = False) -> bool:
        path = self._path(container, blob_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if fail_if_exists and os.path.exists(path):
            raise ServiceError("blob already exists: " + blob_path)
        with open(path, "w") as out:
            out.write(text)
        return True

    def create_blob_from_path(self, container: str, blob_path: str, source_fn: str,
                              progress_callback: Any = None) -> bool:
        path = self._path(container, blob_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(source_fn, path)
        return True

    def append_blob(self, container: str, blob_path: str, text: str,
                    append_with_rewrite: bool = False) -> bool:
        path = self._path(container, blob_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as out:
            out.write(text)
        return True

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> list[Any]:
        base = self._path(container)
        names = []
        for folder, dirs, files in os.walk(self._path(container, path)):
            relative = os.path.relpath(folder, base).replace(os.sep, "/")
            prefix = "" if relative == "." else relative + "/"
            names += [prefix + name for name in files]
            if not recursive:
                names += [prefix + name + "/" for name in dirs]
                break
        if return_names:
            return names
        return [self._bag(os.path.join(base, name), name) for name in names]

    def delete_blob(self, container: str, blob_path: str, snapshot: str | None = None) -> None:
        os.remove(self._path(container, blob_path, snapshot))

    def get_blob_text(self, container: str, blob_path: str) -> str:
        with open(self._path(container, blob_path)) as source:
            return source.read()

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None, progress_callback: Any = None) -> bytes:
        path = self._path(container, blob_path, snapshot)
        print(f"get_blob_to_path: reading {path}")
        with open(path, "rb") as source:
            data = source.read()
        with open(dest_fn, "wb") as out:
            out.write(data)
        return data

    def get_blob_properties(self, container: str, blob_path: str) -> Bag:
        return self._bag(self._path(container, blob_path), blob_path)

    def get_blob_metadata(self, container: str, blob_path: str) -> dict[str, str]:
        return {}

    def copy_blob(self, source_container: str, source_blob_path: str, dest_container: str,
                  dest_blob_path: str) -> bool:
        shutil.copyfile(self._path(source_container, source_blob_path),
                        self._path(dest_container, dest_blob_path))
        return True

    def snapshot_blob(self, container: str, blob_path: str) -> Bag:
        path = self._path(container, blob_path)
        number = 1
        while os.path.exists(f"{path}__ss{number}__"):
            number += 1
        shutil.copyfile(path, f"{path}__ss{number}__")
        return Bag(snapshot=f"__ss{number}__")


class XTBaseException(Exception):
    """Named as XT's ``xtlib.errors`` base is: the adapter recognises it by name."""


class ServiceError(XTBaseException):
    """What XT's ``errors.service_error(...)`` raises."""


class AzureHttpError(Exception):
    """Shaped like azure-storage 2.x's ``AzureHttpError``: a message and ``.status_code``."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def _azure_error(error: Exception) -> AzureHttpError:
    code = "ContainerNotFound" if isinstance(error, ContainerNotFound) else (
        "BlobNotFound" if isinstance(error, BlobNotFound) else "ContainerAlreadyExists")
    status = 409 if isinstance(error, ContainerAlreadyExists) else 404
    return AzureHttpError(f"The specified resource does not exist.\nErrorCode:{code}", status)


class Azure21ShapedStore:
    """Blobs in a real ``MemoryStore``; results and errors shaped like azure-storage 2.1's."""

    def __init__(self, service: dict[str, Any]) -> None:
        self.store = MemoryStore({"name": service.get("name", "azure21")})
        self.retry: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in _DELEGATED:
            raise AttributeError(name)
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except (ContainerNotFound, BlobNotFound, ContainerAlreadyExists) as error:
                raise _azure_error(error) from None

        return call

    def get_retry(self) -> Any:
        return self.retry

    def set_retry(self, value: Any) -> None:
        self.retry = value

    def _blob_model(self, container: str, name: str, with_metadata: bool) -> Bag:
        info = self.store.get_blob_properties(container, name)
        props = info.properties
        assert props is not None
        properties = Bag(content_length=props.content_length, last_modified=props.last_modified,
                         etag=props.etag, content_settings=Bag(content_type="text/plain"))
        metadata = dict(props.metadata) if with_metadata else None
        return Bag(name=name, snapshot=None, properties=properties, metadata=metadata)

    def list_blobs(self, container: str, path: str | None = None, return_names: bool = True,
                   recursive: bool = True) -> list[Any]:
        try:
            names = self.store.list_blobs(container, path, recursive=recursive)
        except ContainerNotFound as error:
            raise _azure_error(error) from None
        if return_names:
            return list(names)
        return [Bag(name=name) if str(name).endswith("/") else
                self._blob_model(container, str(name), with_metadata=False) for name in names]

    def get_blob_properties(self, container: str, blob_path: str) -> Bag:
        try:
            return self._blob_model(container, blob_path, with_metadata=True)
        except (ContainerNotFound, BlobNotFound) as error:
            raise _azure_error(error) from None

    def get_container_properties(self, container: str) -> Bag:
        try:
            info = self.store.get_container_properties(container)
        except ContainerNotFound as error:
            raise _azure_error(error) from None
        properties = Bag(last_modified=info.last_modified, etag='"0x8D000000000"')
        return Bag(name=container, properties=properties, metadata=dict(info.metadata))

    def create_container(self, container: str) -> bool:
        # azure-storage 2.x answers False for a container that exists (fail_on_exist=False).
        if self.store.does_container_exist(container):
            return False
        self.store.create_container(container)
        return True

    def delete_container(self, container: str) -> bool:
        if not self.store.does_container_exist(container):
            return False
        self.store.delete_container(container)
        return True

    def snapshot_blob(self, container: str, blob_path: str) -> Bag:
        info = self.store.snapshot_blob(container, blob_path)
        return Bag(name=blob_path, snapshot=info.snapshot,
                   properties=Bag(last_modified=info.created, etag='"0x8D1"'), metadata=None)


_DELEGATED = frozenset({
    "does_container_exist", "list_containers", "get_container_metadata", "does_blob_exist",
    "create_blob", "create_blob_from_path", "append_blob", "delete_blob", "get_blob_text",
    "get_blob_to_path", "get_blob_metadata", "copy_blob",
})


class RetryContext:
    """What azure-storage 2.x hands a retry function: the count so far and the exception."""

    def __init__(self, exception: Exception) -> None:
        self.exception = exception
        self.response = Bag(status=getattr(exception, "status_code", None))


def counting_retry(max_retries: int) -> Callable[[Any], float | None]:
    """XT's ``make_retry_func(n)`` in behaviour: wait before each of ``n`` retries, then
    None. (The waits are not slept: :class:`SelfRetryingStore` only records them.)"""

    def retry(context: Any) -> float | None:
        context.count = getattr(context, "count", 0) + 1
        return None if context.count > max_retries else min(16, 2 ** context.count)

    return retry


class SelfRetryingStore(XTStyleFileStore):
    """An XT-style provider that retries by itself, as XT's azure provider does: its
    ``__init__`` sets ``retry = make_retry_func(10)``, and every call to the store runs in a
    loop that asks ``retry(context)`` how long to wait. ``failures`` calls fail first with
    ``error`` (an azure-shaped 409 "being deleted", which XT retried for 126 s)."""

    def __init__(self, service: dict[str, Any]) -> None:
        super().__init__(service)
        self.retry = counting_retry(10)
        self.attempts = 0
        self.waits: list[float] = []
        self.failures = 0
        self.error: Exception = AzureHttpError(
            "The specified container is being deleted.\nErrorCode:ContainerBeingDeleted", 409)

    def _with_own_retry(self, action: Callable[[], Any]) -> Any:
        context: RetryContext | None = None
        while True:
            self.attempts += 1
            try:
                if self.failures > 0:
                    self.failures -= 1
                    raise self.error
                return action()
            except Exception as error:
                context = context or RetryContext(error)
                wait = self.retry(context) if callable(self.retry) else None
                if wait is None:
                    raise
                self.waits.append(wait)

    def create_container(self, container: str) -> bool:
        return bool(self._with_own_retry(lambda: super(SelfRetryingStore, self)
                                         .create_container(container)))

    def get_blob_text(self, container: str, blob_path: str) -> str:
        return str(self._with_own_retry(lambda: super(SelfRetryingStore, self)
                                        .get_blob_text(container, blob_path)))


class TwoClientStore(SelfRetryingStore):
    """XT's azure provider's shape: a second client for appends, with a retry of its own that
    ``set_retry`` never reaches; only XT's ``set_retries(count)`` sets both."""

    def __init__(self, service: dict[str, Any]) -> None:
        super().__init__(service)
        self.append_retry = counting_retry(10)

    def set_retries(self, count: int) -> int:
        self.retry = counting_retry(count)
        self.append_retry = counting_retry(count)
        return count

    def append_blob(self, container: str, blob_path: str, text: str,
                    append_with_rewrite: bool = False) -> bool:
        own, self.retry = self.retry, self.append_retry
        try:
            return bool(self._with_own_retry(lambda: XTStyleFileStore.append_blob(
                self, container, blob_path, text, append_with_rewrite)))
        finally:
            self.retry = own
