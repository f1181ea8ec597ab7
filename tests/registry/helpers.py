"""What the registry tests share: XT-style providers (complete, incomplete, and one written
into a folder of the working directory) and a file writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xtstore.interface import XT_METHODS
from xtstore.providers.memory.store import MemoryProvider

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
