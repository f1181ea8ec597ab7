"""Finding provider classes: built-in names, entry points, and code paths ``pkg.module.Class``.

Nothing here knows about config files; :mod:`xtstore.registry` adds the file and key path to
the :class:`~xtstore.errors.ProviderLoadError` raised here.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from xtstore.adapter import missing_methods
from xtstore.errors import ProviderLoadError
from xtstore.interface import StoreInterface

if TYPE_CHECKING:
    from xtstore.describe import ProviderDescription

__all__ = [
    "BUILTIN_DESCRIPTIONS",
    "BUILTIN_PROVIDERS",  # noqa: F822 (module __getattr__, from the descriptions)
    "ENTRY_POINT_GROUP",
    "builtin_description",
    "builtin_descriptions",
    "builtin_providers",
    "check_provider_class",
    "entry_point_providers",
    "import_provider_class",
    "is_code_path",
    "load_description",
]

BUILTIN_DESCRIPTIONS: dict[str, str] = {
    "store-file": "xtstore.providers.file.description",
    "store-memory": "xtstore.providers.memory.description",
    "azure-blob": "xtstore.providers.azure.description",
    "store-s3": "xtstore.providers.s3.description",
    "store-fsspec": "xtstore.providers.fsspec_store.description",
}
"""The built-in providers: each name and the module whose ``DESCRIPTION`` describes it
(imported on first use; never an SDK)."""

ENTRY_POINT_GROUP = "xtstore.storage_providers"


@functools.cache
def builtin_descriptions() -> dict[str, ProviderDescription]:
    """Every built-in provider name and alias → its description."""
    found: dict[str, ProviderDescription] = {}
    for module_name in BUILTIN_DESCRIPTIONS.values():
        description = importlib.import_module(module_name).DESCRIPTION
        for name in description.names:
            found[name] = description
    return found


def builtin_providers() -> dict[str, str]:
    """Every built-in provider name and alias → the code path of its class."""
    return {name: found.code_path for name, found in builtin_descriptions().items()}


def builtin_description(name_or_code_path: str) -> ProviderDescription | None:
    """The description of a built-in provider, by name, alias or code path (current or
    former); None for any other provider."""
    module_name = BUILTIN_DESCRIPTIONS.get(name_or_code_path)
    if module_name is not None:  # a main name: read only its own description
        found: ProviderDescription = importlib.import_module(module_name).DESCRIPTION
        return found
    descriptions = builtin_descriptions()
    if name_or_code_path in descriptions:
        return descriptions[name_or_code_path]
    plain = name_or_code_path.replace(":", ".")
    return next(
        (found for found in descriptions.values()
         if plain == found.code_path or plain in found.former_code_paths),
        None,
    )


def __getattr__(name: str) -> object:
    # The table of class code paths comes from the descriptions, read only when asked for.
    if name == "BUILTIN_PROVIDERS":
        return builtin_providers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_CODE_PATH = re.compile(rf"{_IDENTIFIER}(\.{_IDENTIFIER})*[.:]{_IDENTIFIER}")


def is_code_path(text: object) -> bool:
    """True for ``pkg.module.Class`` (or the entry-point form ``pkg.module:Class``)."""
    return isinstance(text, str) and _CODE_PATH.fullmatch(text) is not None


def entry_point_providers() -> dict[str, str]:
    """Providers that installed packages register under ``xtstore.storage_providers``."""
    import importlib.metadata  # only here: it costs ~10 ms of start-up, and most runs never ask

    found: dict[str, str] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, f"{entry.module}:{entry.attr}")
    return found


def import_provider_class(
    code_path: str, search_dir: str | None = None
) -> tuple[type, str | None]:
    """Import the class at ``code_path`` (or the class of the provider description there)
    and check that it is a storage provider.

    The module is imported from the Python path, or else from ``search_dir`` (default: the
    working directory) when its top-level package is a direct subdirectory there (XT's
    ``extensions/my_cloud_storage.py``). Returns the class and the directory it had to add to
    ``sys.path`` (None if none), so that another process can do the same.

    Raises :class:`ProviderLoadError` for a malformed path, a missing module or attribute, an
    attribute that is not a class, a class missing interface methods, or a missing optional
    SDK (naming the ``pip install 'xtstore[...]'`` that brings it).
    """
    if not is_code_path(code_path):
        raise ProviderLoadError(
            f"{code_path!r} is not a code path of the form package.module.Class"
        )
    module_name, _, attribute = code_path.replace(":", ".").rpartition(".")
    module, added = _import_module(module_name, code_path, search_dir)
    try:
        cls = getattr(module, attribute)
    except AttributeError:
        raise ProviderLoadError(
            f"cannot load {code_path!r}: module {module_name!r} has no attribute {attribute!r}"
        ) from None
    from xtstore.describe import ProviderDescription  # only now: import xtstore stays light

    if isinstance(cls, ProviderDescription):
        # A description registered in place of its class (providers.storage, entry point).
        provider_cls, also_added = import_provider_class(cls.code_path, search_dir)
        return provider_cls, added or also_added
    if not inspect.isclass(cls):
        raise ProviderLoadError(
            f"cannot load {code_path!r}: it is a {type(cls).__name__}, not a class"
        )
    check_provider_class(cls, code_path)
    return cls, added


def load_description(
    code_path: str, search_dir: str | None = None
) -> ProviderDescription | None:
    """The description a provider's code path leads to: a built-in provider's, or the
    :class:`~xtstore.describe.ProviderDescription` a user's code path names (registered in
    place of its class); None for a code path that names a class. Raises
    :class:`ProviderLoadError` like :func:`import_provider_class`."""
    from xtstore.describe import ProviderDescription

    builtin = builtin_description(code_path)
    if builtin is not None or not is_code_path(code_path):
        return builtin
    module_name, _, attribute = code_path.replace(":", ".").rpartition(".")
    module, _ = _import_module(module_name, code_path, search_dir)
    found = getattr(module, attribute, None)
    return found if isinstance(found, ProviderDescription) else None


def check_provider_class(cls: type, code_path: str) -> None:
    """Accept a ``StoreInterface`` subclass, or any class with every XT interface method.
    Raises :class:`ProviderLoadError` naming what is missing."""
    if issubclass(cls, StoreInterface):
        abstract = missing_methods(cls)
        if abstract:
            raise ProviderLoadError(
                f"{code_path!r} does not implement StoreInterface: missing "
                + ", ".join(abstract)
            )
        return
    missing = missing_methods(cls)
    if missing:
        raise ProviderLoadError(
            f"{code_path!r} is not a storage provider: it lacks "
            + ", ".join(missing)
            + " (subclass xtstore.StoreInterface, or implement every method of XT's"
            " StoreInterface)"
        )


def _import_module(
    module_name: str, code_path: str, search_dir: str | None
) -> tuple[ModuleType, str | None]:
    try:
        return _import(module_name, code_path), None
    except ModuleNotFoundError as error:
        if not _is_the_module(error, module_name):
            raise _dependency_error(error, code_path) from error
    top = module_name.split(".")[0]
    if getattr(sys.modules.get(top), "__file__", None) is not None:
        # A regular package already imported: a folder in the working directory cannot add to it.
        raise ProviderLoadError(f"cannot load {code_path!r}: there is no module {module_name!r}")
    directory = os.path.abspath(search_dir or os.getcwd())
    root = Path(directory)
    if not ((root / top).is_dir() or (root / f"{top}.py").is_file()):
        raise ProviderLoadError(
            f"cannot import {module_name!r} for {code_path!r}: it is not on the Python path,"
            f" and {directory} has no {top}/ folder"
        )
    if directory not in sys.path:
        # Kept for the life of the process: the provider may import more of its package later.
        sys.path.append(directory)
        importlib.invalidate_caches()
    try:
        return _import(module_name, code_path), directory
    except ModuleNotFoundError as error:
        if _is_the_module(error, module_name):
            raise ProviderLoadError(
                f"cannot import {module_name!r} for {code_path!r}: no such module on the"
                f" Python path or in {directory}"
            ) from None
        raise _dependency_error(error, code_path) from error


def _import(module_name: str, code_path: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError:
        raise
    except ImportError as error:
        raise _dependency_error(error, code_path) from error
    except Exception as error:
        raise ProviderLoadError(
            f"importing {module_name!r} for {code_path!r} failed:"
            f" {type(error).__name__}: {error}"
        ) from error


def _is_the_module(error: ModuleNotFoundError, module_name: str) -> bool:
    """True when the module itself (or a parent package) is missing, not one it imports."""
    missing = error.name
    return missing is not None and (
        module_name == missing or module_name.startswith(missing + ".")
    )


def _dependency_error(error: ImportError, code_path: str) -> ProviderLoadError:
    missing = error.name or _name_in_message(str(error))
    if missing:
        for description in _descriptions_first(code_path):
            hint = description.install_hint(missing)
            if hint is not None:
                return ProviderLoadError(f"provider {code_path!r} {hint}",
                                         hint="install it, then try again")
        return ProviderLoadError(
            f"provider {code_path!r} needs the Python package {missing.split('.')[0]!r},"
            f" which is not installed ({error})"
        )
    return ProviderLoadError(f"importing provider {code_path!r} failed: {error}")


def _descriptions_first(code_path: str) -> list[ProviderDescription]:
    """The built-in descriptions, the one of ``code_path`` first: its SDK names the hint."""
    own = builtin_description(code_path)
    others = [found for name, found in builtin_descriptions().items()
              if name == found.name and found is not own]
    return [own, *others] if own is not None else others


def _name_in_message(message: str) -> str | None:
    found = re.search(r"No module named '([^']+)'", message)
    return found.group(1) if found else None
