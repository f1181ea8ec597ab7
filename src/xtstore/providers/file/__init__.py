"""``store-file``: a folder on a local or shared file system as a store.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.file.description`) costs nothing more.
"""

from __future__ import annotations

from xtstore.providers import lazy_exports

__all__ = ["FileProvider", "FileStore"]

__getattr__ = lazy_exports(__name__, "store", __all__)
