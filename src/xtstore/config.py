"""Configuration in XT's format (DESIGN §3): YAML layers merged key by key, later wins.

Layers, lowest first: built-in defaults < ``~/.xtstore/config.yaml`` < ``./xt_config.yaml`` <
the file named by ``--config`` / ``XTSTORE_CONFIG``. :class:`Config` keeps, for every key,
the layer that set it, so that a mistake is reported with the file to fix. Values stay
unresolved here (``${NAME}`` and ``"$vault"`` are resolved only when a service is opened, see
:mod:`xtstore.config_resolve`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from xtstore.config_files import read_layer
from xtstore.errors import ConfigError

__all__ = [
    "BUILTIN_SOURCE",
    "DEFAULTS",
    "SECRET_MARKER",
    "Config",
    "is_secret_key",
    "load_config",
]

BUILTIN_SOURCE = "built-in defaults"
SECRET_MARKER = "$vault"
REDACTED = "***"

DEFAULTS: dict[str, Any] = {
    "external-services": {
        "filestorage": {"type": "storage", "provider": "store-file", "path": "~/.xtstore/store"},
    },
    "xt-services": {"storage": "filestorage"},
    "providers": {"storage": {}},
}

_SECRET_WORDS = frozenset({"key", "secret", "password", "token"})
_SECRET_NAMES = frozenset(
    {"sas-token", "connection-string", "secret-access-key", "session-token", "credentials"}
)

KeyPath = tuple[str, ...]


def is_secret_key(key: object) -> bool:
    """True for key names whose values are secrets (``key``, ``account-key``, ``sas-token``,
    ``connection-string``, ``password``, ...): they are redacted wherever config is shown."""
    if not isinstance(key, str):
        return False
    name = key.lower().replace("_", "-")
    return name in _SECRET_NAMES or name.rsplit("-", 1)[-1] in _SECRET_WORDS


class Config:
    """The merged configuration and where each key came from.

    Build one with :func:`load_config` (files) or :meth:`from_mapping` (a dict, no files).
    Raises :class:`~xtstore.errors.ConfigError` when the merged result is invalid.
    """

    def __init__(self, layers: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """``layers`` are ``(source label, mapping)`` pairs, lowest first; the built-in
        defaults are not added here (pass them as the first layer)."""
        self._data: dict[str, Any] = {}
        self._sources: dict[KeyPath, str] = {}
        self._layers: list[str] = []
        for source, mapping in layers:
            self._layers.append(source)
            _merge(self._data, mapping, (), source, self._sources)
        from xtstore.config_validate import validate_config

        validate_config(self)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], source: str = "<dict>") -> Config:
        """Built-in defaults with ``mapping`` layered over them; reads no file."""
        if not isinstance(mapping, Mapping):
            raise ConfigError(
                f"the top level must be a mapping, not {type(mapping).__name__}",
                file=source,
                key_path="(top level)",
            )
        return cls([(BUILTIN_SOURCE, DEFAULTS), (source, mapping)])

    def __repr__(self) -> str:
        return f"<xtstore.Config layers={self._layers!r}>"

    @property
    def data(self) -> dict[str, Any]:
        """The merged configuration, unresolved (a copy: changing it changes nothing)."""
        return copy.deepcopy(self._data)

    @property
    def layers(self) -> list[str]:
        """The sources merged, lowest first (``"built-in defaults"``, then file names)."""
        return list(self._layers)

    def source_of(self, key_path: str) -> str:
        """The file (or ``"built-in defaults"``) that set ``key_path``, a dotted path such as
        ``"external-services.filestorage.path"``. Raises ``KeyError`` if no layer set it."""
        path = self.split_key_path(key_path)
        if path is None or path not in self._sources:
            raise KeyError(key_path)
        return self._sources[path]

    def file_for(self, path: KeyPath) -> str | None:
        """The source of ``path`` or of its nearest ancestor that exists (for messages about
        a key that is missing or wrong)."""
        for end in range(len(path), 0, -1):
            source = self._sources.get(path[:end])
            if source is not None:
                return source
        return None

    def sources_under(self, path: KeyPath) -> dict[KeyPath, str]:
        """Every key below ``path`` with its source, as paths relative to ``path``."""
        size = len(path)
        return {
            key[size:]: source
            for key, source in self._sources.items()
            if key[:size] == path and len(key) > size
        }

    def split_key_path(self, key_path: str) -> KeyPath | None:
        """Split a dotted key path against the data, so that keys containing dots still
        match; None if it names nothing."""
        node: Any = self._data
        rest = key_path
        parts: list[str] = []
        while rest:
            if not isinstance(node, Mapping):
                return None
            match = next(
                (
                    key
                    for key in sorted((k for k in node if isinstance(k, str)), key=len,
                                      reverse=True)
                    if rest == key or rest.startswith(key + ".")
                ),
                None,
            )
            if match is None:
                return None
            parts.append(match)
            node = node[match]
            rest = rest[len(match) + 1 :]
        return tuple(parts) if parts else None

    def redacted(self) -> dict[str, Any]:
        """The merged data with every secret value (``"$vault"`` and the values of keys named
        like key/secret/password/token/connection-string) replaced by ``"***"``."""
        redacted: dict[str, Any] = _redact(self._data)
        return redacted

    @property
    def default_storage_service(self) -> str:
        """``xt-services.storage``: the service used when none is named."""
        return str(self._data["xt-services"]["storage"])

    def services(self) -> dict[str, dict[str, Any]]:
        """Every entry of ``external-services`` (unresolved copies)."""
        return copy.deepcopy(self._data.get("external-services") or {})

    def storage_services(self) -> list[str]:
        """Names of the services of type ``storage``, sorted."""
        return sorted(
            name
            for name, service in (self._data.get("external-services") or {}).items()
            if isinstance(service, Mapping) and service.get("type", "storage") == "storage"
        )

    def service(self, name: str) -> dict[str, Any]:
        """The unresolved settings of service ``name``. Raises :class:`ConfigError` listing
        the known services if there is none by that name."""
        services = self._data.get("external-services") or {}
        if name not in services:
            known = ", ".join(sorted(services)) or "none"
            raise ConfigError(
                f"unknown service {name!r} (known: {known})",
                key_path=f"external-services.{name}",
            )
        return copy.deepcopy(services[name])

    def provider_paths(self) -> dict[str, str]:
        """``providers.storage``: provider name → code path, as configured."""
        return dict((self._data.get("providers") or {}).get("storage") or {})


def load_config(config_file: str | os.PathLike[str] | None = None) -> Config:
    """Merge the config files (DESIGN §3): built-in defaults < ``~/.xtstore/config.yaml`` <
    ``./xt_config.yaml`` < ``config_file`` (else the file named by ``XTSTORE_CONFIG``).

    The first two files are optional; the last must exist. Raises :class:`ConfigError` naming
    the file and key path of any mistake (bad YAML, wrong types, unknown provider, ...).
    """
    layers: list[tuple[str, Mapping[str, Any]]] = [(BUILTIN_SOURCE, DEFAULTS)]
    for optional in (Path.home() / ".xtstore" / "config.yaml", Path("xt_config.yaml")):
        if optional.is_file():
            layers.append(read_layer(optional))
    top = config_file if config_file is not None else os.environ.get("XTSTORE_CONFIG") or None
    if top is not None:
        layers.append(read_layer(top))
    return Config(layers)


def _merge(
    target: dict[str, Any],
    layer: Mapping[str, Any],
    path: KeyPath,
    source: str,
    sources: dict[KeyPath, str],
) -> None:
    # A key given no value (``key:`` in YAML) leaves the lower layers' value alone.
    for key, value in layer.items():
        if value is None:
            continue
        key_path = (*path, str(key))
        current = target.get(key)
        if not (isinstance(value, Mapping) and isinstance(current, dict)):
            _forget_below(key_path, sources)
        sources[key_path] = source
        if isinstance(value, Mapping):
            if not isinstance(current, dict):
                target[key] = current = {}
            _merge(current, value, key_path, source, sources)
        else:
            target[key] = copy.deepcopy(value)


def _forget_below(path: KeyPath, sources: dict[KeyPath, str]) -> None:
    """Drop the sources of keys under ``path``, whose value a later layer replaced whole."""
    size = len(path)
    for stale in [key for key in sources if len(key) > size and key[:size] == path]:
        del sources[stale]


def _redact(value: Any, secret: bool = False) -> Any:
    if isinstance(value, Mapping):
        return {key: _redact(item, secret or is_secret_key(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item, secret) for item in value]
    if secret or value == SECRET_MARKER:
        return REDACTED
    return value
