"""Clauses "Value types" and "Retry" of docs/contract.md §1, and the additions every ``Store``
offers (bytes, streams, iterator listing): whatever a provider overrides must mean the same."""

from __future__ import annotations

import io
from datetime import datetime

from xtstore.errors import BlobNotFound
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, put_bytes
from xtstore.testing.checks import check, check_equal, check_raises, precondition
from xtstore.values import BlobInfo, ContainerInfo, SnapshotInfo

__all__ = ["AdditionClauses", "ValueClauses"]

VALUES = ("Value types: listings, properties and snapshots return the library's own frozen "
          "value types (BlobInfo, BlobProperties, ContainerInfo, SnapshotInfo)")


class ValueClauses(SuiteBase):
    def test_results_are_the_library_value_types(self, store: Store, container: str) -> None:
        store.create_blob(container, "v/a.txt", "a")
        for entry in [*store.list_blobs(container, return_names=False),
                      *store.list_blobs(container, return_names=False, recursive=False),
                      store.get_blob_properties(container, "v/a.txt")]:
            check(type(entry) is BlobInfo, VALUES, f"got {type(entry).__module__}."
                  f"{type(entry).__qualname__}")
        props = store.get_container_properties(container)
        check(type(props) is ContainerInfo, VALUES, f"container properties are {type(props)}")
        if store.capabilities().snapshots.available:
            snap = store.snapshot_blob(container, "v/a.txt")
            check(type(snap) is SnapshotInfo, VALUES, f"snapshot_blob returned {type(snap)}")
            check_equal((snap.container, snap.blob), (container, "v/a.txt"), VALUES,
                        "SnapshotInfo container and blob")
            check(isinstance(snap.created, datetime) and snap.created.utcoffset() is not None,
                  VALUES, f"SnapshotInfo.created is {snap.created!r}, not timezone-aware")

    def test_set_retry_is_returned_by_get_retry(self, store: Store) -> None:
        clause = "Retry: set_retry(n) sets how many times a transient failure is retried; " \
                 "get_retry() returns it"
        before = store.get_retry()
        try:
            for value in (0, 3, 7):
                store.set_retry(value)
                check_equal(store.get_retry(), value, clause, f"after set_retry({value})")
        finally:
            store.set_retry(before)


class AdditionClauses(SuiteBase):
    def test_get_blob_bytes_and_open_blob_read_the_blob(
        self, store: Store, container: str
    ) -> None:
        clause = "Additions: get_blob_bytes and open_blob read the blob's exact bytes"
        content = bytes(range(256)) * 1000
        with precondition(clause, "uploading binary content with create_blob_from_path"):
            put_bytes(store, container, "r.bin", content)
        check_equal(store.get_blob_bytes(container, "r.bin"), content, clause, "get_blob_bytes")
        with store.open_blob(container, "r.bin") as stream:
            head = stream.read(1000)
            rest = stream.read()
        check_equal(head + rest, content, clause, "open_blob")
        check_raises(BlobNotFound, f"{clause} (a missing blob raises BlobNotFound)",
                     store.get_blob_bytes, container, "missing.bin")

    def test_create_blob_from_stream_writes_everything_the_stream_yields(
        self, store: Store, container: str
    ) -> None:
        clause = "Additions: create_blob_from_stream uploads everything the stream yields"
        content = b"stream \x00\xff " * 50_000
        calls: list[tuple[int, int]] = []
        store.create_blob_from_stream(container, "s.bin", io.BytesIO(content),
                                      length=len(content),
                                      progress_callback=lambda c, t: calls.append((c, t)))
        check_equal(store.get_blob_bytes(container, "s.bin"), content, clause, "content")
        check(calls and calls[-1] == (len(content), len(content)), clause,
              f"progress ended at {calls[-1:] or 'nothing'}, not ({len(content)}, "
              f"{len(content)})")

    def test_iter_blobs_matches_list_blobs(self, store: Store, container: str) -> None:
        clause = "Additions: iter_blobs gives the entries of list_blobs(return_names=False)"
        for name in ("a.txt", "d/b.txt", "d/e/c.txt", "dd.txt"):
            store.create_blob(container, name, name)
        for path in (None, "d", "d*"):
            for recursive in (True, False):
                listed = store.list_blobs(container, path, return_names=False,
                                          recursive=recursive)
                names = [getattr(entry, "name", entry) for entry in listed]
                iterated = [entry.name for entry in store.iter_blobs(container, path,
                                                                     recursive=recursive)]
                check_equal(iterated, names, clause, f"path={path!r} recursive={recursive}")
