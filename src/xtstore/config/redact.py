"""Which keys hold secrets, and the config as it may be shown: every secret replaced by ``***``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xtstore.catalog import builtin_description
from xtstore.config.references import SECRET_MARKER, has_reference
from xtstore.secrets import REDACTED, named_like_secret

__all__ = ["REDACTED", "inline_secrets", "is_secret_key", "redact"]

KeyPath = tuple[str, ...]


def is_secret_key(key: object, provider: object = None) -> bool:
    """True for keys whose values are secrets: they are redacted wherever config is shown.

    A key of a built-in provider's service (``provider`` names it) is a secret when the
    provider's description says so; any other key when it is named like one (``key``,
    ``account-key``, ``sas-token``, ``connection-string``, ``password``, ...).
    """
    if not isinstance(key, str):
        return False
    if isinstance(provider, str):
        description = builtin_description(provider)
        described = description.key(key) if description is not None else None
        if described is not None:
            return described.secret
    return named_like_secret(key)


def redact(value: Any, secret: bool = False) -> Any:
    """``value`` with every secret (``"$vault"``, and whatever sits under a key named like a
    secret) replaced by ``"***"``."""
    if isinstance(value, Mapping):
        provider = value.get("provider")  # a service: its provider says which keys are secret
        return {key: redact(item, secret or is_secret_key(key, provider))
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, secret) for item in value]
    if secret or value == SECRET_MARKER:
        return REDACTED
    return value


def inline_secrets(settings: Mapping[str, Any]) -> list[KeyPath]:
    """Key paths in ``settings`` whose value is a secret written out in full: under a key
    named like a secret (:func:`is_secret_key`; the service's own keys as its provider's
    description says), neither ``"$vault"`` nor containing ``${NAME}``."""
    return _inline(settings, (), False, settings.get("provider"))


def _inline(value: Any, path: KeyPath, secret: bool, provider: object = None) -> list[KeyPath]:
    if isinstance(value, Mapping):
        return [
            found
            for key, item in value.items()
            for found in _inline(item, (*path, str(key)), secret or is_secret_key(key, provider))
        ]
    if isinstance(value, list):
        return [
            found
            for index, item in enumerate(value)
            for found in _inline(item, (*path, str(index)), secret)
        ]
    if secret and value not in (None, "") and not has_reference(value):
        return [path]
    return []
