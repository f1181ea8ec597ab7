"""``store-memory``: an in-process store for tests and examples.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.memory.description`) costs nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xtstore.providers.memory.store import MemoryProvider, MemoryStore

__all__ = ["MemoryProvider", "MemoryStore"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from xtstore.providers.memory import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
