"""``store-memory``: an in-process store for tests and examples.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.memory.description`) costs nothing more.
"""

from __future__ import annotations

from xtstore.providers import lazy_exports

__all__ = ["MemoryProvider", "MemoryStore"]

__getattr__ = lazy_exports(__name__, "store", __all__)
