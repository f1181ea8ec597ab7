"""The adapter for foreign (XT-style) providers: classes with XT's methods and no
``StoreInterface`` base. :class:`ForeignProvider` wraps one; :mod:`.convert` turns its results
into the library's value types and :mod:`.translate` its exceptions into typed errors."""

from xtstore.adapter.provider import (
    ADDITION_METHODS,
    ForeignProvider,
    missing_methods,
    never_retry,
)

__all__ = ["ADDITION_METHODS", "ForeignProvider", "missing_methods", "never_retry"]
