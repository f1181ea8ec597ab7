"""XT's documented way of adding a storage provider works as written on XT's page: a class in
``extensions/my_cloud_storage.py`` of the working directory, named in ``xt_config.yaml``
under ``providers.storage``, made the default with ``xt-services.storage``.

Variants: the shipped example (written with the ``interface`` package), a plain class with
no base class, the same class declared with ``implements(...)``, and a StoreInterface
subclass. Each is loaded by ``xtstore.get_storage()`` with no argument and used."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import xtstore
from xtstore.adapter import ForeignProvider

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "xt_provider"

# The YAML section from XT's page, character for character.
XT_PAGE_YAML = """\
external-services:
    # storage services
    mycloudstorage: {type: "storage", provider: "store-mycloud", account: "https://johnsmith@mycoudstorage.com/myservice"}

xt-services:
    storage: "mycloudstorage"        # storage for all XT services 
    
providers:
    storage: {
        "store-mycloud": "extensions.my_cloud_storage.MyCloudStorage" 
    }
"""  # noqa: W291, W293

# A small dict-backed store with XT's method names and XT's constructor, no base class.
PLAIN_CLASS = '''
class MyCloudStorage{bases}:
    def __init__(self, storage_creds_dict):
        """ the constructor must accept a provider-specific storage_creds_dict argument """
        self.storage_creds_dict = storage_creds_dict
        self.retry = 0
        self.containers = {{}}

    def get_retry(self):
        return self.retry

    def set_retry(self, value):
        self.retry = value

    def does_container_exist(self, container):
        return container in self.containers

    def create_container(self, container):
        self.containers[container] = {{}}

    def list_containers(self):
        return sorted(self.containers)

    def delete_container(self, container):
        del self.containers[container]

    def get_container_properties(self, container):
        return {{"name": container}}

    def get_container_metadata(self, container):
        return {{}}

    def does_blob_exist(self, container, blob_path):
        return blob_path in self.containers[container]

    def create_blob(self, container, blob_path, text, fail_if_exists=False):
        data = text.encode() if isinstance(text, str) else bytes(text)
        self.containers[container][blob_path] = data

    def create_blob_from_path(self, container, blob_path, source_fn, progress_callback=None):
        with open(source_fn, "rb") as source:
            self.create_blob(container, blob_path, source.read())

    def append_blob(self, container, blob_path, text, append_with_rewrite=False):
        data = text.encode() if isinstance(text, str) else bytes(text)
        blobs = self.containers[container]
        blobs[blob_path] = blobs.get(blob_path, b"") + data

    def list_blobs(self, container, path=None, return_names=True, recursive=True):
        prefix = (path or "").rstrip("*")
        return sorted(name for name in self.containers[container] if name.startswith(prefix))

    def delete_blob(self, container, blob_path, snapshot=None):
        del self.containers[container][blob_path]

    def get_blob_text(self, container, blob_path):
        return self.containers[container][blob_path].decode()

    def get_blob_to_path(self, container, blob_path, dest_fn, snapshot=None,
                         progress_callback=None):
        with open(dest_fn, "wb") as out:
            out.write(self.containers[container][blob_path])

    def get_blob_properties(self, container, blob_path):
        return {{"size": len(self.containers[container][blob_path])}}

    def get_blob_metadata(self, container, blob_path):
        return {{}}

    def copy_blob(self, source_container, source_blob_path, dest_container, dest_blob_path):
        data = self.containers[source_container][source_blob_path]
        self.containers[dest_container][dest_blob_path] = data

    def snapshot_blob(self, container, blob_path):
        raise NotImplementedError("no snapshots in this example")
{extra}'''

PLAIN = PLAIN_CLASS.format(bases="", extra="")

# XT's interface definition from the page, then the class declared against it.
WITH_INTERFACE_PACKAGE = '''
from interface import implements, Interface


class StoreInterface(Interface):
    def get_retry(self): pass
    def set_retry(self, value): pass
    def does_container_exist(self, container): pass
    def create_container(self, container): pass
    def list_containers(self): pass
    def delete_container(self, container): pass
    def get_container_properties(self, container): pass
    def get_container_metadata(self, container): pass
    def does_blob_exist(self, container, blob_path): pass
    def create_blob(self, container, blob_path, text, fail_if_exists=False): pass
    def create_blob_from_path(self, container, blob_path, source_fn, progress_callback=None):
        pass
    def append_blob(self, container, blob_path, text, append_with_rewrite=False): pass
    def list_blobs(self, container, path=None, return_names=True, recursive=True): pass
    def delete_blob(self, container, blob_path, snapshot=None): pass
    def get_blob_text(self, container, blob_path): pass
    def get_blob_to_path(self, container, blob_path, dest_fn, snapshot=None,
                         progress_callback=None): pass
    def get_blob_properties(self, container, blob_path): pass
    def get_blob_metadata(self, container, blob_path): pass
    def copy_blob(self, source_container, source_blob_path, dest_container, dest_blob_path):
        pass
    def snapshot_blob(self, container, blob_path): pass

''' + PLAIN_CLASS.format(bases="(implements(StoreInterface))", extra="")

SUBCLASS = (
    "import xtstore\n"
    + PLAIN_CLASS.format(
        bases="(xtstore.StoreInterface)",
        extra='''
    def get_service_name(self):
        return self.storage_creds_dict["name"]

    def capabilities(self):
        return xtstore.Capabilities(shared_between_processes=False)
''',
    )
)


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory; the provider modules it held are forgotten after."""
    work = tmp_path / "app"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield work
    for name in [n for n in sys.modules if n == "extensions" or n.startswith("extensions.")]:
        del sys.modules[name]


