"""The catalog of providers: which are built in, and their descriptions by name, alias or code
path, without importing any provider's code or SDK.

Each built-in provider is one line of :data:`BUILTIN_DESCRIPTIONS` (its name and the module of
its :class:`~xtstore.describe.ProviderDescription`). Installed packages add providers under the
``xtstore.storage_providers`` entry points. Config validation and secret redaction
(:mod:`xtstore.config`) and loading a provider's class (:mod:`xtstore.registry`) read it.
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xtstore.describe import ProviderDescription

__all__ = [
    "BUILTIN_DESCRIPTIONS",
    "BUILTIN_PROVIDERS",  # noqa: F822 (module __getattr__, from the descriptions)
    "ENTRY_POINT_GROUP",
    "builtin_description",
    "builtin_descriptions",
    "builtin_providers",
    "entry_point_providers",
    "is_code_path",
]

BUILTIN_DESCRIPTIONS: dict[str, str] = {
    "store-file": "xtstore.providers.file.description",
    "store-memory": "xtstore.providers.memory.description",
    "azure-blob": "xtstore.providers.azure.description",
    "store-s3": "xtstore.providers.s3.description",
    "store-fsspec": "xtstore.providers.fsspec_store.description",
    "store-gcs": "xtstore.providers.gcs.description",
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
    plain = name_or_code_path.replace(":", ".")
    own = _own_description(plain)
    if own is not None:
        return own
    descriptions = builtin_descriptions()
    if name_or_code_path in descriptions:
        return descriptions[name_or_code_path]
    return next(
        (found for found in descriptions.values()
         if plain == found.code_path or plain in found.former_code_paths),
        None,
    )


def _own_description(code_path: str) -> ProviderDescription | None:
    """The description of the built-in provider whose package holds ``code_path`` when that is
    its current class, read alone: opening a store-file service reads no other provider's."""
    for module_name in BUILTIN_DESCRIPTIONS.values():
        if code_path.startswith(module_name.rpartition(".")[0] + "."):
            found: ProviderDescription = importlib.import_module(module_name).DESCRIPTION
            return found if code_path == found.code_path else None
    return None


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
