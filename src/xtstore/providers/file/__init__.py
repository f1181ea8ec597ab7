"""``store-file``: a folder on a local or shared file system as a store.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.file.description`) costs nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xtstore.providers.file.store import FileProvider, FileStore

__all__ = ["FileProvider", "FileStore"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from xtstore.providers.file import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