def use(store: xtstore.Store) -> None:
    store.create_container("experiments")
    store.create_blob("experiments", "/run1/log.txt", "epoch 1\n")
    store.append_blob("experiments", "run1/log.txt", "epoch 2\n")
    assert store.get_blob_text("experiments", "run1/log.txt") == "epoch 1\nepoch 2\n"
    assert store.get_blob_bytes("experiments", "run1/log.txt") == b"epoch 1\nepoch 2\n"
    assert store.list_blobs("experiments") == ["run1/log.txt"]
    assert store.does_blob_exist("experiments", "run1/log.txt")


def test_the_shipped_example_works_verbatim(
    cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (EXAMPLE / "extensions" / "my_cloud_storage.py").is_file():
        pytest.skip("examples/xt_provider is not written yet")
    shutil.copytree(EXAMPLE, cwd, dirs_exist_ok=True)
    monkeypatch.setenv("MYCLOUD_ROOT", str(tmp_path / "cloud"))  # where the example keeps blobs
    source = (cwd / "extensions" / "my_cloud_storage.py").read_text(encoding="utf-8")
    assert "implements(" in source

    config = xtstore.load_config()
    assert config.default_storage_service == "mycloudstorage"
    assert config.provider_paths()["store-mycloud"] == "extensions.my_cloud_storage.MyCloudStorage"
    assert config.source_of("providers.storage.store-mycloud") == "xt_config.yaml"

    store = xtstore.get_storage()
    assert store.service_name == "mycloudstorage"
    assert isinstance(store.provider, ForeignProvider)
    assert type(store.provider.inner).__name__ == "MyCloudStorage"
    assert type(store.provider.inner).__module__ == "extensions.my_cloud_storage"
    store.create_container("experiments")
    store.create_blob("experiments", "run1/log.txt", "hello from XT's example\n")
    assert store.get_blob_text("experiments", "run1/log.txt") == "hello from XT's example\n"
    written = [path for path in (tmp_path / "cloud").rglob("log.txt") if path.is_file()]
    assert [path.read_text() for path in written] == ["hello from XT's example\n"]


@pytest.mark.parametrize(
    ("module_text", "adapted"),
    [(PLAIN, True), (WITH_INTERFACE_PACKAGE, True), (SUBCLASS, False)],
    ids=["plain-class", "interface-package", "storeinterface-subclass"],
)
def test_xt_page_yaml_with_an_extension_class(cwd: Path, module_text: str, adapted: bool) -> None:
    (cwd / "xt_config.yaml").write_text(XT_PAGE_YAML, encoding="utf-8")
    (cwd / "extensions").mkdir()  # no __init__.py, as on XT's page
    (cwd / "extensions" / "my_cloud_storage.py").write_text(module_text, encoding="utf-8")

    store = xtstore.get_storage()

    assert store.service_name == "mycloudstorage"
    provider = store.provider
    if adapted:
        assert isinstance(provider, ForeignProvider)
        provider = provider.inner
    assert type(provider).__name__ == "MyCloudStorage"
    # The constructor got the service's dict, with `name` added.
    assert provider.storage_creds_dict == {  # type: ignore[attr-defined]
        "type": "storage",
        "provider": "store-mycloud",
        "account": "https://johnsmith@mycoudstorage.com/myservice",
        "name": "mycloudstorage",
    }
    use(store)


def test_the_page_yaml_names_the_file_when_the_extension_is_missing(cwd: Path) -> None:
    (cwd / "xt_config.yaml").write_text(XT_PAGE_YAML, encoding="utf-8")
    with pytest.raises(xtstore.ProviderLoadError) as raised:
        xtstore.get_storage()
    assert str(raised.value).startswith(
        "xt_config.yaml: providers.storage.store-mycloud: cannot import"
        " 'extensions.my_cloud_storage'"
    )
    assert "has no extensions/ folder" in str(raised.value)
