"""Clause "Containers" of docs/contract.md §1: create, exist, list sorted, delete with contents,
properties and metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone

from xtstore.errors import ContainerAlreadyExists, ContainerNotFound
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, drop_container, new_container_name
from xtstore.testing.checks import check, check_equal, check_raises, require_feature, short
from xtstore.values import ContainerInfo

__all__ = ["ContainerClauses", "check_utc_now"]

MISSING = "Containers: operations on a missing container raise ContainerNotFound"


def check_utc_now(value: object, clause: str, what: str) -> None:
    """``value`` is a timezone-aware UTC datetime close to now (clocks may differ a little)."""
    check(isinstance(value, datetime), clause, f"{what} is {type(value).__name__}, not datetime")
    assert isinstance(value, datetime)
    offset = value.utcoffset()
    check(offset is not None, clause, f"{what} {value!r} is naive, not timezone-aware")
    check_equal(offset, timedelta(0), clause, f"{what} UTC offset")
    skew = abs(value - datetime.now(timezone.utc))
    check(skew < timedelta(minutes=10), clause, f"{what} {value.isoformat()} is {skew} from now")


class ContainerClauses(SuiteBase):
    def test_create_container_exists_and_is_listed_sorted(self, store: Store) -> None:
        clause = "Containers: list_containers returns sorted names"
        first, second, third = sorted(new_container_name() for _ in range(3))
        names = [second, third, first]  # neither sorted nor reversed: creation order shows
        try:
            for name in names:
                check(not store.does_container_exist(name), clause, f"{name} exists before")
                store.create_container(name)
                check(store.does_container_exist(name), clause, f"{name} missing after create")
            listed = store.list_containers()
            check_equal(listed, sorted(listed), clause, "list_containers order")
            for name in names:
                check(name in listed, clause, f"{name} not in list_containers() {listed}")
        finally:
            for name in names:
                drop_container(store, name)

    def test_create_existing_container_raises_container_already_exists(
        self, store: Store, container: str
    ) -> None:
        store.create_blob(container, "keep.txt", "kept")
        check_raises(ContainerAlreadyExists, "Containers: create_container raises "
                     "ContainerAlreadyExists if it exists", store.create_container, container)
        check_equal(store.get_blob_text(container, "keep.txt"), "kept",
                    "Containers: a refused create_container changes nothing", "content")

    def test_delete_container_removes_it_with_everything_in_it(self, store: Store) -> None:
        clause = "Containers: delete_container removes it with everything in it"
        name = new_container_name()
        store.create_container(name)
        try:
            for path in ("a.txt", "deep/er/b.txt", "deep/c.txt"):
                store.create_blob(name, path, path)
            store.delete_container(name)
            check(not store.does_container_exist(name), clause, "still exists after delete")
            check(name not in store.list_containers(), clause, "still in list_containers()")
            check_raises(ContainerNotFound, clause + " (then list_blobs raises "
                         "ContainerNotFound)", store.list_blobs, name)
            check(not store.does_blob_exist(name, "a.txt"), clause,
                  "does_blob_exist is True for a blob of the deleted container")
        finally:
            drop_container(store, name)

    def test_operations_on_missing_container_raise_container_not_found(
        self, store: Store
    ) -> None:
        missing = new_container_name()
        check(not store.does_container_exist(missing), MISSING, "does_container_exist is True")
        check(not store.does_blob_exist(missing, "a.txt"), "does_blob_exist is False, not an "
              "error, when the container does not exist", "returned True")
        calls: list[tuple[str, Callable[[], object]]] = [
            ("list_blobs", lambda: store.list_blobs(missing)),
            ("list_blobs(recursive=False)", lambda: store.list_blobs(missing, recursive=False)),
            ("create_blob", lambda: store.create_blob(missing, "a.txt", "x")),
            ("delete_container", lambda: store.delete_container(missing)),
            ("get_container_properties", lambda: store.get_container_properties(missing)),
            ("get_container_metadata", lambda: store.get_container_metadata(missing)),
        ]
        for name, call in calls:
            check_raises(ContainerNotFound, f"{MISSING} ({name})", call)
        check(not store.does_container_exist(missing), MISSING, "a failed call created it")

    def test_container_properties_have_name_last_modified_and_metadata(
        self, store: Store, container: str
    ) -> None:
        clause = "Properties: get_container_properties has .name, .last_modified, .metadata"
        props = store.get_container_properties(container)
        check(isinstance(props, ContainerInfo), clause,
              f"got {type(props).__module__}.{type(props).__qualname__} {short(props)}, "
              "not ContainerInfo")
        check_equal(props.name, container, clause, ".name")
        check_utc_now(props.last_modified, clause, ".last_modified")
        check(isinstance(props.metadata, Mapping), clause,
              f".metadata is {type(props.metadata).__name__}, not a mapping")
        metadata = store.get_container_metadata(container)
        check(isinstance(metadata, dict), "Properties: get_container_metadata returns a dict",
              f"got {type(metadata).__name__}")
        check_equal(dict(props.metadata), metadata, clause, ".metadata vs get_container_metadata")

    def test_container_metadata_round_trips(self, store: Store, container: str) -> None:
        clause = "Properties: container metadata is a dict of str to str"
        wanted = {"owner": "xtstore-suite", "purpose": "conformance"}
        require_feature(store, "metadata",
                        lambda: store.set_container_metadata(container, wanted))
        store.set_container_metadata(container, wanted)
        check_equal(store.get_container_metadata(container), wanted, clause, "metadata")
        check_equal(dict(store.get_container_properties(container).metadata), wanted, clause,
                    "properties.metadata")
