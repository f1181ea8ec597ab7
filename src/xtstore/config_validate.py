"""Checks of the whole merged config when it is loaded: types and references.

Importing the provider classes waits until a service is opened (:mod:`xtstore.registry`);
here only their names are checked. Values written as ``${NAME}`` or ``"$vault"`` (a service's
``type`` and ``provider``, ``xt-services.storage`` and ``providers.storage`` code paths
included) are checked after resolution, when they are used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from xtstore.config import is_secret_key
from xtstore.config_providers import BUILTIN_PROVIDERS, entry_point_providers, is_code_path
from xtstore.config_resolve import check_retry_value, has_reference
from xtstore.errors import ConfigError, ProviderLoadError

if TYPE_CHECKING:
    from xtstore.config import Config

__all__ = ["BUILTIN_KEY_TYPES", "validate_config"]

_TEXT = (str,)
_COMMON_KEYS: dict[str, tuple[type, ...]] = {"type": _TEXT, "provider": _TEXT, "name": _TEXT}

BUILTIN_KEY_TYPES: dict[str, dict[str, tuple[type, ...]]] = {
    "store-file": {"path": _TEXT},
    "store-memory": {},
    "azure-blob": {
        "connection-string": _TEXT,
        "account": _TEXT,
        "key": _TEXT,
        "sas-token": _TEXT,
        "credential": _TEXT,
    },
    "store-s3": {
        "endpoint-url": _TEXT,
        "region": _TEXT,
        "access-key-id": _TEXT,
        "secret-access-key": _TEXT,
        "session-token": _TEXT,
        "addressing-style": _TEXT,
    },
    "store-fsspec": {"url": _TEXT, "options": (dict,)},
}
"""The documented keys of each built-in provider (DESIGN §4) and the types they take."""
BUILTIN_KEY_TYPES["azure-blob-21"] = BUILTIN_KEY_TYPES["azure-blob"]
BUILTIN_KEY_TYPES["azure-blob-210"] = BUILTIN_KEY_TYPES["azure-blob"]

_ADDRESSING_STYLES = ("path", "virtual", "auto")


def validate_config(config: Config) -> None:
    """Raise :class:`ConfigError` (file and key path set) for the first mistake found."""
    _Validator(config).run()


class _Validator:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.data: dict[str, Any] = config.data
        self._known: set[str] | None = None
        self._configured: set[str] = set()

    def fail(self, path: tuple[str, ...], reason: str) -> ConfigError:
        return ConfigError(reason, file=self.config.file_for(path), key_path=".".join(path))

    def fail_load(self, path: tuple[str, ...], reason: str) -> ProviderLoadError:
        return ProviderLoadError(reason, file=self.config.file_for(path), key_path=".".join(path))

    def mapping(self, path: tuple[str, ...], value: object) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a mapping, not {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail((*path, str(key)), f"keys must be strings, not {_kind(key)}")
        return value

    def run(self) -> None:
        providers = self.mapping(("providers",), self.data.get("providers", {}))
        paths = self.mapping(("providers", "storage"), providers.get("storage", {}))
        self._configured = set(paths)
        for name, code_path in paths.items():
            if not is_code_path(code_path) and not has_reference(code_path):
                raise self.fail(
                    ("providers", "storage", name),
                    f"{code_path!r} is not a code path of the form package.module.Class",
                )
        services = self.mapping(("external-services",), self.data.get("external-services", {}))
        for name, service in services.items():
            self.service(name, service)
        xt_services = self.mapping(("xt-services",), self.data.get("xt-services", {}))
        default = xt_services.get("storage")
        path = ("xt-services", "storage")
        if not isinstance(default, str):
            raise self.fail(path, f"must name a storage service, not {_kind(default)}")
        if has_reference(default):
            return  # Config.default_storage_service checks the name it expands to
        if default not in services:
            known = ", ".join(sorted(services)) or "none"
            raise self.fail(
                path, f"{default!r} is not a service in external-services (known: {known})"
            )
        kind = services[default].get("type", "storage")
        if kind != "storage" and not has_reference(kind):
            raise self.fail(path, f"service {default!r} has type {kind!r}, not 'storage'")

    def service(self, name: str, service: object) -> None:
        path = ("external-services", name)
        settings = self.mapping(path, service)
        kind = settings.get("type", "storage")
        if not isinstance(kind, str):
            raise self.fail((*path, "type"), f"must be a string, not {_kind(kind)}")
        if kind != "storage":
            # Other XT service types (compute, registry, ...) are not ours to check; a
            # ${NAME} type is checked when the service is opened.
            return
        if "provider" not in settings:
            raise self.fail(
                (*path, "provider"),
                f"storage service {name!r} has no 'provider'; use one of: {self.known_list()}",
            )
        provider = settings["provider"]
        if not isinstance(provider, str):
            raise self.fail((*path, "provider"), f"must be a string, not {_kind(provider)}")
        if not has_reference(provider) and not self.is_known(provider):
            raise self.fail_load(
                (*path, "provider"),
                f"{provider!r} is not a known storage provider (known: {self.known_list()});"
                " add it under providers.storage or give a code path package.module.Class",
            )
        types = {**_COMMON_KEYS, **BUILTIN_KEY_TYPES.get(provider, {})}
        for key, value in settings.items():
            if key == "retry":
                self.retry((*path, "retry"), value)
            elif key in types and not has_reference(value) and not isinstance(value, types[key]):
                wanted = " or ".join("a mapping" if t is dict else "a string" for t in types[key])
                shown = _kind(value, secret=is_secret_key(key))
                raise self.fail((*path, key), f"must be {wanted}, not {shown}")
        style = settings.get("addressing-style")
        if provider == "store-s3" and style is not None and not has_reference(style) and (
            style not in _ADDRESSING_STYLES
        ):
            raise self.fail(
                (*path, "addressing-style"),
                f"must be one of {', '.join(_ADDRESSING_STYLES)}, not {style!r}",
            )

    def retry(self, path: tuple[str, ...], value: object) -> None:
        section = self.mapping(path, value)
        for key, item in section.items():
            if has_reference(item):
                continue
            problem = check_retry_value(key, item)
            if problem is not None:
                raise self.fail((*path, key), problem)

    def is_known(self, provider: str) -> bool:
        # Entry points are scanned only for a name found nowhere cheaper.
        return (
            provider in BUILTIN_PROVIDERS
            or provider in self._configured
            or is_code_path(provider)
            or provider in self.known()
        )

    def known(self) -> set[str]:
        if self._known is None:
            self._known = (
                set(BUILTIN_PROVIDERS) | self._configured
                | set(entry_point_providers())
            )
        return self._known

    def known_list(self) -> str:
        return ", ".join(sorted(self.known()))


def _kind(value: object, secret: bool = False) -> str:
    if secret:
        return f"a {type(value).__name__}"
    if value is None:
        return "empty"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"
