"""The merged configuration (docs/contract.md §3): YAML layers merged key by key, later wins.

Layers, lowest first: built-in defaults < ``~/.xtstore/config.yaml`` < ``./xt_config.yaml`` <
the file named by ``--config`` / ``XTSTORE_CONFIG``. :class:`Config` keeps, for every key,
the layer that set it, so that a mistake is reported with the file to fix. Values are stored
unresolved: ``${NAME}`` is expanded when a value is read (as a mapping, or when a service is
opened), and ``"$vault"`` only when a service is opened (see :mod:`xtstore.config.resolve`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from xtstore.catalog import is_code_path
from xtstore.config.environment import SERVICE_VARIABLE, config_files_from_environment
from xtstore.config.files import read_layer
from xtstore.config.redact import redact
from xtstore.config.references import expand_environment
from xtstore.config.validate import validate_config
from xtstore.errors import ConfigError

__all__ = ["BUILTIN_SOURCE", "DEFAULTS", "Config", "ConfigSource", "as_config", "load_config"]

BUILTIN_SOURCE = "built-in defaults"

DEFAULTS: dict[str, Any] = {
    "external-services": {
        "filestorage": {"type": "storage", "provider": "store-file", "path": "~/.xtstore/store"},
    },
    "xt-services": {"storage": "filestorage"},
    "providers": {"storage": {}},
}

KeyPath = tuple[str, ...]


class Config(Mapping[str, Any]):
    """The merged configuration and where each key came from.

    Build one with :func:`load_config` (files), :meth:`from_files` or :meth:`from_mapping` (a
    dict, no files). Raises :class:`~xtstore.errors.ConfigError` when the merged result is
    invalid.

    It reads as a read-only mapping, like XT's merged config:
    ``config["external-services"]["runs"]["path"]``, ``in``, iteration, ``.get``, ``len``.
    Each read returns a fresh copy with ``${NAME}`` expanded (an unset variable is a
    :class:`ConfigError` naming the file and key path); ``"$vault"`` stays as it is, and
    changing what was read changes nothing here.
    """

    def __init__(
        self,
        layers: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        files: Sequence[str] | None = None,
        default_service: str | None = None,
    ) -> None:
        """``layers`` are ``(source label, mapping)`` pairs, lowest first; the built-in
        defaults are not added here (pass them as the first layer). ``files`` are the
        absolute paths the layers were read from (None when a layer is not a file);
        ``default_service`` overrides ``xt-services.storage`` (``XTSTORE_SERVICE``)."""
        self._data: dict[str, Any] = {}
        self._sources: dict[KeyPath, str] = {}
        self._layers: list[str] = []
        self._files = tuple(files) if files is not None else None
        self._default_service = default_service
        for source, mapping in layers:
            self._layers.append(source)
            _merge(self._data, mapping, (), source, self._sources)
        validate_config(self.data, self.file_for)

    @classmethod
    def from_files(
        cls, paths: Iterable[str | os.PathLike[str]], *, default_service: str | None = None
    ) -> Config:
        """Built-in defaults with each file layered over them, in order (each must exist)."""
        layers: list[tuple[str, Mapping[str, Any]]] = [(BUILTIN_SOURCE, DEFAULTS)]
        files: list[str] = []
        for path in paths:
            layers.append(read_layer(path))
            files.append(os.path.abspath(os.path.expanduser(os.fspath(path))))
        return cls(layers, files=files, default_service=default_service)

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

    def __getitem__(self, key: str) -> Any:
        return self._expanded((key,), self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        # Without expanding the value (Mapping's default reads it).
        return key in self._data

    @property
    def files(self) -> tuple[str, ...] | None:
        """The absolute paths of the config files merged, lowest first (empty when there were
        none); None when a layer did not come from a file (:meth:`from_mapping`)."""
        return self._files

    def expanded(self) -> dict[str, Any]:
        """The merged data with every ``${NAME}`` expanded (``"$vault"`` kept). Raises
        :class:`ConfigError` naming the file and key path of the first unset variable."""
        return {key: self[key] for key in self._data}

    def _expanded(self, path: KeyPath, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: self._expanded((*path, str(key)), item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._expanded((*path, str(index)), item) for index, item in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            return expand_environment(
                value, file=self.file_for(path), key_path=".".join(path)
            )
        return copy.deepcopy(value)

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
        redacted: dict[str, Any] = redact(self._data)
        return redacted

    @property
    def default_storage_service(self) -> str:
        """The service used when none is named: ``XTSTORE_SERVICE`` for a config read by
        :func:`load_config`, else ``xt-services.storage`` (``${NAME}`` expanded).

        Raises :class:`ConfigError` if it names no storage service.
        """
        if self._default_service is not None:
            source = f"environment variable {SERVICE_VARIABLE}"
            return self._check_storage_service(self._default_service, source, None)
        path = ("xt-services", "storage")
        name = self.expanded_at(path)
        return self._check_storage_service(str(name), self.file_for(path), ".".join(path))

    def _check_storage_service(self, name: str, file: str | None, key_path: str | None) -> str:
        services = self._data.get("external-services") or {}
        if name not in services:
            known = ", ".join(sorted(services)) or "none"
            raise ConfigError(
                f"{name!r} is not a service in external-services (known: {known})",
                file=file,
                key_path=key_path,
            )
        kind = self.service_type(name)
        if kind != "storage":
            raise ConfigError(
                f"service {name!r} has type {kind!r}, not 'storage'", file=file, key_path=key_path
            )
        return name

    def expanded_at(self, path: KeyPath) -> Any:
        """The value at ``path`` with ``${NAME}`` expanded. Raises ``KeyError`` if no layer
        set it, :class:`ConfigError` for an unset variable."""
        node: Any = self._data
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                raise KeyError(".".join(path))
            node = node[key]
        return self._expanded(path, node)

    def service_type(self, name: str) -> object:
        """The ``type`` of service ``name`` (``"storage"`` when absent), ``${NAME}`` expanded."""
        service = (self._data.get("external-services") or {}).get(name)
        if not isinstance(service, Mapping) or "type" not in service:
            return "storage"
        return self.expanded_at(("external-services", name, "type"))

    def services(self) -> dict[str, dict[str, Any]]:
        """Every entry of ``external-services`` (unresolved copies)."""
        return copy.deepcopy(self._data.get("external-services") or {})

    def storage_services(self) -> list[str]:
        """Names of the services of type ``storage``, sorted."""
        return sorted(
            name
            for name, service in (self._data.get("external-services") or {}).items()
            if isinstance(service, Mapping) and self.service_type(name) == "storage"
        )

    def service(self, name: str) -> dict[str, Any]:
        """The unresolved settings of service ``name``. Raises :class:`ConfigError` listing
        the known services if there is none by that name."""
        services = self._data.get("external-services") or {}
        if name not in services:
            import difflib  # the error path only: not loaded when the CLI starts

            known = ", ".join(sorted(services)) or "none"
            close = difflib.get_close_matches(name, sorted(services), n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"unknown service {name!r} (known: {known})",
                key_path=f"external-services.{name}",
                hint=f"{guess}see 'xtstore services' for the services configured",
            )
        return copy.deepcopy(services[name])

    def provider_paths(self) -> dict[str, str]:
        """``providers.storage``: provider name → code path (``${NAME}`` expanded)."""
        names = (self._data.get("providers") or {}).get("storage") or {}
        return {name: self.provider_path(name) for name in names}

    def provider_path(self, name: str) -> str:
        """The code path ``providers.storage`` gives for ``name`` (``${NAME}`` expanded).

        Raises ``KeyError`` if it gives none, :class:`ConfigError` for an unset variable or a
        value that is not a code path once expanded.
        """
        path = ("providers", "storage", name)
        code_path = self.expanded_at(path)
        if not is_code_path(code_path):
            raise ConfigError(
                f"{code_path!r} is not a code path of the form package.module.Class",
                file=self.file_for(path),
                key_path=".".join(path),
            )
        return str(code_path)


def load_config(config_file: str | os.PathLike[str] | None = None) -> Config:
    """Merge the config files (docs/contract.md §3): built-in defaults < ``~/.xtstore/config.yaml``
    < ``./xt_config.yaml`` < ``config_file`` (else the files named by ``XTSTORE_CONFIG``,
    several separated by ``os.pathsep``, merged in order).

    The first two files are optional; the others must exist. ``XTSTORE_SERVICE``, when set,
    becomes :attr:`Config.default_storage_service`. Raises :class:`ConfigError` naming the
    file and key path of any mistake (bad YAML, wrong types, unknown provider, ...).
    """
    home_file = os.path.join(os.path.expanduser("~"), ".xtstore", "config.yaml")
    paths: list[str | os.PathLike[str]] = [
        optional for optional in (home_file, "xt_config.yaml") if os.path.isfile(optional)
    ]
    if config_file is not None:
        paths.append(config_file)
    else:
        paths.extend(config_files_from_environment())
    return Config.from_files(paths, default_service=os.environ.get(SERVICE_VARIABLE) or None)


ConfigSource = Config | Mapping[str, Any] | str | os.PathLike[str] | None
"""What ``get_storage(config=...)`` and the other entry points accept (see :func:`as_config`)."""


def as_config(config: ConfigSource) -> Config:
    """``None`` → the config files; a path → those files with it on top (like
    ``--config``); a mapping → built-in defaults plus the mapping (no file read)."""
    if config is None:
        return load_config()
    if isinstance(config, Config):
        return config
    if isinstance(config, (str, os.PathLike)):
        return load_config(config)
    if isinstance(config, Mapping):
        return Config.from_mapping(config)
    raise TypeError(f"config must be a Config, a mapping or a file path, not {type(config)!r}")


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
