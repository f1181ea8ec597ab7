"""``azure-blob``: Azure Blob Storage (or Azurite) through azure-storage-blob.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.azure.description`) never imports the SDK.
"""

from __future__ import annotations

from xtstore.providers import lazy_exports

__all__ = ["AzureBlobProvider", "AzureBlobStore"]

__getattr__ = lazy_exports(__name__, "store", __all__)
