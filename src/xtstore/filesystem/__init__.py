"""``xtstore://``: every configured xtstore service as an fsspec filesystem (docs/fsspec.md).

Registered with fsspec through the ``fsspec.specs`` entry point, so ``fsspec.open``,
``pandas.read_csv``, ``pandas.read_parquet`` and the like take ``xtstore://`` URLs once
xtstore is installed. Needs fsspec (the ``fsspec`` extra); ``import xtstore`` alone never
imports it. Sits above the Store (no provider imports it).
"""

from __future__ import annotations

from xtstore.filesystem.core import XtstoreFileSystem
from xtstore.filesystem.paths import PROTOCOL, Address, parse, strip_protocol

__all__ = ["PROTOCOL", "Address", "XtstoreFileSystem", "parse", "strip_protocol"]
