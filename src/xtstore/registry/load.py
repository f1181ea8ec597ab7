"""From a provider's name or code path to its class or description.

A name is looked up in the config's ``providers.storage`` (which wins), then among the built-in
names and aliases (:mod:`xtstore.catalog`), then the entry points; a code path
``pkg.module.Class`` is imported from the Python path, or from a subdirectory of the working
directory (XT's ``extensions/``). Every :class:`~xtstore.errors.ProviderLoadError` names the
config file and key path that led to the provider.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from types import ModuleType
from typing import NamedTuple

from xtstore.catalog import (
    BUILTIN_DESCRIPTIONS,
    builtin_description,
    builtin_descriptions,
    builtin_providers,
    entry_point_providers,
    is_code_path,
)
from xtstore.config import Config, ConfigSource, as_config
from xtstore.describe import ProviderDescription
from xtstore.errors import ProviderLoadError
from xtstore.interface import StoreInterface, unimplemented_methods

__all__ = [
    "ProviderRef",
    "check_provider_class",
    "import_provider_class",
    "import_ref",
    "known_providers",
    "load_description",
    "load_provider_class",
    "provider_description",
    "resolve_provider",
]


def known_providers(config: ConfigSource = None) -> dict[str, str]:
    """Every provider name → code path: built-ins, entry points, and ``providers.storage``
    (which wins over both), sorted by name."""
    found = {**entry_point_providers(), **builtin_providers(), **as_config(config).provider_paths()}
    return dict(sorted(found.items()))


def provider_description(name_or_path: str, config: ConfigSource = None) -> ProviderDescription:
    """The description of a provider name or code path (``xtstore providers --keys``).
    Raises :class:`ProviderLoadError` for an unknown name, and for a provider that declares
    no description (a code path of a class)."""
    ref = resolve_provider(name_or_path, as_config(config))
    try:
        found = load_description(ref.code_path)
    except ProviderLoadError as error:
        error.file, error.key_path = error.file or ref.file, error.key_path or ref.key_path
        raise
    if found is None:
        raise ProviderLoadError(
            f"provider {name_or_path!r} ({ref.code_path}) declares no description of its keys;"
            " register its ProviderDescription instead of its class (see"
            " docs/writing-a-provider.md)"
        )
    return found


class ProviderRef(NamedTuple):
    """Where a provider name leads: its code path and the config entry that said so."""

    code_path: str
    file: str | None = None
    key_path: str | None = None


def resolve_provider(name_or_path: str, config: Config) -> ProviderRef:
    """The code path for a provider name or code path. Raises :class:`ProviderLoadError` for
    a name that is neither known nor a code path."""
    key_path = ("providers", "storage", name_or_path)
    try:
        configured = config.provider_path(name_or_path)
    except KeyError:
        pass
    else:
        return ProviderRef(configured, config.file_for(key_path), ".".join(key_path))
    main = builtin_description(name_or_path) if name_or_path in BUILTIN_DESCRIPTIONS else None
    if main is not None:  # a built-in's main name: only its own description is read
        return ProviderRef(main.code_path)
    builtin = builtin_providers()
    if name_or_path in builtin:
        return ProviderRef(builtin[name_or_path])
    entry_points = entry_point_providers()
    if name_or_path in entry_points:
        return ProviderRef(entry_points[name_or_path])
    if is_code_path(name_or_path):
        return ProviderRef(name_or_path)
    known = ", ".join(known_providers(config))
    raise ProviderLoadError(
        f"{name_or_path!r} is not a known storage provider (known: {known});"
        " add it under providers.storage or give a code path package.module.Class"
    )


def load_provider_class(name_or_path: str, config: ConfigSource = None) -> type:
    """Import the provider class for a provider name or code path and check its structure.

    Raises :class:`ProviderLoadError` (with the file and key path of the config entry) when
    the name is unknown, the code path cannot be imported, the attribute is not a class, the
    class lacks interface methods, or an optional SDK is missing.
    """
    loaded = as_config(config)
    ref = resolve_provider(name_or_path, loaded)
    return import_ref(ref)[0]


def import_ref(ref: ProviderRef, search_dir: str | None = None) -> tuple[type, str | None]:
    """:func:`import_provider_class` for ``ref``, its errors naming the config entry."""
    try:
        return import_provider_class(ref.code_path, search_dir)
    except ProviderLoadError as error:
        if error.file is None:
            error.file = ref.file
        if error.key_path is None:
            error.key_path = ref.key_path
        raise


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
        abstract = unimplemented_methods(cls)
        if abstract:
            raise ProviderLoadError(
                f"{code_path!r} does not implement StoreInterface: missing "
                + ", ".join(abstract)
            )
        return
    from xtstore.adapter import missing_methods  # a foreign (XT-style) class: the adapter's check

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
    if not (os.path.isdir(os.path.join(directory, top))
            or os.path.isfile(os.path.join(directory, f"{top}.py"))):
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
