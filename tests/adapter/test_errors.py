"""Foreign providers' exceptions become ``xtstore.errors`` types naming service, container and
blob (docs/contract.md §2): built-in ``OSError``s, ``NotImplementedError``, SDK errors by HTTP
status, XT's own ``xtlib.errors`` by name and message. A missing destination is never reported as a
missing source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.adapter.xt_style import Azure21ShapedStore, XTStyleFileStore
from xtstore.adapter import ForeignProvider
from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    StoreError,
    Unsupported,
)
from xtstore.store import Store


@pytest.fixture
def xt_file(tmp_path: Path) -> Store:
    provider = ForeignProvider(XTStyleFileStore({"path": str(tmp_path / "root")}), "xtfs")
    store = Store(provider, "xtfs")
    store.create_container("runs")
    return store


def test_file_not_found_is_blob_or_container_not_found_by_whether_the_container_exists(
    xt_file: Store,
) -> None:
    with pytest.raises(BlobNotFound) as blob:
        xt_file.get_blob_text("runs", "missing.txt")
    assert str(blob.value) == "service 'xtfs', container 'runs', blob 'missing.txt': blob not found"
    with pytest.raises(ContainerNotFound) as container:
        xt_file.get_blob_text("nothere", "a.txt")
    assert "service 'xtfs', container 'nothere'" in str(container.value)
    with pytest.raises(ContainerNotFound):
        xt_file.list_blobs("nothere")  # the provider lists a missing container as empty
    with pytest.raises(BlobNotFound, match="snapshot '__ss9__' not found"):
        xt_file.get_blob_bytes("runs", "missing.txt", snapshot="__ss9__")


def test_context_is_added_once(xt_file: Store) -> None:
    with pytest.raises(BlobNotFound) as caught:
        xt_file.delete_blob("runs", "gone")
    assert str(caught.value).count("service 'xtfs'") == 1
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_exists_errors_and_xt_service_errors(xt_file: Store) -> None:
    with pytest.raises(ContainerAlreadyExists):
        xt_file.create_container("runs")  # os.makedirs: FileExistsError
    xt_file.create_blob("runs", "a.txt", "x")
    with pytest.raises(BlobAlreadyExists) as caught:  # XT's errors.service_error(...)
        xt_file.create_blob("runs", "a.txt", "y", fail_if_exists=True)
    assert "blob 'a.txt'" in str(caught.value)
    assert xt_file.get_blob_text("runs", "a.txt") == "x"


def test_a_folder_is_not_a_blob(xt_file: Store, tmp_path: Path) -> None:
    xt_file.create_blob("runs", "d/a.txt", "a")
    with pytest.raises(BlobNotFound, match="it is a folder"):
        xt_file.get_blob_text("runs", "d")  # IsADirectoryError
    with pytest.raises(StoreError, match="folder by this name is in the way"):
        xt_file.create_blob("runs", "d", "x")


class _Refusing(XTStyleFileStore):
    def get_blob_text(self, container: str, blob_path: str) -> str:
        raise PermissionError(13, "Permission denied", self._path(container, blob_path))


def test_permission_error_is_access_denied(tmp_path: Path) -> None:
    store = Store(ForeignProvider(_Refusing({"path": str(tmp_path)}), "no"), "no")
    store.create_container("runs")
    with pytest.raises(AccessDenied) as caught:
        store.get_blob_text("runs", "a.txt")
    assert "service 'no', container 'runs', blob 'a.txt'" in str(caught.value)


class _NotImplemented(XTStyleFileStore):
    def snapshot_blob(self, container: str, blob_path: str) -> Any:
        raise NotImplementedError


def test_not_implemented_is_unsupported(tmp_path: Path) -> None:
    store = Store(ForeignProvider(_NotImplemented({"path": str(tmp_path)}), "ni"), "ni")
    store.create_container("runs")
    store.create_blob("runs", "a", "x")
    with pytest.raises(Unsupported, match=r"_NotImplemented\.snapshot_blob is not implemented"):
        store.snapshot_blob("runs", "a")


def test_copy_to_a_missing_destination_folder_is_not_a_missing_source(xt_file: Store) -> None:
    # The provider's copy_blob (shutil.copyfile) fails on the destination's missing folder
    # with FileNotFoundError; the copy is done through the provider's download and upload.
    xt_file.create_blob("runs", "a.txt", "copied")
    xt_file.copy_blob("runs", "a.txt", "runs", "new/folder/b.txt")
    assert xt_file.get_blob_text("runs", "new/folder/b.txt") == "copied"
    with pytest.raises(ContainerNotFound) as dest:
        xt_file.copy_blob("runs", "a.txt", "nothere", "b.txt")
    assert "container 'nothere', blob 'b.txt'" in str(dest.value)
    with pytest.raises(BlobNotFound) as source:
        xt_file.copy_blob("runs", "missing.txt", "runs", "c.txt")
    assert "blob 'missing.txt'" in str(source.value)


def test_a_download_to_a_missing_local_folder_creates_it(xt_file: Store, tmp_path: Path) -> None:
    xt_file.create_blob("runs", "a.txt", "downloaded")
    dest = tmp_path / "new" / "folder" / "a.txt"
    xt_file.get_blob_to_path("runs", "a.txt", str(dest))
    assert dest.read_text() == "downloaded"
    assert os.listdir(dest.parent) == ["a.txt"]  # no temporary file left


def test_a_local_destination_problem_is_not_a_missing_blob(xt_file: Store,
                                                           tmp_path: Path) -> None:
    xt_file.create_blob("runs", "a.txt", "x")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError) as caught:
        xt_file.get_blob_to_path("runs", "a.txt", str(blocker / "a.txt"))
    assert not isinstance(caught.value, (BlobNotFound, ContainerNotFound))


def test_a_failed_download_leaves_no_partial_file(xt_file: Store, tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with pytest.raises(BlobNotFound):
        xt_file.get_blob_to_path("runs", "missing.txt", str(dest))
    assert dest.read_text() == "old" and os.listdir(tmp_path).count("out.txt") == 1
    assert [name for name in os.listdir(tmp_path) if name.endswith(".tmp")] == []


def test_azure_shaped_status_errors(tmp_path: Path) -> None:
    store = Store(ForeignProvider(Azure21ShapedStore({"name": "az"}), "az"), "az")
    store.create_container("runs")
    with pytest.raises(BlobNotFound) as blob:
        store.get_blob_text("runs", "missing")
    assert "service 'az', container 'runs', blob 'missing'" in str(blob.value)
    with pytest.raises(ContainerNotFound):
        store.get_blob_text("nothere", "x")


def test_bytes_reach_a_text_only_provider_as_text_or_through_a_file(xt_file: Store) -> None:
    xt_file.create_blob("runs", "bin", b"\x00\xffraw")  # written in text mode by the provider
    assert xt_file.get_blob_bytes("runs", "bin") == b"\x00\xffraw"
    xt_file.append_blob("runs", "log", "one\n")
    xt_file.append_blob("runs", "log", "two ☃\n".encode())
    assert xt_file.get_blob_text("runs", "log") == "one\ntwo ☃\n"
    with pytest.raises(Unsupported, match="append_blob takes text only") as caught:
        xt_file.append_blob("runs", "log", b"\xff")
    assert "blob 'log'" in str(caught.value)
    assert xt_file.get_blob_text("runs", "log") == "one\ntwo ☃\n"


class LosesTheFolderRace(XTStyleFileStore):
    """XT FileStore's "exists? else makedirs" losing once: another writer makes the blob's new
    folder between the check and the makedirs."""

    def __init__(self, creds: dict[str, Any]) -> None:
        super().__init__(creds)
        self.lost = False

    def create_blob(self, container: str, blob_path: str, text: Any,
                    fail_if_exists: bool = False) -> bool:
        folder = os.path.dirname(self._path(container, blob_path))
        if not self.lost and not os.path.exists(folder):
            self.lost = True
            os.makedirs(folder)  # the other writer
            os.makedirs(folder)  # this one, a moment too late
        return super().create_blob(container, blob_path, text, fail_if_exists=fail_if_exists)


@pytest.mark.parametrize("fail_if_exists", [False, True])
def test_losing_a_folder_race_is_retried_not_reported_as_an_existing_blob(
    tmp_path: Path, fail_if_exists: bool
) -> None:
    inner = LosesTheFolderRace({"path": str(tmp_path / "root")})
    store = Store(ForeignProvider(inner, "xtfs"), "xtfs")
    store.create_container("runs")
    store.create_blob("runs", "new/folder/a.txt", "text", fail_if_exists=fail_if_exists)
    assert inner.lost
    assert store.get_blob_text("runs", "new/folder/a.txt") == "text"
