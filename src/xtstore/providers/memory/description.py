"""``store-memory`` as it describes itself (no import of the provider's code)."""

from __future__ import annotations

from xtstore.describe import ProviderDescription
from xtstore.values import Capabilities, Support

DESCRIPTION = ProviderDescription(
    name="store-memory",
    code_path="xtstore.providers.memory.store.MemoryStore",
    former_code_paths=("xtstore.providers.memory.MemoryStore",),
    docs_page="memory.md",
    summary="An in-process store for tests and examples; gone when the process ends.",
    capabilities=Capabilities(append=Support.NATIVE, snapshots=Support.NATIVE,
                              conditional_writes=Support.NATIVE, server_side_copy=Support.NATIVE,
                              metadata=Support.NATIVE, shared_between_processes=False,
                              local=True, content_types=True,
                              create_metadata=True, listing_metadata=True,
                              download_properties=True),
    keys=(),
    notes=("Every capability native; not shared between processes.",),
)
