"""What a built-in provider class used bare must do, as XT uses it: XT builds the class named
by the config's code path itself, with the service dict, and calls its methods directly. The
same checks run on every built-in provider (store-file, store-memory, store-fsspec here;
azure-blob and store-s3 next to their servers' fixtures)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from xtstore.errors import BlobNotFound, ContainerNotFound, InvalidName

INVALID_CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("create_container", ("Bad_Name",)),
    ("create_container", ("ab",)),
    ("create_blob", ("{c}", "../escape.txt", "x")),
    ("create_blob", ("{c}", "a//b.txt", "x")),
    ("append_blob", ("{c}", "a/./b.txt", "x")),
    ("get_blob_text", ("{c}", "./foo/x.txt")),
    ("list_blobs", ("{c}", "../*")),
    ("list_blobs", ("{c}", "/../*")),
    ("list_blobs", ("{c}", "./*")),
    ("list_blobs", ("{c}", "foo/../*")),
    ("copy_blob", ("{c}", "foo/x.txt", "{c}", "bad\\name")),
]
"""Calls that must raise InvalidName; ``{c}`` is the test's container."""


def new_container() -> str:
    return "bare-" + uuid.uuid4().hex[:12]


def everything(store: Any) -> dict[str, list[str]]:
    """Every container and the blobs in it: what an invalid call must leave unchanged."""
    return {name: list(store.list_blobs(name)) for name in store.list_containers()}


def check_bare_store(store: Any, service: str) -> None:
    """Run the contract checks on ``store``, a bare provider instance built from a service
    dict whose ``name`` is ``service``; makes and deletes its own container."""
    container = new_container()
    assert store.create_container(container) is True
    try:
        _check_listing_means_folders(store, container)
        _check_invalid_names_refused_before_io(store, service, container)
        _check_errors_name_service_container_and_blob(store, service, container)
    finally:
        assert store.delete_container(container) is True
    assert not store.does_container_exist(container)
    # The implementation inside returns True too, for code that calls it directly.
    inner = new_container()
    assert store.provider.create_container(inner) is True
    assert store.provider.delete_container(inner) is True


def _check_listing_means_folders(store: Any, container: str) -> None:
    store.create_blob(container, "foo/x.txt", "in the folder")
    store.create_blob(container, "foobar", "beside the folder")
    store.create_blob(container, "..foo", "a name starting with two dots")
    assert store.list_blobs(container, "foo") == ["foo/x.txt"]
    assert store.list_blobs(container, "/foo/") == ["foo/x.txt"]
    assert store.list_blobs(container, "foo", recursive=False) == ["foo/x.txt"]
    assert store.list_blobs(container, "foo*") == ["foo/x.txt", "foobar"]
    # A partial last segment is a raw prefix inside the container, dots or not.
    assert store.list_blobs(container, "..*") == ["..foo"]
    assert store.get_blob_text(container, "/foo/x.txt") == "in the folder"


def _check_invalid_names_refused_before_io(store: Any, service: str, container: str) -> None:
    before = everything(store)
    for operation, template in INVALID_CALLS:
        args = tuple(arg.format(c=container) if isinstance(arg, str) else arg
                     for arg in template)
        with pytest.raises(InvalidName) as caught:
            getattr(store, operation)(*args)
        assert caught.value.service == service, (operation, args)
        assert everything(store) == before, (operation, args)


def _check_errors_name_service_container_and_blob(
    store: Any, service: str, container: str
) -> None:
    with pytest.raises(BlobNotFound) as missing_blob:
        store.get_blob_text(container, "/no/such.txt")
    error = missing_blob.value
    assert (error.service, error.container, error.blob) == (service, container, "no/such.txt")
    assert str(error).startswith(
        f"service {service!r}, container {container!r}, blob 'no/such.txt':")
    absent = new_container()
    with pytest.raises(ContainerNotFound) as missing_container:
        store.list_blobs(absent)
    assert (missing_container.value.service, missing_container.value.container) == (
        service, absent)


def check_builds_one_stack(cls: Callable[[dict[str, Any]], Any], settings: dict[str, Any],
                           implementation: type) -> None:
    """The bare class is a Store around its implementation, and wrapping it in another Store
    gives one layer stack, not two."""
    from xtstore.store import Store

    bare = cls(settings)
    assert isinstance(bare, Store)
    assert type(bare.provider) is implementation
    assert bare.get_service_name() == settings["name"]
    rewrapped = Store(bare, "again")
    assert rewrapped.provider is bare.provider
