"""Fixtures every clause group shares: fresh containers that are removed afterwards."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator

import pytest

from xtstore.store import Store
from xtstore.testing.options import SuiteOptions

__all__ = ["SuiteBase", "new_container_name", "put_bytes"]


def new_container_name() -> str:
    """A container name no other test (or earlier run) uses."""
    return "xtc-" + uuid.uuid4().hex[:16]


def drop_container(store: Store, container: str) -> None:
    """Delete ``container`` if it is there; a cleanup failure must not hide the test result."""
    with contextlib.suppress(Exception):
        store.delete_container(container)


def put_bytes(store: Store, container: str, blob: str, data: bytes) -> None:
    """Write ``data`` as ``blob`` through ``create_blob_from_path``, the one binary write
    every XT provider takes (some XT-style ``create_blob`` open the file as text), for clauses
    whose subject is not ``create_blob`` itself."""
    handle, source = tempfile.mkstemp(prefix="xtstore-suite-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        store.create_blob_from_path(container, blob, source)
    finally:
        os.unlink(source)


class SuiteBase:
    """Base of the clause groups. A subclass supplies the ``store`` fixture."""

    options: SuiteOptions = SuiteOptions()

    @pytest.fixture
    def make_container(self, store: Store) -> Iterator[Callable[[], str]]:
        """A factory of new, empty containers, all deleted after the test."""
        made: list[str] = []

        def make() -> str:
            name = new_container_name()
            store.create_container(name)
            made.append(name)
            return name

        yield make
        for name in made:
            drop_container(store, name)

    @pytest.fixture
    def container(self, make_container: Callable[[], str]) -> str:
        """A new, empty container for this test only."""
        return make_container()

    def use_processes(self, store: Store) -> bool:
        """Whether the concurrency clauses run in processes (else threads)."""
        if self.options.processes is not None:
            return self.options.processes
        return store.capabilities().shared_between_processes
