"""Clauses "snapshot_blob" and "delete_blob" (snapshots) of docs/contract.md §1."""

from __future__ import annotations

from pathlib import Path

import pytest

from xtstore.errors import BlobAlreadyExists, BlobNotFound, Unsupported
from xtstore.store import Store
from xtstore.testing.base import SuiteBase
from xtstore.testing.checks import check, check_equal, check_raises, require_feature

__all__ = ["SnapshotClauses"]

AS_IT_WAS = "snapshot_blob: get_blob_to_path with the snapshot id reads the content as it was"
NEVER_LISTED = "snapshot_blob: snapshots never appear in list_blobs"
DELETE_ALL = "delete_blob with snapshot=None deletes the blob and all its snapshots"
DELETE_ONE = "delete_blob with a snapshot id deletes only that snapshot"
OWN_SNAPSHOTS = ("snapshot_blob: list_snapshots lists one blob's snapshots, never those of the "
                 "blobs below its name")


def write_and_snapshot(store: Store, container: str, blob: str, text: str) -> str:
    """Write ``text`` as ``blob``; return the id of a snapshot of that version."""
    store.create_blob(container, blob, text)
    return store.snapshot_blob(container, blob).snapshot


def three_versions(store: Store, container: str, blob: str, texts: tuple[str, str, str]
                   ) -> tuple[str, str]:
    """Write the three ``texts`` as ``blob`` in turn, snapshotting the first two, so that
    both snapshots and the blob itself differ; return the two snapshot ids."""
    first = write_and_snapshot(store, container, blob, texts[0])
    second = write_and_snapshot(store, container, blob, texts[1])
    store.create_blob(container, blob, texts[2])
    return first, second


def read_snapshot(store: Store, container: str, blob: str, snapshot: str, dest: Path) -> bytes:
    store.get_blob_to_path(container, blob, str(dest), snapshot=snapshot)
    return dest.read_bytes()


def check_snapshot_gone(store: Store, container: str, blob: str, snapshot: str, dest: Path,
                        clause: str) -> None:
    """Reading ``snapshot`` of ``blob`` (into ``dest``) raises BlobNotFound."""
    check_raises(BlobNotFound, clause, store.get_blob_to_path, container, blob, str(dest),
                 snapshot=snapshot)


