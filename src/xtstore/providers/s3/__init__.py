"""``store-s3``: Amazon S3 and S3-compatible stores (MinIO, moto, ...) through boto3.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.s3.description`) never imports the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xtstore.providers.s3.store import S3Provider, S3Store

__all__ = ["S3Provider", "S3Store"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from xtstore.providers.s3 import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
