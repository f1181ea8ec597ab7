"""Resolving a service's settings when it is opened: ``${NAME}`` from the environment and
``"$vault"`` secrets, plus the service's ``retry`` section as a :class:`RetryPolicy`.

Resolution happens in the process that opens the service (a worker re-resolves on its own),
so resolved secrets are never stored in a :class:`~xtstore.config.Config` or a pickle.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from xtstore.config.files import display_path, load_yaml_file
from xtstore.config.redact import is_secret_key
from xtstore.config.references import SECRET_MARKER, expand_environment, has_reference
from xtstore.errors import ConfigError
from xtstore.layers.retry import RetryPolicy

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "RETRY_KEYS",
    "ResolvedService",
    "check_retry_value",
    "resolve_service",
    "retry_policy",
    "secret_env_name",
    "secrets_file",
]

KeyPath = tuple[str, ...]
Locate = Callable[[KeyPath], str | None]
"""Maps a key path inside the service to the file that set it (for messages)."""

RETRY_KEYS: dict[str, str] = {
    "attempts": "attempts",
    "base-delay": "base_delay",
    "max-delay": "max_delay",
    "total-timeout": "total_timeout",
}


def secrets_file() -> Path:
    """``~/.xtstore/secrets.yaml`` (layout ``{service: {key: value}}``)."""
    from pathlib import Path  # only where a "$vault" is read: most command lines read none

    return Path.home() / ".xtstore" / "secrets.yaml"


def secret_env_name(service: str, key_path: KeyPath) -> str:
    """``XTSTORE_SECRET_<SERVICE>_<KEY>``: upper case, anything but letters and digits → ``_``."""
    raw = "_".join((service, *key_path))
    return "XTSTORE_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", raw).upper()


class ResolvedService:
    """A service's settings with references resolved, and the secret strings among them
    (for :func:`xtstore.secrets.redact`)."""

    def __init__(self, settings: dict[str, Any], secrets: list[str]) -> None:
        self.settings = settings
        self.secrets = secrets

    def __repr__(self) -> str:
        return f"<ResolvedService keys={sorted(self.settings)!r}>"


def resolve_service(service: str, settings: Mapping[str, Any], locate: Locate) -> ResolvedService:
    """Resolve every ``${NAME}`` and ``"$vault"`` in ``settings`` (service ``service``).

    Raises :class:`ConfigError` naming the file and key path for an unset environment variable
    or a secret found nowhere, and naming the secrets file if it is readable by others.
    """
    resolver = _Resolver(service, locate, settings.get("provider"))
    resolved = resolver.value(settings, ())
    return ResolvedService(resolved, resolver.secrets)


class _Resolver:
    def __init__(self, service: str, locate: Locate, provider: object = None) -> None:
        self.service = service
        self.locate = locate
        self.provider = provider  # its description says which of the service's keys are secret
        self.secrets: list[str] = []
        self._vault: dict[str, Any] | None = None

    def key_path(self, path: KeyPath) -> str:
        return ".".join(("external-services", self.service, *path))

    def is_secret(self, path: KeyPath) -> bool:
        return bool(path) and is_secret_key(path[-1], self.provider if len(path) == 1 else None)

    def value(self, value: Any, path: KeyPath) -> Any:
        if isinstance(value, Mapping):
            return {key: self.value(item, (*path, str(key))) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, (*path, str(index))) for index, item in enumerate(value)]
        if value == SECRET_MARKER:
            secret = self.secret(path)
            self.keep_secret(secret)
            return secret
        if isinstance(value, str) and "${" in value:
            resolved = expand_environment(
                value, file=self.locate(path), key_path=self.key_path(path), service=self.service
            )
            if self.is_secret(path):
                self.keep_secret(resolved)
            return resolved
        if self.is_secret(path) and isinstance(value, str):
            self.keep_secret(value)
        return value

    def keep_secret(self, secret: str) -> None:
        # Its secret parts (a connection string's AccountKey, ...) and encodings are found
        # where it is redacted: xtstore.secrets.variants.
        self.secrets.append(secret)

    def secret(self, path: KeyPath) -> str:
        variable = secret_env_name(self.service, path)
        found = os.environ.get(variable)
        if found is not None:
            return found
        node: Any = self.vault(".".join((self.service, *path))).get(self.service)
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is None or isinstance(node, (Mapping, list)):
            nested = "".join(f"{{{key}: ...}}" for key in path)
            raise ConfigError(
                f"secret not found: set {variable}, or add {self.service}: {nested} to"
                f" {display_path(secrets_file())}",
                file=self.locate(path),
                key_path=self.key_path(path),
                hint="add the secret, then check with 'xtstore config --validate'",
                service=self.service,
            )
        return str(node)

    def vault(self, wanted: str) -> dict[str, Any]:
        if self._vault is None:
            self._vault = _read_secrets_file(wanted)
        return self._vault


def _read_secrets_file(wanted: str) -> dict[str, Any]:
    """The secrets file's data; ``wanted`` (``service.key``) is named in a refusal."""
    path = secrets_file()
    label = display_path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(
            f"cannot read the secrets file: {error}", file=label, key_path=wanted
        ) from None
    if os.name == "posix":
        if info.st_mode & 0o077:
            raise ConfigError(
                f"refused: the secrets file can be read or written by others (mode"
                f" {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {label}",
                file=label,
                key_path=wanted,
            )
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise ConfigError(
                "refused: the secrets file belongs to another user", file=label, key_path=wanted
            )
    data = load_yaml_file(path, label, quote_source=False)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            "the top level must be a mapping of service names to {key: value}",
            file=label,
            key_path="(top level)",
        )
    return data


