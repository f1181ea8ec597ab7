"""XT's own storage-provider tests (:mod:`tests.xt.xt_conventions`) on every built-in provider
a test run can reach: store-file, store-memory, azure-blob on Azurite and store-s3 on moto.

Each runs twice: on the store ``xtstore.get_storage()`` returns, and on the provider class
built bare from the service dict exactly as XT builds it (``config.get_provider_class_ctr``:
the provider name's code path, imported, called with the service dict and its ``name``).
XT's container names are kept where the store is the test's own; on a server shared by the
run they get a random suffix, so runs and tests never meet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.xt import xt_conventions as xt
from xtstore.errors import InvalidName
from xtstore.registry import known_providers

PROVIDERS = ("store-file", "store-memory", "azure-blob", "store-s3")
BUILDS = ("get_storage", "bare")
SHARED_SERVER = {"azure-blob", "store-s3"}


def _service(provider: str, request: pytest.FixtureRequest, root: Path) -> dict[str, Any]:
    """The service dict an XT user would write for ``provider`` (tests' servers filled in)."""
    if provider == "store-file":
        return {"type": "storage", "provider": provider, "path": str(root / "filestore")}
    if provider == "store-memory":
        return {"type": "storage", "provider": provider}
    if provider == "azure-blob":
        azurite = request.getfixturevalue("azurite")
        return {"type": "storage", "provider": provider,
                "connection-string": azurite.connection_string}
    service: dict[str, Any] = request.getfixturevalue("moto_server").service_config()
    return service


def build(build_kind: str, service_name: str, service: dict[str, Any]) -> Any:
    """The store XT's code would hold: through get_storage(), or the bare provider class."""
    if build_kind == "get_storage":
        return xtstore.get_storage(service_name, config={"external-services": {
            service_name: service}})
    # XT: storage_creds = config.get_service(name) (the dict plus "name"), then
    # impl_ctr = config.get_provider_class_ctr("storage", provider); impl_ctr(storage_creds).
    storage_creds = {**service, "name": service_name}
    impl_ctr = xt.get_class_ctr(known_providers()[storage_creds["provider"]])
    return impl_ctr(storage_creds)


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(params=BUILDS)
def build_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def names(provider: str) -> xt.XtContainers:
    if provider not in SHARED_SERVER:
        return xt.XtContainers()
    suffix = uuid.uuid4().hex[:8]
    return xt.XtContainers(f"{xt.QT_CONTAINER}-{suffix}", f"{xt.TEST_CONTAINER}-{suffix}")


@pytest.fixture
def impl(
    provider: str,
    build_kind: str,
    names: xt.XtContainers,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[Any]:
    """XT's setup and teardown around one provider built one way."""
    service_name = "filestorage" if provider == "store-file" else "xtsandboxstorage"
    store = build(build_kind, service_name, _service(provider, request, tmp_path))
    xt.setup(store, names)
    yield store
    xt.teardown(store, names)


def test_service(impl: Any) -> None:
    xt.service_tests(impl)


def test_container(impl: Any, names: xt.XtContainers) -> None:
    xt.container_tests(impl, names)


def test_blob(
    impl: Any, names: xt.XtContainers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # XT's quick-test runs in its own folder (DirChange(TEST_DIR)) with a relative TEST_FILE.
    work = tmp_path / "storageProviderTests"
    work.mkdir()
    monkeypatch.chdir(work)
    xt.blob_tests(impl, names)
    assert (work / xt.TEST_FILE).read_text() == xt.BLOB_TEXT


def test_the_whole_sequence_on_one_store(
    impl: Any, names: xt.XtContainers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XT's quick-test runs service, container and blob tests one after the other on the same
    provider object, so the retry function set first is in force for what follows."""
    monkeypatch.chdir(tmp_path)
    xt.service_tests(impl)
    xt.container_tests(impl, names)
    xt.blob_tests(impl, names)


def test_container_calls_return_true(impl: Any, names: xt.XtContainers) -> None:
    """XT's callers (``StoreBlobObjs.create_workspace``, ``delete_workspace``, ``create_share``)
    treat a falsy result of these calls as failure."""
    assert impl.create_container(names.test) is True
    assert impl.delete_container(names.test) is True


def test_a_bare_class_keeps_the_list_path_and_name_rules(
    impl: Any, names: xt.XtContainers
) -> None:
    """XT calls the bare class directly, so the contract must hold there too: ``"foo"`` is the
    folder ``foo/``, never the sibling ``foobar``, and a bad name is refused before any I/O."""
    impl.create_blob(names.qt, "foo/a.txt", "a")
    impl.create_blob(names.qt, "foobar/b.txt", "b")
    assert impl.list_blobs(names.qt, "foo") == ["foo/a.txt"]
    assert impl.list_blobs(names.qt, "foo", recursive=False) == ["foo/a.txt"]
    with pytest.raises(InvalidName):
        impl.create_blob(names.qt, "a/../b.txt", "x")
    with pytest.raises(InvalidName):
        impl.create_container("Not_A_Container")
    assert sorted(impl.list_blobs(names.qt)) == ["foo/a.txt", "foobar/b.txt"]
