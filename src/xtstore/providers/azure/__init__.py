"""``azure-blob``: Azure Blob Storage (or Azurite) through azure-storage-blob.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.azure.description`) never imports the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xtstore.providers.azure.store import AzureBlobProvider, AzureBlobStore

__all__ = ["AzureBlobProvider", "AzureBlobStore"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from xtstore.providers.azure import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
