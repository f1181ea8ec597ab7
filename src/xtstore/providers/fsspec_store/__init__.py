"""``store-fsspec``: any fsspec filesystem URL as a store.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.fsspec_store.description`) never imports the SDK.
"""

from __future__ import annotations

from xtstore.providers import lazy_exports

__all__ = ["FsspecProvider", "FsspecStore"]

__getattr__ = lazy_exports(__name__, "store", __all__)
