"""From a provider name or code path to its class: built-in names, code paths from sys.path and
from a subdirectory of the working directory, entry points, the structural check and
missing-SDK messages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import xtstore
from tests.registry.helpers import PlainStore, write
from xtstore.adapter import ForeignProvider
from xtstore.config import Config
from xtstore.errors import ProviderLoadError
from xtstore.providers.memory.store import MemoryProvider
from xtstore.registry import (
    BUILTIN_PROVIDERS,
    ENTRY_POINT_GROUP,
    known_providers,
    load_provider_class,
)


def test_builtin_names_map_to_lazy_code_paths(cwd: Path) -> None:
    assert BUILTIN_PROVIDERS == {
        "store-file": "xtstore.providers.file.store.FileStore",
        "store-memory": "xtstore.providers.memory.store.MemoryStore",
        "azure-blob": "xtstore.providers.azure.store.AzureBlobStore",
        "azure-blob-21": "xtstore.providers.azure.store.AzureBlobStore",
        "azure-blob-210": "xtstore.providers.azure.store.AzureBlobStore",
        "store-s3": "xtstore.providers.s3.store.S3Store",
        "store-fsspec": "xtstore.providers.fsspec_store.store.FsspecStore",
        "store-gcs": "xtstore.providers.gcs.store.GCSStore",
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
        " 'fsspec', 'google')) and not m.endswith('.description') and m + '.description' not in"
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
        {"providers": {"storage": {"store-file": "tests.registry.helpers.PlainStore"}}}
    )
    assert known_providers(config)["store-file"] == "tests.registry.helpers.PlainStore"
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
    assert load_provider_class("tests.registry.helpers.PlainStore", {}) is PlainStore
    store = xtstore.get_storage(
        "plain",
        {"external-services": {"plain": {"provider": "tests.registry.helpers.PlainStore"}}},
    )
    assert isinstance(store.provider, ForeignProvider)
    store.create_container("runs")
    store.create_blob("runs", "x.txt", b"bytes")
    assert store.get_blob_text("runs", "x.txt") == "bytes"
    assert store.provider.inner.config["name"] == "plain"


def test_a_class_missing_methods_is_refused_naming_them(cwd: Path) -> None:
    with pytest.raises(ProviderLoadError) as raised:
        load_provider_class("tests.registry.helpers.HalfStore", {})
    message = str(raised.value)
    assert "'tests.registry.helpers.HalfStore' is not a storage provider: it lacks set_retry," in (
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
