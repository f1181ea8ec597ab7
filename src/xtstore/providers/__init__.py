"""The built-in providers, one package (or module) each, with its description.

Each package names its classes with :func:`lazy_exports`, so that reading its description
imports nothing more.

Two documented code paths moved: ``xtstore.providers.azure_blob`` is now
:mod:`xtstore.providers.azure.store` and ``xtstore.providers.fsspec`` (which shadowed the
``fsspec`` package) is :mod:`xtstore.providers.fsspec_store.store`. Configs and code that name the
old paths keep working: importing one gives the module at its new place.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["lazy_exports"]

_MOVED_MODULES = {
    "xtstore.providers.azure_blob": "xtstore.providers.azure.store",
    "xtstore.providers.fsspec": "xtstore.providers.fsspec_store.store",
}


# A loader and a finder by their methods, not importlib.abc's base classes: importing
# importlib.abc loads importlib.resources and pathlib, some 4 ms of every command's start-up.
class _MovedModuleLoader:
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The module ran at its new place already."""


class _MovedModuleFinder:
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        moved_to = _MOVED_MODULES.get(fullname)
        if moved_to is None:
            return None
        # typeshed's loader protocol names the legacy load_module; the import system calls
        # create_module and exec_module.
        loader: Any = _MovedModuleLoader(moved_to)
        return importlib.util.spec_from_loader(fullname, loader)


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())


def lazy_exports(package: str, module: str, names: Sequence[str]) -> Callable[[str], Any]:
    """A provider package's module ``__getattr__``: each of ``names`` comes from
    ``package.module``, imported on first use, so that reading the package's description
    imports no more of it (and never its SDK)."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(f"{package}.{module}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
