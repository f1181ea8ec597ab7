"""The provider registry: built-in names, code paths from sys.path and from a subdirectory of
the working directory, entry points, the structural check, missing-SDK messages, and stores
pickled to a spawned worker process that opens the service again there."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.adapter import ForeignProvider
from xtstore.config import Config
from xtstore.errors import ConfigError, ProviderLoadError
from xtstore.interface import XT_METHODS
from xtstore.providers.memory.store import MemoryProvider
from xtstore.registry import (
    BUILTIN_PROVIDERS,
    ENTRY_POINT_GROUP,
    known_providers,
    load_provider_class,
)

SECRET = "tok-5d1e0a7c-SECRET"


class PlainStore:
    """XT-style: every interface method, no base class (delegates to a real MemoryProvider)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.inner = MemoryProvider(config)


def _delegate(name: str) -> Any:
    def method(self: PlainStore, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in XT_METHODS:
    setattr(PlainStore, _name, _delegate(_name))


class HalfStore:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def get_retry(self) -> int:
        return 0

    def create_blob(self, container: str, blob_path: str, text: str) -> None:
        pass


# A file-backed XT-style provider written into a folder of the working directory, like XT's
# extensions/my_cloud_storage.py; it insists on receiving its $vault token.
DIR_STORE = '''
import os
from xtstore.interface import XT_METHODS


class DirStore:
    def __init__(self, config):
        if config.get("token") != os.environ.get("EXPECTED_TOKEN"):
            raise ValueError("wrong token")
        self.root = config["path"]

    def create_container(self, container):
        os.makedirs(os.path.join(self.root, container))

    def does_container_exist(self, container):
        return os.path.isdir(os.path.join(self.root, container))

    def create_blob(self, container, blob_path, text, fail_if_exists=False):
        with open(os.path.join(self.root, container, blob_path), "w") as out:
            out.write(text)

    def get_blob_text(self, container, blob_path):
        with open(os.path.join(self.root, container, blob_path)) as source:
            return source.read()


def _not_here(self, *args, **kwargs):
    raise NotImplementedError


for _name in XT_METHODS:
    if not hasattr(DirStore, _name):
        setattr(DirStore, _name, _not_here)
'''


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory; sys.path and modules imported from tmp_path are restored."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    # Another test may have imported a different extensions/ package (XT's example).
    for name in [m for m in sys.modules if m == "extensions" or m.startswith("extensions.")]:
        monkeypatch.delitem(sys.modules, name)
    yield work
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None) or "".join(getattr(module, "__path__", []))
        if str(tmp_path) in str(location):
            del sys.modules[name]


# ---- names ----


def test_builtin_names_map_to_lazy_code_paths(cwd: Path) -> None:
    assert BUILTIN_PROVIDERS == {
        "store-file": "xtstore.providers.file.store.FileStore",
        "store-memory": "xtstore.providers.memory.store.MemoryStore",
        "azure-blob": "xtstore.providers.azure.store.AzureBlobStore",
        "azure-blob-21": "xtstore.providers.azure.store.AzureBlobStore",
        "azure-blob-210": "xtstore.providers.azure.store.AzureBlobStore",
        "store-s3": "xtstore.providers.s3.store.S3Store",
        "store-fsspec": "xtstore.providers.fsspec_store.store.FsspecStore",
    }
    known = known_providers({})
    for name, code_path in BUILTIN_PROVIDERS.items():
        assert known[name] == code_path
    assert list(known) == sorted(known)


