"""Configuration in XT's format: YAML layers merged key by key, checked against the providers'
descriptions, and a service's ``${NAME}`` and ``"$vault"`` resolved when it is opened.

- :mod:`~xtstore.config.merge`: :class:`Config` and :func:`load_config`, the layers merged
  with each key's source
- :mod:`~xtstore.config.files`: reading one YAML layer (line numbers, duplicate keys), with
  :mod:`~xtstore.config.bounded_yaml` parsing it within bounds (PyYAML loads only then)
- :mod:`~xtstore.config.validate`: every mistake with file and key path
- :mod:`~xtstore.config.references`: ``${NAME}`` and ``"$vault"``
- :mod:`~xtstore.config.resolve`: resolving them when a service is opened, and its retry section
- :mod:`~xtstore.config.redact`: which keys hold secrets, and the config as it may be shown
- :mod:`~xtstore.config.environment`: ``XTSTORE_CONFIG``, ``XTSTORE_SERVICE`` and XT's variables
"""

from __future__ import annotations

from xtstore.config.merge import (
    BUILTIN_SOURCE,
    DEFAULTS,
    Config,
    ConfigSource,
    as_config,
    load_config,
)
from xtstore.config.redact import is_secret_key, redact
from xtstore.config.references import ENV_REFERENCE, SECRET_MARKER, expand_environment

__all__ = [
    "BUILTIN_SOURCE",
    "DEFAULTS",
    "ENV_REFERENCE",
    "SECRET_MARKER",
    "Config",
    "ConfigSource",
    "as_config",
    "expand_environment",
    "is_secret_key",
    "load_config",
    "redact",
]
