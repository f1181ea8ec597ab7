"""``store-gcs``: Google Cloud Storage (or fake-gcs-server) through google-cloud-storage.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.gcs.description`) never imports the SDK.
"""

from __future__ import annotations

from xtstore.providers import lazy_exports

__all__ = ["GCSProvider", "GCSStore"]

__getattr__ = lazy_exports(__name__, "store", __all__)