def test_importing_xtstore_imports_no_provider_or_sdk() -> None:
    # Validating the default service reads store-file's description (and its package's
    # lazy __init__), never the provider's code or an SDK.
    code = (
        "import sys, xtstore; xtstore.load_config();"
        "bad = [m for m in sys.modules if m.startswith(('xtstore.providers.', 'azure', 'boto3',"
        " 'fsspec')) and not m.endswith('.description') and m + '.description' not in"
        " sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(BUILTIN_PROVIDERS))
def test_builtin_provider_classes_load(cwd: Path, name: str) -> None:
    module_name, _, class_name = BUILTIN_PROVIDERS[name].rpartition(".")
    pytest.importorskip(module_name, reason=f"{module_name} is not written yet")
    cls = load_provider_class(name, {})
    assert (cls.__module__, cls.__name__) == (module_name, class_name)
    assert issubclass(cls, xtstore.StoreInterface)


def test_store_memory_by_name(cwd: Path) -> None:
    store = xtstore.get_storage(
        "mem", {"external-services": {"mem": {"type": "storage", "provider": "store-memory"}}}
    )
    assert isinstance(store.provider, MemoryProvider)
    store.create_container("runs")
    store.create_blob("runs", "a/b.txt", "hello")
    assert store.get_blob_text("runs", "a/b.txt") == "hello"


def test_configured_names_win_over_builtins(cwd: Path) -> None:
    config = Config.from_mapping(
        {"providers": {"storage": {"store-file": "tests.test_registry.PlainStore"}}}
    )
    assert known_providers(config)["store-file"] == "tests.test_registry.PlainStore"
    assert load_provider_class("store-file", config) is PlainStore
    store = xtstore.get_storage(config=config)
    assert isinstance(store.provider, ForeignProvider)
    assert isinstance(store.provider.inner, PlainStore)


def test_unknown_name(cwd: Path) -> None:
    with pytest.raises(ProviderLoadError, match="'nope' is not a known storage provider"):
        load_provider_class("nope", {})


# ---- code paths ----


def test_code_path_from_the_python_path(cwd: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write(site / "acme_storage" / "__init__.py", "")
    write(
        site / "acme_storage" / "backend.py",
        "from xtstore.providers.memory.store import MemoryProvider\n\n"
        "class AcmeStore(MemoryProvider):\n    pass\n",
    )
    sys.path.insert(0, str(site))
    config = {
        "providers": {"storage": {"store-acme": "acme_storage.backend.AcmeStore"}},
        "external-services": {
            "byname": {"type": "storage", "provider": "store-acme"},
            "bypath": {"type": "storage", "provider": "acme_storage.backend.AcmeStore"},
        },
    }
    for service in ("byname", "bypath"):
        store = xtstore.get_storage(service, config)
        assert type(store.provider).__name__ == "AcmeStore"
        assert store.origin is not None
        assert store.origin.search_dir is None  # type: ignore[attr-defined]


def test_code_path_from_a_subdirectory_of_the_working_directory(cwd: Path) -> None:
    # XT's case: extensions/ has no __init__.py and is not on sys.path.
    write(
        cwd / "extensions" / "my_cloud_storage.py",
        "from xtstore.providers.memory.store import MemoryProvider\n\n"
        "class MyCloudStorage(MemoryProvider):\n    pass\n",
    )
    assert str(cwd) not in sys.path
    store = xtstore.get_storage(
        "mycloudstorage",
        {
            "providers": {
                "storage": {"store-mycloud": "extensions.my_cloud_storage.MyCloudStorage"}
            },
            "external-services": {
                "mycloudstorage": {"type": "storage", "provider": "store-mycloud"}
            },
        },
    )
    assert type(store.provider).__name__ == "MyCloudStorage"
    assert store.origin.search_dir == str(cwd)  # type: ignore[union-attr]


def test_entry_point_providers(cwd: Path, tmp_path: Path) -> None:
    site = tmp_path / "plugins"
    write(
        site / "xt_plugin_mod.py",
        "from xtstore.providers.memory.store import MemoryProvider\n\n"
        "class PluginStore(MemoryProvider):\n    pass\n",
    )
    dist = site / "xt_plugin-1.0.dist-info"
    write(dist / "METADATA", "Metadata-Version: 2.1\nName: xt-plugin\nVersion: 1.0\n")
    write(
        dist / "entry_points.txt",
        f"[{ENTRY_POINT_GROUP}]\nstore-plugin = xt_plugin_mod:PluginStore\n"
        "store-plugin-extra = xt_plugin_mod:PluginStore [fast]\n",
    )
    sys.path.insert(0, str(site))

    assert known_providers({})["store-plugin"] == "xt_plugin_mod:PluginStore"
    assert load_provider_class("store-plugin-extra", {}).__name__ == "PluginStore"
    config = Config.from_mapping(
        {"external-services": {"plug": {"type": "storage", "provider": "store-plugin"}}}
    )
    store = xtstore.get_storage("plug", config)
    assert type(store.provider).__name__ == "PluginStore"
    store.create_container("runs")
    assert store.list_containers() == ["runs"]


# ---- structural check ----


def test_a_plain_class_with_every_method_is_accepted_and_adapted(cwd: Path) -> None:
    assert load_provider_class("tests.test_registry.PlainStore", {}) is PlainStore
    store = xtstore.get_storage(
        "plain",
        {"external-services": {"plain": {"provider": "tests.test_registry.PlainStore"}}},
    )
    assert isinstance(store.provider, ForeignProvider)
    store.create_container("runs")
    store.create_blob("runs", "x.txt", b"bytes")
    assert store.get_blob_text("runs", "x.txt") == "bytes"
    assert store.provider.inner.config["name"] == "plain"


def test_a_class_missing_methods_is_refused_naming_them(cwd: Path) -> None:
    with pytest.raises(ProviderLoadError) as raised:
        load_provider_class("tests.test_registry.HalfStore", {})
    message = str(raised.value)
    assert "'tests.test_registry.HalfStore' is not a storage provider: it lacks set_retry," in (
        message
    )
    assert "snapshot_blob" in message
    assert "get_retry," not in message and "create_blob," not in message


def test_an_abstract_subclass_is_refused_naming_what_is_missing(cwd: Path) -> None:
    write(
        cwd / "ext" / "partial.py",
        "from xtstore import StoreInterface\n\n"
        "class Partial(StoreInterface):\n"
        "    def get_service_name(self):\n        return 'p'\n",
    )
    with pytest.raises(ProviderLoadError, match=r"does not implement StoreInterface: missing"):
        load_provider_class("ext.partial.Partial", {})


@pytest.mark.parametrize(
    ("code_path", "message"),
    [
        ("nowhere_pkg.mod.Store", "it is not on the Python path"),
        ("ext.mod.Missing", "module 'ext.mod' has no attribute 'Missing'"),
        ("ext.mod.helper", "it is a function, not a class"),
        ("ext.mod.CONSTANT", "it is a int, not a class"),
        ("ext.nomodule.Store", "no such module on the Python path or in"),
        ("ext.broken.Store", "failed: SyntaxError"),
        ("xtstore.nomodule.Store", "there is no module 'xtstore.nomodule'"),
    ],
)
def test_bad_code_paths(cwd: Path, code_path: str, message: str) -> None:
    write(cwd / "ext" / "mod.py", "CONSTANT = 3\n\ndef helper():\n    pass\n")
    write(cwd / "ext" / "broken.py", "def oops(:\n")
    with pytest.raises(ProviderLoadError, match=message.replace("(", r"\(")):
        load_provider_class(code_path, {})


@pytest.mark.parametrize(
    ("import_line", "install"),
    [
        ("raise ModuleNotFoundError(\"No module named 'boto3'\", name='boto3')",
         "needs boto3, which is not installed: pip install 'xtstore[s3]'"),
        ("import azure.xtstore_test_missing_module",
         "needs azure-storage-blob, which is not installed: pip install 'xtstore[azure]'"),
        ("raise ModuleNotFoundError(\"No module named 'azure.identity'\", name='azure.identity')",
         "pip install 'xtstore[azure-identity]'"),
        ("raise ImportError(\"No module named 'fsspec'\")",
         "needs fsspec, which is not installed: pip install 'xtstore[fsspec]'"),
        ("import quux_not_installed_lib",
         "needs the Python package 'quux_not_installed_lib', which is not installed"),
    ],
)
def test_missing_sdk_says_what_to_install(cwd: Path, import_line: str, install: str) -> None:
    write(cwd / "ext" / "needs_sdk.py", f"{import_line}\n\nclass Store:\n    pass\n")
    config = {"external-services": {"cloud": {"provider": "ext.needs_sdk.Store"}}}
    with pytest.raises(ProviderLoadError) as raised:
        xtstore.get_storage("cloud", config)
    assert install in str(raised.value)
    assert str(raised.value).startswith("<dict>: external-services.cloud.provider: ")


def test_missing_sdk_of_a_builtin_provider_names_the_service(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate an install without boto3: importing it fails as if it were absent.
    monkeypatch.setitem(sys.modules, "boto3", None)
    for name in [m for m in sys.modules if m.startswith("xtstore.providers.s3")]:
        monkeypatch.delitem(sys.modules, name)
    write(
        cwd / "xt_config.yaml", "external-services:\n    s3: {type: storage, provider: store-s3}\n"
    )
    with pytest.raises(ProviderLoadError) as raised:
        xtstore.get_storage("s3")
    message = str(raised.value)
    assert message.startswith("xt_config.yaml: external-services.s3.provider: "), message
    assert "pip install 'xtstore[s3]'" in message


def test_constructor_errors_are_config_errors(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cwd / "extensions" / "dir_store.py", DIR_STORE)
    monkeypatch.setenv("EXPECTED_TOKEN", "good")
    with pytest.raises(ConfigError) as missing:
        xtstore.get_storage(
            "d",
            {"external-services": {"d": {"provider": "extensions.dir_store.DirStore",
                                         "token": "good"}}},
        )
    assert str(missing.value) == (
        "<dict>: external-services.d.path: provider 'extensions.dir_store.DirStore' needs the"
        " key 'path'"
    )
    with pytest.raises(ConfigError, match="rejected the settings: ValueError: wrong token"):
        xtstore.get_storage(
            "d",
            {"external-services": {"d": {"provider": "extensions.dir_store.DirStore",
                                         "path": str(cwd), "token": "bad"}}},
        )


# ---- moving a store to another process ----


def _use_in_child(payload: bytes, forget_dir: str | None) -> tuple[str, str, str]:
    """Runs in a spawned process: rebuild the store from its pickle, write and read a blob."""
    if forget_dir is not None:
        # Prove the child finds the provider through the origin, not through inherited state.
        os.chdir("/")
        sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != forget_dir]
    store = pickle.loads(payload)
    store.create_blob("runs", "from-child.txt", "written by the worker")
    return store.service_name, type(store.provider).__name__, store.get_blob_text("runs", "a.txt")


def _in_worker(payload: bytes, forget_dir: str | None = None) -> tuple[str, str, str]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: tuple[str, str, str] = pool.apply_async(
            _use_in_child, (payload, forget_dir)
        ).get(timeout=120)
    return result


@pytest.mark.timeout(180)
def test_pickled_store_file_store_works_in_a_spawned_process(
    cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xtstore.providers.file", reason="store-file is not written yet")
    root = tmp_path / "data"
    monkeypatch.setenv("XT_TEST_ROOT", str(root))
    write(
        cwd / "xt_config.yaml",
        "external-services:\n"
        "    files: {type: storage, provider: store-file, path: '${XT_TEST_ROOT}/blobs',"
        " retry: {attempts: 2}}\n"
        "xt-services: {storage: files}\n",
    )
    store = xtstore.get_storage()
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "written by the parent")
    payload = pickle.dumps(store)
    assert str(root).encode() not in payload  # ${ENV} is resolved again in the worker

    assert _in_worker(payload) == ("files", "FileProvider", "written by the parent")
    assert store.get_blob_text("runs", "from-child.txt") == "written by the worker"
    assert pickle.loads(payload).retry_policy.attempts == 2


@pytest.mark.timeout(180)
def test_pickled_store_from_a_working_directory_extension_resolves_secrets_in_the_worker(
    cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cwd / "extensions" / "dir_store.py", DIR_STORE)
    root = tmp_path / "data"
    (root / "runs").mkdir(parents=True)
    (root / "runs" / "a.txt").write_text("written by the parent")
    monkeypatch.setenv("EXPECTED_TOKEN", SECRET)
    monkeypatch.setenv("XTSTORE_SECRET_DIRS_TOKEN", SECRET)
    config = {
        "providers": {"storage": {"store-dir": "extensions.dir_store.DirStore"}},
        "external-services": {
            "dirs": {"type": "storage", "provider": "store-dir", "path": str(root),
                     "token": "$vault"}
        },
    }
    store = xtstore.get_storage("dirs", config)
    payload = pickle.dumps(store)
    assert SECRET.encode() not in payload

    assert _in_worker(payload, forget_dir=str(cwd)) == (
        "dirs", "ForeignProvider", "written by the parent"
    )
    assert (root / "runs" / "from-child.txt").read_text() == "written by the worker"


def test_a_store_memory_store_refuses_to_be_pickled(cwd: Path) -> None:
    store = xtstore.get_storage("m", {"external-services": {"m": {"provider": "store-memory"}}})
    with pytest.raises(xtstore.Unsupported):
        pickle.dumps(store)
