"""``store-s3``: Amazon S3 and S3-compatible stores (MinIO, moto, ...) through boto3.

The classes are imported on first use, so that reading the provider's description
(:mod:`xtstore.providers.s3.description`) never imports the SDK.
"""

from __future__ import annotations

from xtstore.providers import lazy_exports

__all__ = ["S3Provider", "S3Store"]

__getattr__ = lazy_exports(__name__, "store", __all__)
