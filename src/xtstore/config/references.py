"""What is resolved only when a service is opened: ``${NAME}`` (an environment variable) and
``"$vault"`` (a secret, from ``XTSTORE_SECRET_<SERVICE>_<KEY>`` or the secrets file)."""

from __future__ import annotations

import os
import re

from xtstore.errors import ConfigError

__all__ = ["ENV_REFERENCE", "SECRET_MARKER", "expand_environment", "has_reference"]

SECRET_MARKER = "$vault"

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${NAME}``: replaced by the environment variable ``NAME``."""


def expand_environment(
    text: str, *, file: str | None, key_path: str, service: str | None = None
) -> str:
    """``text`` with every ``${NAME}`` replaced by the environment variable ``NAME``.

    Raises :class:`ConfigError` naming ``file`` and ``key_path`` for an unset variable.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        found = os.environ.get(name)
        if found is None:
            raise ConfigError(
                f"environment variable {name!r} is not set",
                file=file,
                key_path=key_path,
                service=service,
                hint=f"set {name}, then check with 'xtstore config --validate'",
            )
        return found

    return ENV_REFERENCE.sub(substitute, text)


def has_reference(value: object) -> bool:
    """True if ``value`` is resolved only when the service is opened."""
    return isinstance(value, str) and (
        value == SECRET_MARKER or ENV_REFERENCE.search(value) is not None
    )
