"""Opening the same store on a compute node, from the environment alone.

xtstore's own variables carry no secret: ``XTSTORE_CONFIG`` says where the config files are
and ``XTSTORE_SERVICE`` which service to use; secrets are resolved on the node
(``XTSTORE_SECRET_<SERVICE>_<KEY>`` or its ``~/.xtstore/secrets.yaml``).
:func:`xtstore.node_environment` computes them for a job.

XT's own variables are read too: ``XT_STORE_CREDS`` (base64 of the JSON service dict, secrets
included) and ``XT_STORE_CODE_PATH`` (the provider's code path). They carry the secrets
unencrypted, so using them warns once per process (:class:`XtCredentialsWarning`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
import warnings
from typing import Any

from xtstore.config.files import MAX_DEPTH
from xtstore.errors import ConfigError

__all__ = [
    "CONFIG_VARIABLE",
    "SERVICE_VARIABLE",
    "XT_CODE_PATH_VARIABLE",
    "XT_CREDS_VARIABLE",
    "XtCredentialsWarning",
    "XtService",
    "config_files_from_environment",
    "environment_service",
    "read_xt_environment",
    "warn_xt_credentials",
]

CONFIG_VARIABLE = "XTSTORE_CONFIG"
SERVICE_VARIABLE = "XTSTORE_SERVICE"
XT_CREDS_VARIABLE = "XT_STORE_CREDS"
XT_CODE_PATH_VARIABLE = "XT_STORE_CODE_PATH"


class XtCredentialsWarning(UserWarning):
    """The store was opened from ``XT_STORE_CREDS``, which holds its secrets unencrypted."""


def config_files_from_environment() -> list[str]:
    """The files named by ``XTSTORE_CONFIG`` (several separated by ``os.pathsep``)."""
    value = os.environ.get(CONFIG_VARIABLE) or ""
    return [path for path in value.split(os.pathsep) if path]


def environment_service() -> str | None:
    """``XTSTORE_SERVICE``, or None when it is unset or empty."""
    return os.environ.get(SERVICE_VARIABLE) or None


class XtService:
    """A service read from XT's variables: its settings (secrets included, so never shown)
    and the provider's code path if ``XT_STORE_CODE_PATH`` gave one."""

    def __init__(self, settings: dict[str, Any], code_path: str | None) -> None:
        self.settings = settings
        self.code_path = code_path

    @property
    def name(self) -> str:
        """The service's ``name`` (XT sets it to the service name), else ``XT_STORE_CREDS``."""
        name = self.settings.get("name")
        return name if isinstance(name, str) and name else XT_CREDS_VARIABLE

    def __repr__(self) -> str:
        return f"<XtService name={self.name!r} code_path={self.code_path!r}>"


def read_xt_environment() -> XtService | None:
    """The service XT's variables describe, or None when ``XT_STORE_CREDS`` is unset or empty.

    Raises :class:`ConfigError` (one line naming the variable, never quoting its value) when
    ``XT_STORE_CREDS`` is not base64 of a JSON object with a string ``provider``.
    """
    encoded = os.environ.get(XT_CREDS_VARIABLE)
    if not encoded:
        return None
    source = f"environment variable {XT_CREDS_VARIABLE}"
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise ConfigError("is not base64 of UTF-8 text", file=source) from None
    try:
        settings = json.loads(text)
    except ValueError as error:
        # The position only: the message of a JSON error may quote the text.
        raise ConfigError(
            f"is not base64 of JSON (invalid JSON at character {getattr(error, 'pos', '?')})",
            file=source,
        ) from None
    except RecursionError:
        raise ConfigError(f"is nested more than {MAX_DEPTH} levels deep", file=source) from None
    if _depth(settings) > MAX_DEPTH:
        raise ConfigError(f"is nested more than {MAX_DEPTH} levels deep", file=source)
    if not isinstance(settings, dict):
        raise ConfigError(
            f"must be base64 of a JSON object (the service's settings), not of a"
            f" {type(settings).__name__}",
            file=source,
        )
    code_path = os.environ.get(XT_CODE_PATH_VARIABLE) or None
    if not isinstance(settings.get("provider"), str) and code_path is None:
        raise ConfigError(
            f"the service's settings have no string 'provider' and {XT_CODE_PATH_VARIABLE}"
            " is not set",
            file=source,
        )
    return XtService(settings, code_path)


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and dicts (iteratively: any depth is measured)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


_warned = False


def warn_xt_credentials() -> None:
    """Warn, once per process, that XT's variables carry the secrets unencrypted."""
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(
        f"the store is opened from {XT_CREDS_VARIABLE}, which carries its secrets unencrypted"
        f" (base64 is not encryption); set {SERVICE_VARIABLE} and {CONFIG_VARIABLE} instead,"
        " with the secrets resolved on the node (see xtstore.node_environment)",
        XtCredentialsWarning,
        stacklevel=_outside_xtstore(),
    )


def _outside_xtstore() -> int:
    """The ``stacklevel`` of the first caller outside xtstore (where the warning points)."""
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("xtstore"):
        level, frame = level + 1, frame.f_back
    return level