def check_retry_value(key: str, value: object) -> str | None:
    """Why ``value`` is not valid for ``retry.<key>``, or None if it is."""
    if key not in RETRY_KEYS:
        return f"unknown retry setting {key!r} (known: {', '.join(RETRY_KEYS)})"
    if key == "attempts":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return f"must be a positive integer, not {_shown(value)}"
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value < 0):
        # NaN would pass "< 0", and an infinite delay or timeout is a hang.
        return f"must be a finite number of seconds >= 0, not {_shown(value)}"
    if key == "total-timeout" and value == 0:
        return "must be more than 0 seconds"
    return None


def retry_policy(
    service: str,
    unresolved: object,
    resolved: object,
    locate: Locate,
) -> RetryPolicy:
    """The service's ``retry`` section as a :class:`RetryPolicy` (defaults where absent).

    Values that came from ``${NAME}`` are parsed from text. Raises :class:`ConfigError` for a
    section that is not a mapping, an unknown key, or a value of the wrong type.
    """
    if unresolved is None:
        return RetryPolicy()
    if not isinstance(unresolved, Mapping) or not isinstance(resolved, Mapping):
        raise ConfigError(
            f"must be a mapping of {', '.join(RETRY_KEYS)}, not {_shown(unresolved)}",
            file=locate(("retry",)),
            key_path=f"external-services.{service}.retry",
            service=service,
        )
    values: dict[str, Any] = {}
    for key, value in resolved.items():
        original = unresolved.get(key)
        if has_reference(original):
            value = _parse_number(value)
        problem = check_retry_value(str(key), value)
        if problem is not None:
            if original == SECRET_MARKER:
                problem = problem.split(", not ")[0]
            raise ConfigError(
                problem,
                file=locate(("retry", str(key))),
                key_path=f"external-services.{service}.retry.{key}",
                service=service,
            )
        values[RETRY_KEYS[str(key)]] = value
    return RetryPolicy(**values)


def _parse_number(text: object) -> object:
    if not isinstance(text, str):
        return text
    for kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            continue
    return text


def _shown(value: object) -> str:
    if isinstance(value, (Mapping, list)):
        return f"a {type(value).__name__}"
    return repr(value)
