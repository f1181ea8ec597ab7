"""``store-fsspec``: any fsspec filesystem URL as a store.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.fsspec_store.description`) never imports the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xtstore.providers.fsspec_store.store import FsspecProvider, FsspecStore

__all__ = ["FsspecProvider", "FsspecStore"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from xtstore.providers.fsspec_store import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
