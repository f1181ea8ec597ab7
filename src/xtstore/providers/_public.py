"""A built-in provider's public class, made by the core.

A built-in provider's public class (``FileStore``, ...) is what XT builds bare from a code
path: a :class:`~xtstore.store.Store` around the provider's implementation. The core makes it
(:func:`xtstore.store.provider_store_class`); this is the one module under ``providers/`` that
reaches the core, so that no provider's own code does (tests/test_layering.py allows exactly
this module).
"""

from __future__ import annotations

from xtstore.store import provider_store_class

__all__ = ["provider_store_class"]
