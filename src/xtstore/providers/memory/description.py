"""``store-memory`` as it describes itself (no import of the provider's code)."""

from __future__ import annotations

from xtstore.describe import ProviderDescription

DESCRIPTION = ProviderDescription(
    name="store-memory",
    code_path="xtstore.providers.memory.store.MemoryStore",
    former_code_paths=("xtstore.providers.memory.MemoryStore",),
    docs_page="memory.md",
    summary="An in-process store for tests and examples; gone when the process ends.",
    keys=(),
    notes=("Every capability native; not shared between processes.",),
)
