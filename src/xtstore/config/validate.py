"""Checks of the whole merged config when it is loaded, and of one service when it is opened.

When the config is loaded, every key written on a built-in provider's service is checked
against the provider's description (:mod:`xtstore.describe`): unknown keys (with a "did you
mean"), types and choices. Values written as ``${NAME}`` or ``"$vault"`` (a service's
``type`` and ``provider``, ``xt-services.storage`` and ``providers.storage`` code paths
included) are checked after resolution, when the service is opened; then
:func:`check_service` also checks the keys the provider requires. Importing the provider
classes waits until a service is opened (:mod:`xtstore.registry`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from xtstore.catalog import (
    BUILTIN_DESCRIPTIONS,
    builtin_description,
    builtin_descriptions,
    entry_point_providers,
    is_code_path,
)
from xtstore.config.references import has_reference
from xtstore.config.resolve import check_retry_value
from xtstore.describe import COMMON_KEYS, ProviderDescription, shown_value
from xtstore.errors import ConfigError, ProviderLoadError

__all__ = ["check_service", "key_problems", "validate_config"]

KeyPath = tuple[str, ...]


def validate_config(data: Mapping[str, Any], file_for: Callable[[KeyPath], str | None]) -> None:
    """Raise :class:`ConfigError` (file and key path set) for the first mistake found in the
    merged ``data``; ``file_for`` names the file that set a key path (or its nearest parent)."""
    _Validator(data, file_for).run()


class _Validator:
    def __init__(self, data: Mapping[str, Any], file_for: Callable[[KeyPath], str | None]) -> None:
        self.data = data
        self.file_for = file_for
        self._known: set[str] | None = None
        self._configured: set[str] = set()

    def fail(self, path: tuple[str, ...], reason: str) -> ConfigError:
        return ConfigError(reason, file=self.file_for(path), key_path=".".join(path))

    def fail_load(self, path: tuple[str, ...], reason: str) -> ProviderLoadError:
        return ProviderLoadError(reason, file=self.file_for(path), key_path=".".join(path))

    def mapping(self, path: tuple[str, ...], value: object) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a mapping, not {shown_value(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.fail((*path, str(key)), f"keys must be strings, not {shown_value(key)}")
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
            raise self.fail(path, f"must name a storage service, not {shown_value(default)}")
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
            raise self.fail((*path, "type"), f"must be a string, not {shown_value(kind)}")
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
            raise self.fail((*path, "provider"), f"must be a string, not {shown_value(provider)}")
        if not has_reference(provider) and not self.is_known(provider):
            raise self.fail_load(
                (*path, "provider"),
                f"{provider!r} is not a known storage provider (known: {self.known_list()});"
                " add it under providers.storage or give a code path package.module.Class",
            )
        description = self.description(provider)
        if "retry" in settings:
            self.retry((*path, "retry"), settings["retry"])
        if description is not None:
            for key_path, reason in key_problems(description, settings, skip_references=True):
                raise self.fail((*path, *key_path), reason)
            return
        for common in COMMON_KEYS:
            value = settings.get(common.name)
            # A user provider's service may carry any key; only the common ones are ours.
            if common.name != "retry" and value is not None and not has_reference(value):
                problem = common.problem(value)
                if problem is not None:
                    raise self.fail((*path, common.name), problem)

    def retry(self, path: tuple[str, ...], value: object) -> None:
        section = self.mapping(path, value)
        for key, item in section.items():
            if has_reference(item):
                continue
            problem = check_retry_value(key, item)
            if problem is not None:
                raise self.fail((*path, key), problem)

    def description(self, provider: str) -> ProviderDescription | None:
        """The built-in description ``provider`` names, unless providers.storage redefines it
        (a ``${NAME}`` provider is looked up when the service is opened)."""
        if has_reference(provider) or provider in self._configured:
            return None
        return builtin_description(provider)

    def is_known(self, provider: str) -> bool:
        # Entry points are scanned only for a name found nowhere cheaper.
        return (
            provider in BUILTIN_DESCRIPTIONS
            or provider in self._configured
            or is_code_path(provider)
            or provider in self.known()
        )

    def known(self) -> set[str]:
        if self._known is None:
            self._known = (
                set(builtin_descriptions()) | self._configured
                | set(entry_point_providers())
            )
        return self._known

    def known_list(self) -> str:
        return ", ".join(sorted(self.known()))


def key_problems(
    description: ProviderDescription, settings: Mapping[str, Any], skip_references: bool = False
) -> Iterator[tuple[KeyPath, str]]:
    """``(key path, reason)`` for each key of ``settings`` that ``description`` does not know
    (with the nearest known key suggested) or whose value it rejects; the path goes inside a
    mapping value where the mistake is there (``("timeout", "read")``). ``skip_references``:
    leave ``${NAME}`` and ``"$vault"`` values for after resolution."""
    for key, value in settings.items():
        known = description.key(key)
        if known is None:
            yield (key,), _unknown_key(description, key)
        elif key != "retry" and not (skip_references and has_reference(value)):
            if skip_references and isinstance(value, Mapping):
                value = {part: item for part, item in value.items() if not has_reference(item)}
            found = known.problem_at(value)
            if found is not None:
                yield (key, *found[0]), found[1]


def check_service(
    description: ProviderDescription,
    service: str,
    settings: Mapping[str, Any],
    locate: Callable[[tuple[str, ...]], str | None],
    unknown_keys: bool = False,
) -> None:
    """Check a service's resolved settings as opening it would, before the provider is
    constructed: every key known (unless ``unknown_keys``) and of the right type, and every
    required key given. Raises :class:`ConfigError` with the file (from ``locate``) and the
    key path."""
    prefix = ("external-services", service)

    def fail(path: tuple[str, ...], reason: str) -> ConfigError:
        return ConfigError(reason, file=locate(path), key_path=".".join((*prefix, *path)),
                           service=service)

    for key_path, reason in key_problems(description, settings):
        if not (unknown_keys and description.key(key_path[0]) is None):
            raise fail(key_path, reason)
    for wanted in description.keys:
        if wanted.required and settings.get(wanted.name) in (None, ""):
            raise fail((wanted.name,), f"{description.name} needs {wanted.name!r}: {wanted.help}")
    for requirement in description.requirements:
        if not any(all(settings.get(name) not in (None, "") for name in alternative)
                   for alternative in requirement.any_of):
            raise fail((), requirement.message)


def _unknown_key(description: ProviderDescription, key: str) -> str:
    import difflib  # only for a mistake
    known = [found.name for found in description.keys]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    reason = f"{key!r} is not a key of provider {description.name}"
    if close:
        return f"{reason}; did you mean {close[0]!r}?"
    return f"{reason} (its keys: {', '.join(known) or 'none'}; see 'xtstore providers --keys" \
        f" {description.name}')"
