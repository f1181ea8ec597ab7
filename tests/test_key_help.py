"""The help text of every config key (xtstore.describe, each provider's description) names
only keys that exist: the common keys, the provider's own keys, and the parts of ``retry``
and ``timeout``; the retry help names exactly the retry settings config.resolve reads."""

from __future__ import annotations

import re

import pytest

from xtstore.catalog import builtin_description, builtin_descriptions
from xtstore.config.resolve import RETRY_KEYS
from xtstore.describe import COMMON_KEYS, TIMEOUT_KEY, ProviderDescription
from xtstore.layers.retry import RetryPolicy

KEY_LIKE = re.compile(r"\b[a-z]+(?:[-.][a-z]+)+\b")
"""A key as help texts write one: ``max-delay``, ``timeout.read``."""

PROSE = {"azure-identity", "server-side", "us-east", "bucket.host", "package.module", "e.g"}
"""Hyphenated or dotted words of the help texts that are not keys."""

RETRY_HELP = next(key.help for key in COMMON_KEYS if key.name == "retry")


def _names(description: ProviderDescription) -> set[str]:
    keys = {key.name for key in (*COMMON_KEYS, *description.keys)}
    parts = {f"retry.{part}" for part in RETRY_KEYS} | {
        f"{TIMEOUT_KEY.name}.{part}" for part in ("connect", "read")}
    return keys | set(RETRY_KEYS) | parts


@pytest.mark.parametrize("provider", builtin_descriptions())
def test_every_key_a_help_text_names_exists(provider: str) -> None:
    description = builtin_description(provider)
    assert description is not None
    known = _names(description)
    named = {(key.name, word) for key in (*COMMON_KEYS, *description.keys)
             for word in KEY_LIKE.findall(key.help) if word not in PROSE}
    assert {(key, word) for key, word in named if word not in known} == set()


def test_the_retry_help_names_exactly_the_retry_settings() -> None:
    listed = re.search(r"\{([^}]*)\}", RETRY_HELP)
    assert listed is not None, RETRY_HELP
    assert [part.strip() for part in listed.group(1).split(",")] == list(RETRY_KEYS)
    # ... and each setting is a field of the policy it becomes.
    fields = set(RetryPolicy._fields)
    assert set(RETRY_KEYS.values()) <= fields


def test_a_help_text_naming_a_missing_key_is_caught() -> None:
    """The check above can fail: the help this project shipped before named three settings
    that never existed."""
    description = builtin_description("store-memory")
    assert description is not None
    shipped = "Retry policy: attempts, initial-delay, max-delay, multiplier, deadline."
    words = set(KEY_LIKE.findall(shipped)) - PROSE
    assert words - _names(description) == {"initial-delay"}
