"""store-fsspec where folders are real (file://, memory://): a name is a blob or a folder,
never both, as on store-file. Writes that would need both raise the name clash with nothing
changed (they used to move their temporary file INTO the folder, a blob under a name nobody
wrote); reads of a folder or below a blob raise BlobNotFound (they raised raw
IsADirectoryError / NotADirectoryError / ValueError)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import xtstore
from xtstore.errors import BlobAlreadyExists, BlobNotFound
from xtstore.store import Store

CLASH = "blob and a folder"


SCHEMES = ["file", "memory", "dir"]
"""``dir``: fsspec's DirFileSystem over a local folder, a filesystem with real folders that
is neither of the two the provider knows, so it takes the general install (check, mv, check
again)."""


def fsspec_store(scheme: str, tmp_path: Path) -> Store:
    service: dict[str, object] = {"type": "storage", "provider": "store-fsspec"}
    if scheme == "file":
        service["url"] = f"file://{tmp_path}"
    elif scheme == "memory":
        service["url"] = f"memory://folders-{uuid.uuid4().hex}"
    else:
        service.update(url="dir://", options={"path": str(tmp_path), "target_protocol": "file"})
    store: Store = xtstore.get_storage("fs", config={"external-services": {"fs": service}})
    return store


@pytest.fixture(params=SCHEMES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store holding the blobs ``a`` and ``f/x`` in the container ``box``."""
    store = fsspec_store(request.param, tmp_path)
    store.create_container("box")
    store.create_blob("box", "a", "blob a")
    store.create_blob("box", "f/x", "blob f/x")
    yield store
    store.delete_container("box")


def unchanged(store: Store) -> None:
    assert store.list_blobs("box") == ["a", "f/x"]
    assert store.get_blob_text("box", "a") == "blob a"
    assert store.get_blob_text("box", "f/x") == "blob f/x"


def upload(store: Store, tmp_path: Path, name: str) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(b"uploaded")
    store.create_blob_from_path("box", name, str(source))


WRITES: dict[str, Callable[[Store, Path], object]] = {
    "create f": lambda s, _: s.create_blob("box", "f", "over a folder"),
    "create-only f": lambda s, _: s.create_blob("box", "f", "x", fail_if_exists=True),
    "upload f": lambda s, tmp: upload(s, tmp, "f"),
    "copy a to f": lambda s, _: s.copy_blob("box", "a", "box", "f"),
    "append f": lambda s, _: s.append_blob("box", "f", "y"),
    "append f by rewrite": lambda s, _: s.append_blob("box", "f", "y", append_with_rewrite=True),
    "create a/b": lambda s, _: s.create_blob("box", "a/b", "below a blob"),
    "create-only a/b": lambda s, _: s.create_blob("box", "a/b", "x", fail_if_exists=True),
    "create a/b/c": lambda s, _: s.create_blob("box", "a/b/c", "further below"),
    "upload a/b": lambda s, tmp: upload(s, tmp, "a/b"),
    "copy a to a/q": lambda s, _: s.copy_blob("box", "a", "box", "a/q"),
    "append a/b": lambda s, _: s.append_blob("box", "a/b", "y"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_needing_a_blob_and_a_folder_of_one_name_is_a_name_clash(
    store: Store, tmp_path: Path, write: str
) -> None:
    with pytest.raises(BlobAlreadyExists, match=CLASH) as raised:
        WRITES[write](store, tmp_path)
    assert raised.value.container == "box"
    unchanged(store)


READS: dict[str, Callable[[Store, str, Path], object]] = {
    "get_blob_bytes": lambda s, name, _: s.get_blob_bytes("box", name),
    "get_blob_text": lambda s, name, _: s.get_blob_text("box", name),
    "open_blob": lambda s, name, _: s.open_blob("box", name),
    "get_blob_properties": lambda s, name, _: s.get_blob_properties("box", name),
    "get_blob_metadata": lambda s, name, _: s.get_blob_metadata("box", name),
    "set_blob_metadata": lambda s, name, _: s.set_blob_metadata("box", name, {"k": "v"}),
    "get_blob_to_path": lambda s, name, tmp: s.get_blob_to_path("box", name, str(tmp / "dl")),
    "delete_blob": lambda s, name, _: s.delete_blob("box", name),
    "snapshot_blob": lambda s, name, _: s.snapshot_blob("box", name),
    "copy_blob from": lambda s, name, _: s.copy_blob("box", name, "box", "copy"),
}


@pytest.mark.parametrize("name", ["f", "a/b"])
@pytest.mark.parametrize("read", list(READS))
def test_a_folder_or_a_name_below_a_blob_is_no_blob(
    store: Store, tmp_path: Path, read: str, name: str
) -> None:
    with pytest.raises(BlobNotFound):
        READS[read](store, name, tmp_path)
    assert not store.does_blob_exist("box", name)
    assert not (tmp_path / "dl").exists()
    assert store.list_snapshots("box", "a") == []
    unchanged(store)


def test_no_file_is_left_in_a_folder_by_a_refused_write(tmp_path: Path) -> None:
    store = fsspec_store("file", tmp_path)
    store.create_container("box")
    store.create_blob("box", "f/x", "1")
    with pytest.raises(BlobAlreadyExists):
        store.create_blob("box", "f", "2")
    assert sorted(p.name for p in (tmp_path / "box" / "f").iterdir()) == ["x"]
    assert list((tmp_path / ".xtstore" / "tmp").iterdir()) == []


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_empty_folder_left_by_deleted_blobs_does_not_keep_the_name(
    tmp_path: Path, scheme: str
) -> None:
    store = fsspec_store(scheme, tmp_path)
    store.create_container("box")
    store.create_blob("box", "f/x", "1")
    store.delete_blob("box", "f/x")
    store.create_blob("box", "f", "now a blob")
    assert store.list_blobs("box") == ["f"]
    assert store.get_blob_text("box", "f") == "now a blob"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_racing_writers_of_f_and_f_x_never_make_a_blob_under_another_name(
    tmp_path: Path, scheme: str
) -> None:
    store = fsspec_store(scheme, tmp_path)
    for round_ in range(40):
        container = f"race-{round_}"
        store.create_container(container)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def write(name: str, container: str = container,
                  barrier: threading.Barrier = barrier,
                  outcomes: dict[str, str] = outcomes) -> None:
            barrier.wait()
            try:
                store.create_blob(container, name, name)
                outcomes[name] = "written"
            except BlobAlreadyExists:
                outcomes[name] = "clash"
            except Exception as error:  # reported by the assertion below
                outcomes[name] = repr(error)

        threads = [threading.Thread(target=write, args=(name,)) for name in ("f", "f/x")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        written = sorted(name for name, outcome in outcomes.items() if outcome == "written")
        assert sorted(outcomes.values()) == ["clash", "written"], outcomes
        assert store.list_blobs(container) == written
        assert store.get_blob_text(container, written[0]) == written[0]
