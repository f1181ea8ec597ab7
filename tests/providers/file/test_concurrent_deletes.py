"""store-file writes beside deletes that remove the folders they leave empty: a delete of
``d/b/x`` removes ``d/b`` and then ``d`` when empty, also in the moment between another
writer's opening of ``d`` (or making of it) and the link, rename or unnamed file it makes
there. Every write kind must land whole anyway, with no false error and nothing left in
``.xtstore/tmp``. Two threads, each ``ROUNDS`` writes; a few seconds in all."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import xtstore
from xtstore.localfiles import oscalls
from xtstore.store import Store

ROUNDS = 250
"""Writes per thread and write kind: main's code before the fix failed ~1 in 60 writes
into a folder another thread's delete removed."""

Write = Callable[[Store, str, str, Path], None]
"""Writes the blob ``name`` so that it reads back as the given text (``Path``: a scratch
folder of the thread's own)."""


def _from_path(store: Store, name: str, text: str, scratch: Path) -> None:
    source = scratch / "source"
    source.write_text(text)
    store.create_blob_from_path("runs", name, str(source))


def _append_in_place(store: Store, name: str, text: str, scratch: Path) -> None:
    store.append_blob("runs", name, text[:1])  # a new blob: made by rewrite
    store.append_blob("runs", name, text[1:])  # its only link: in place


def _rewrite_twice(store: Store, name: str, text: str, scratch: Path) -> None:
    store.append_blob("runs", name, text[:1], append_with_rewrite=True)
    store.append_blob("runs", name, text[1:], append_with_rewrite=True)


def _copy(store: Store, name: str, text: str, scratch: Path) -> None:
    source = f"sources/{scratch.name}"
    store.create_blob("runs", source, text)
    store.copy_blob("runs", source, "runs", name)


def _with_metadata(store: Store, name: str, text: str, scratch: Path) -> None:
    store.create_blob("runs", name, text, fail_if_exists=True)
    store.set_blob_metadata("runs", name, {"text": text})
    if store.get_blob_metadata("runs", name) != {"text": text}:
        raise AssertionError(f"{name}: metadata read back wrong")


WRITES: dict[str, Write] = {
    "create_blob": lambda store, name, text, _: store.create_blob("runs", name, text),
    "create_blob fail_if_exists": lambda store, name, text, _: store.create_blob(
        "runs", name, text, fail_if_exists=True),
    "create_blob_from_stream": lambda store, name, text, _: store.create_blob_from_stream(
        "runs", name, io.BytesIO(text.encode())),
    "create_blob_from_path": _from_path,
    "append_blob in place": _append_in_place,
    "append_blob by rewrite": _rewrite_twice,
    "copy_blob": _copy,
    "metadata and locks": _with_metadata,
}


@pytest.fixture(params=["unnamed files", "named files"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store on ``tmp_path / "root"`` writing through ``O_TMPFILE`` files in the blob's
    folder, or (as where a file system has none) through named files in ``.xtstore/tmp``."""
    saved = oscalls.unnamed_files[0]
    oscalls.unnamed_files[0] = saved and request.param == "unnamed files"
    try:
        config = {"external-services": {"s": {"type": "storage", "provider": "store-file",
                                               "path": str(tmp_path / "root")}}}
        made: Store = xtstore.get_storage("s", config=config)
        made.create_container("runs")
        yield made
    finally:
        oscalls.unnamed_files[0] = saved


def _race(threads: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(threads)

    def run(number: int) -> None:
        barrier.wait()
        work(number)

    started = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()


def _left_in(root: Path) -> list[str]:
    """What is left in the container (but the copies' sources) and in the temporary area."""
    found = [str(path.relative_to(root)) for top in (root / "runs", root / ".xtstore" / "tmp")
             for path in top.rglob("*") if "sources" not in path.parts]
    return sorted(found)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_write_beside_a_delete_removing_its_folder_never_fails(
    kind: str, store: Store, tmp_path: Path
) -> None:
    """Two threads write and delete blobs, one in ``d/`` and one in ``d/b/``, each with the
    write ``kind``: each write reads back whole, and no call fails."""
    write = WRITES[kind]
    failures: list[str] = []

    def write_and_delete(number: int) -> None:
        folder = ("d/", "d/b/")[number]
        scratch = tmp_path / f"scratch{number}"
        scratch.mkdir()
        for round_ in range(ROUNDS):
            name, text = f"{folder}{round_ % 3}", f"{folder}#{round_}"
            try:
                write(store, name, text, scratch)
                if store.get_blob_text("runs", name) != text:
                    failures.append(f"{name} #{round_} read back wrong")
                store.delete_blob("runs", name)
            except Exception as error:
                failures.append(f"{name} #{round_}: {error!r}")

    _race(2, write_and_delete)
    assert failures == []
    assert _left_in(tmp_path / "root") == []


@pytest.mark.timeout(60)
def test_a_snapshot_beside_a_delete_removing_its_folder_never_fails(
    store: Store, tmp_path: Path
) -> None:
    """Two threads snapshot one blob and delete their own snapshot: the delete of the last
    one removes the blob's snapshot folder, also while the other's snapshot links into it,
    and every snapshot is still made and listed until its delete."""
    store.create_blob("runs", "d/s", "content")
    failures: list[str] = []

    def snapshot_and_delete(number: int) -> None:
        for round_ in range(ROUNDS):
            try:
                snapshot = store.snapshot_blob("runs", "d/s").snapshot
                if snapshot not in {s.snapshot for s in store.list_snapshots("runs", "d/s")}:
                    failures.append(f"#{round_}: snapshot {snapshot} not listed")
                store.delete_blob("runs", "d/s", snapshot=snapshot)
            except Exception as error:
                failures.append(f"thread {number} #{round_}: {error!r}")

    _race(2, snapshot_and_delete)
    assert failures == []
    assert store.list_snapshots("runs", "d/s") == []
    assert store.get_blob_text("runs", "d/s") == "content"
    assert os.listdir(tmp_path / "root" / ".xtstore" / "snapshots" / "runs") == []