class SnapshotClauses(SuiteBase):
    def _require_snapshots(self, store: Store, container: str) -> None:
        store.create_blob(container, "probe.txt", "probe")
        require_feature(store, "snapshots", lambda: store.snapshot_blob(container, "probe.txt"))
        store.delete_blob(container, "probe.txt")

    def test_snapshot_id_is_an_opaque_string(self, store: Store, container: str) -> None:
        self._require_snapshots(store, container)
        clause = "snapshot_blob returns an object whose .snapshot is an opaque string id"
        store.create_blob(container, "s.txt", "v1")
        first = store.snapshot_blob(container, "s.txt")
        second = store.snapshot_blob(container, "s.txt")
        for info in (first, second):
            check(isinstance(info.snapshot, str) and info.snapshot != "", clause,
                  f".snapshot is {info.snapshot!r}")
        check(first.snapshot != second.snapshot, clause,
              f"two snapshots share the id {first.snapshot!r}")

    def test_snapshot_reads_content_as_it_was_after_overwrite(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        self._require_snapshots(store, container)
        one, two = three_versions(store, container, "m/model.bin",
                                  ("version one", "version two, longer", "v3"))
        check_equal(read_snapshot(store, container, "m/model.bin", one, tmp_path / "1"),
                    b"version one", AS_IT_WAS, "first snapshot")
        check_equal(read_snapshot(store, container, "m/model.bin", two, tmp_path / "2"),
                    b"version two, longer", AS_IT_WAS, "second snapshot")
        check_equal(store.get_blob_bytes(container, "m/model.bin"), b"v3", AS_IT_WAS,
                    "the blob itself")
        check_equal(store.get_blob_bytes(container, "m/model.bin", snapshot=one),
                    b"version one", AS_IT_WAS, "get_blob_bytes(snapshot=...)")

    def test_snapshot_reads_content_as_it_was_after_append(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        self._require_snapshots(store, container)
        snap = write_and_snapshot(store, container, "run.log", "line 1\n")
        if store.capabilities().append.available:
            store.append_blob(container, "run.log", "line 2\n")
            store.append_blob(container, "run.log", "line 3\n", append_with_rewrite=True)
            check_equal(store.get_blob_text(container, "run.log"), "line 1\nline 2\nline 3\n",
                        AS_IT_WAS, "the blob after appends")
        check_equal(read_snapshot(store, container, "run.log", snap, tmp_path / "s"),
                    b"line 1\n", AS_IT_WAS, "snapshot taken before the appends")

    def test_snapshots_never_appear_in_list_blobs(self, store: Store, container: str) -> None:
        self._require_snapshots(store, container)
        store.create_blob(container, "d/a.txt", "a")
        store.create_blob(container, "top.txt", "t")
        store.snapshot_blob(container, "d/a.txt")
        store.snapshot_blob(container, "d/a.txt")
        store.snapshot_blob(container, "top.txt")
        check_equal(store.list_blobs(container), ["d/a.txt", "top.txt"], NEVER_LISTED,
                    "recursive listing")
        check_equal(store.list_blobs(container, recursive=False), ["d/", "top.txt"],
                    NEVER_LISTED, "recursive=False listing")
        check_equal(store.list_blobs(container, "d"), ["d/a.txt"], NEVER_LISTED, "path='d'")
        entries = store.list_blobs(container, return_names=False)
        check_equal([getattr(e, "name", e) for e in entries], ["d/a.txt", "top.txt"],
                    NEVER_LISTED, "return_names=False")
        check_equal(store.list_containers().count(container), 1, NEVER_LISTED,
                    "containers named like ours")

    def test_delete_blob_deletes_all_its_snapshots(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        self._require_snapshots(store, container)
        store.create_blob(container, "gone.txt", "old")
        snaps = [store.snapshot_blob(container, "gone.txt").snapshot for _ in range(2)]
        store.delete_blob(container, "gone.txt")
        check(not store.does_blob_exist(container, "gone.txt"), DELETE_ALL, "blob still exists")
        for snap in snaps:
            check_snapshot_gone(store, container, "gone.txt", snap, tmp_path / "x",
                                f"{DELETE_ALL} (reading an old snapshot id)")
        # A new blob of the same name must not bring the old snapshots back.
        store.create_blob(container, "gone.txt", "new")
        for snap in snaps:
            check_snapshot_gone(store, container, "gone.txt", snap, tmp_path / "y",
                                f"{DELETE_ALL} (old snapshot id after re-creating the blob)")
        check_equal(store.list_blobs(container), ["gone.txt"], DELETE_ALL, "listing")

    def test_delete_blobs_deletes_their_snapshots(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        self._require_snapshots(store, container)
        clause = f"delete_blobs: as delete_blob, {DELETE_ALL}"
        store.create_blob(container, "both/a.txt", "a")
        store.create_blob(container, "both/b.txt", "b")
        snap = store.snapshot_blob(container, "both/a.txt").snapshot
        kept = store.snapshot_blob(container, "both/b.txt").snapshot
        check_equal(store.delete_blobs(container, ["both/a.txt"]), {"both/a.txt": None},
                    clause, "outcome")
        check_snapshot_gone(store, container, "both/a.txt", snap, tmp_path / "x", clause)
        check_equal(read_snapshot(store, container, "both/b.txt", kept, tmp_path / "y"),
                    b"b", clause, "a snapshot of a blob not named")

    def test_delete_blob_with_snapshot_id_deletes_only_that_snapshot(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        self._require_snapshots(store, container)
        first, second = three_versions(store, container, "keep.txt", ("one", "two", "three"))
        store.delete_blob(container, "keep.txt", snapshot=first)
        check_snapshot_gone(store, container, "keep.txt", first, tmp_path / "a",
                            f"{DELETE_ONE} (the deleted snapshot is gone)")
        check_equal(read_snapshot(store, container, "keep.txt", second, tmp_path / "b"),
                    b"two", DELETE_ONE, "the other snapshot")
        check_equal(store.get_blob_text(container, "keep.txt"), "three", DELETE_ONE,
                    "the blob itself")
        check_equal(store.list_blobs(container), ["keep.txt"], DELETE_ONE, "listing")

    def test_snapshots_of_the_blobs_below_a_name_are_not_its_own(
        self, store: Store, container: str
    ) -> None:
        self._require_snapshots(store, container)
        write_and_snapshot(store, container, "run/log.txt", "below")
        try:
            listed = store.list_snapshots(container, "run")
        except Unsupported:
            pytest.skip("list_snapshots (an addition to XT's interface) raised Unsupported")
        check_equal(listed, [], OWN_SNAPSHOTS,
                    "a name with no blob of its own, whose folder holds a snapshotted blob")
        try:
            write_and_snapshot(store, container, "run", "beside")
        except BlobAlreadyExists:
            return  # a store with real folders holds no blob "run" beside "run/log.txt"
        check_equal(len(store.list_snapshots(container, "run")), 1, OWN_SNAPSHOTS, "run")
        store.delete_blob(container, "run")
        check_equal(len(store.list_snapshots(container, "run/log.txt")), 1, OWN_SNAPSHOTS,
                    "the snapshots of run/log.txt after deleting the blob run")
