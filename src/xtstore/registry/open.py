"""Opening a service: from its name in the config to a :class:`~xtstore.store.Store`, and
back again in a worker process.

Which service is opened when none is named: ``XTSTORE_SERVICE`` (configs read from files),
else XT's ``XT_STORE_CREDS`` (only when neither a service nor a config is given; see
:mod:`xtstore.config.environment`), else ``xt-services.storage``. Secrets are resolved in the
process that opens the service, never carried (:class:`ServiceOrigin`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from xtstore.catalog import is_code_path
from xtstore.config import BUILTIN_SOURCE, Config, ConfigSource, as_config, redact
from xtstore.config.environment import (
    XT_CODE_PATH_VARIABLE,
    XT_CREDS_VARIABLE,
    read_xt_environment,
    warn_xt_credentials,
)
from xtstore.config.redact import inline_secrets
from xtstore.config.resolve import ResolvedService, resolve_service, retry_policy
from xtstore.config.validate import check_service
from xtstore.errors import ConfigError, ProviderLoadError, StoreError, Unsupported
from xtstore.interface import StoreInterface
from xtstore.layers import Layer
from xtstore.layers.retry import RetryPolicy
from xtstore.registry.load import ProviderRef, import_ref, load_description, resolve_provider
from xtstore.secrets import redact as redact_text
from xtstore.secrets import register as register_secrets
from xtstore.store import Store

__all__ = [
    "ConfigFiles",
    "ConfigOrigin",
    "ServiceOrigin",
    "XtEnvironment",
    "service_origin",
    "xt_service_origin",
]

KeyPath = tuple[str, ...]


class ConfigOrigin(Protocol):
    """Where a service's settings can be read again, in another process."""

    def origin(self, service: str) -> ServiceOrigin: ...



class ConfigFiles(NamedTuple):
    """The config files merged (absolute paths, lowest first), read again by a worker."""

    files: tuple[str, ...]

    def origin(self, service: str) -> ServiceOrigin:
        return service_origin(service, Config.from_files(self.files))


class XtEnvironment:
    """XT's ``XT_STORE_CREDS`` / ``XT_STORE_CODE_PATH``, read again by a worker. (A plain
    class: a dataclass costs a millisecond of start-up to make.)"""

    def __eq__(self, other: object) -> bool:
        return type(other) is XtEnvironment

    def __hash__(self) -> int:
        return hash(XtEnvironment)

    def origin(self, service: str) -> ServiceOrigin:
        origin = xt_service_origin()
        if origin is None:
            raise ConfigError(
                "is not set in this process, which was given a store opened from it",
                file=f"environment variable {XT_CREDS_VARIABLE}",
                service=service,
            )
        return origin


class ServiceOrigin(NamedTuple):
    """Everything needed to open a service again, in this process or another: the service's
    UNRESOLVED settings (secrets are resolved anew by :meth:`build`, never carried), where
    each key came from, the provider's code path (with the folder it was found in when
    that was a subdirectory of the working directory), and where the settings were read.

    A pickle carries only where the settings were read (``reopen``: the config files' paths,
    or XT's variables), the service name and a fingerprint of its settings with secrets
    redacted; the worker reads them again and refuses with :class:`ConfigError` if the files
    are gone or the service's settings changed. Settings given as a mapping (no ``reopen``)
    are carried as they are, unless a secret is written in them inline: then pickling raises
    :class:`~xtstore.errors.Unsupported`.
    """

    service: str
    settings: dict[str, Any]
    provider: ProviderRef
    search_dir: str | None
    sources: dict[KeyPath, str]
    reopen: ConfigOrigin | None

    def __repr__(self) -> str:
        return f"<ServiceOrigin service={self.service!r} provider={self.provider.code_path!r}>"

    def __reduce__(self) -> tuple[Any, ...]:
        if self.reopen is not None:
            return (_reopen, (self.reopen, self.service, self.search_dir, self.fingerprint()))
        inline = inline_secrets(self.settings)
        if inline:
            key_path = ".".join(("external-services", self.service, *inline[0]))
            raise Unsupported(
                f"cannot pickle the store: {key_path} is a secret written inline in a config"
                " given as a mapping, and a pickle never carries a secret; put the service in"
                ' a config file, or write the value as "$vault" or ${ENV}',
                service=self.service,
            )
        return (
            ServiceOrigin,
            (self.service, self.settings, self.provider, self.search_dir, self.sources, None),
        )

    def fingerprint(self) -> str:
        """A digest of the provider's code path and the settings with secrets redacted, to
        tell whether the config read again still describes the same service."""
        import hashlib  # here: opening a store needs no OpenSSL hashes

        described = repr((self.provider.code_path, redact(self.settings)))
        return hashlib.sha256(described.encode("utf-8")).hexdigest()

    def locate(self, path: KeyPath) -> str | None:
        """The file that set ``path`` (a key path inside the service) or its nearest parent."""
        for end in range(len(path), -1, -1):
            source = self.sources.get(path[:end])
            if source is not None:
                return source
        return None

    def build(self, extra_layers: Sequence[Layer] = ()) -> Store:
        """Resolve the settings, import and construct the provider, and wrap it in a Store
        with ``extra_layers`` between call logging and retry.

        Raises :class:`ConfigError` for an unset ``${NAME}``, a missing secret, a bad
        ``retry`` section or a provider constructor that rejects the settings, and
        :class:`ProviderLoadError` if the provider class cannot be loaded.
        """
        cls, search_dir = import_ref(self.provider, self.search_dir)
        resolved, policy = self.resolve()
        # Before the provider runs: what it and its SDK log while connecting is redacted too.
        register_secrets(resolved.secrets)
        settings = resolved.settings
        settings.setdefault("name", self.service)
        try:
            instance = cls(settings)
        except ConfigError as error:
            raise self._locate_error(error, resolved.secrets) from None
        except StoreError as error:
            raise error.add_context(service=self.service) from None
        except KeyError as error:
            key = str(error.args[0]) if error.args else ""
            raise ConfigError(
                f"provider {self.provider.code_path!r} needs the key {key!r}",
                file=self.locate(()),
                key_path=f"external-services.{self.service}.{key}",
                service=self.service,
            ) from None
        except OSError as error:
            if error.filename is None:
                raise  # a network failure, not a path the settings name
            # A local path in the settings that cannot be a folder: through a file, a file
            # itself, not writable.
            named = _key_naming(settings, os.fsdecode(error.filename))
            where = f".{named}" if named is not None else ""
            raise ConfigError(
                f"cannot use {os.fsdecode(error.filename)!r}:"
                f" {error.strerror or type(error).__name__}",
                file=self.locate((named,) if named is not None else ()),
                key_path=f"external-services.{self.service}{where}",
                service=self.service,
            ) from None
        except (ValueError, TypeError, LookupError) as error:
            # What a constructor raises for settings it cannot use; anything else (a network
            # failure, a bug) propagates as it is.
            reason = redact_text(f"{type(error).__name__}: {error}", resolved.secrets)
            raise ConfigError(
                f"provider {self.provider.code_path!r} rejected the settings: {reason}",
                file=self.locate(()),
                key_path=f"external-services.{self.service}",
                service=self.service,
            ) from None
        origin = self if search_dir == self.search_dir else _with_dir(self, search_dir)
        if isinstance(instance, Store):
            # A built-in provider's public class is a Store already: one stack, not two.
            instance.bind_service(
                self.service, retry=policy, origin=origin, extra_layers=extra_layers
            )
            return instance
        if isinstance(instance, StoreInterface):
            provider = instance
        else:
            from xtstore.adapter import ForeignProvider  # an XT-style class only

            provider = ForeignProvider(instance, self.service)
        return Store(
            provider, self.service, retry=policy, origin=origin, extra_layers=extra_layers
        )

    def check(self) -> None:
        """Every check :meth:`build` makes before constructing the provider, without
        contacting the store (``xtstore config --validate``). Raises like :meth:`build`."""
        import_ref(self.provider, self.search_dir)
        self.resolve()

    def resolve(self) -> tuple[ResolvedService, RetryPolicy]:
        """The settings with every ``${NAME}`` and ``"$vault"`` resolved, checked against the
        provider's description (built-in providers), and the retry policy."""
        resolved = resolve_service(self.service, self.settings, self.locate)
        policy = retry_policy(
            self.service, self.settings.get("retry"), resolved.settings.get("retry"), self.locate
        )
        description = load_description(self.provider.code_path, self.search_dir)
        if description is not None:
            # XT writes XT_STORE_CREDS from a service its own providers accepted, extra keys
            # and all: a drop-in opens it as XT would.
            check_service(description, self.service, resolved.settings, self.locate,
                          unknown_keys=isinstance(self.reopen, XtEnvironment))
        return resolved, policy

    def _locate_error(self, error: ConfigError, secrets: list[str]) -> ConfigError:
        """A provider's ConfigError names a key of its dict, relative to the service
        (docs/contract.md §3); name the file and the full key path instead, and never show a
        secret."""
        prefix = f"external-services.{self.service}"
        relative = error.key_path or ""
        if not relative.startswith(prefix):
            path = tuple(relative.split(".")) if relative else ()
            error.key_path = ".".join((prefix, *path))
            if error.file is None:
                error.file = self.locate(path)
        error.file = error.file or self.locate(())
        error.reason = redact_text(error.reason, secrets)
        error.args = (error.reason,)
        error.add_context(service=self.service)
        return error


def _key_naming(settings: Mapping[str, Any], filename: str) -> str | None:
    """The key whose value is ``filename`` or a folder above or below it (for messages)."""
    for key, value in settings.items():
        if isinstance(value, str) and value:
            path = os.path.abspath(os.path.expanduser(value))
            if path == filename or path.startswith(filename + os.sep) \
                    or filename.startswith(path + os.sep):
                return str(key)
    return None


def _with_dir(origin: ServiceOrigin, search_dir: str | None) -> ServiceOrigin:
    return origin._replace(search_dir=search_dir)


def _reopen(
    source: ConfigOrigin, service: str, search_dir: str | None, fingerprint: str
) -> ServiceOrigin:
    """Unpickling a :class:`ServiceOrigin`: read its settings again where they came from."""
    try:
        origin = source.origin(service)
    except ConfigError as error:
        error.reason = f"{error.reason} (reopening service {service!r} of a pickled store)"
        error.args = (error.reason,)
        raise
    if origin.service != service or origin.fingerprint() != fingerprint:
        raise ConfigError(
            f"the settings of service {service!r} changed after its store was pickled;"
            " open it again with xtstore.get_storage() and pickle that",
            file=origin.locate(()),
            key_path=f"external-services.{service}",
            service=service,
        )
    return _with_dir(origin, search_dir)


def service_origin(service: str | None = None, config: ConfigSource = None) -> ServiceOrigin:
    """The :class:`ServiceOrigin` of a storage service (default: ``xt-services.storage``).

    Raises :class:`ConfigError` for an unknown service, one whose type is not ``storage``,
    or one whose provider is unknown.
    """
    loaded = as_config(config)
    name = service if service is not None else loaded.default_storage_service
    settings = loaded.service(name)
    path = ("external-services", name)
    kind = loaded.service_type(name)
    if kind != "storage":
        raise ConfigError(
            f"service {name!r} has type {kind!r}, not 'storage'",
            file=loaded.file_for((*path, "type")),
            key_path=".".join((*path, "type")),
            service=name,
        )
    try:
        provider = resolve_provider(str(loaded.expanded_at((*path, "provider"))), loaded)
    except ProviderLoadError as error:
        error.file = loaded.file_for((*path, "provider"))
        error.key_path = ".".join((*path, "provider"))
        raise
    if provider.file is None:
        provider = ProviderRef(
            provider.code_path, loaded.file_for((*path, "provider")), ".".join((*path, "provider"))
        )
    sources = loaded.sources_under(path)
    sources[()] = loaded.file_for(path) or BUILTIN_SOURCE
    reopen = ConfigFiles(loaded.files) if loaded.files is not None else None
    return ServiceOrigin(name, settings, provider, None, sources, reopen)


def xt_service_origin() -> ServiceOrigin | None:
    """The service XT's ``XT_STORE_CREDS`` (and ``XT_STORE_CODE_PATH``) describe, or None
    when ``XT_STORE_CREDS`` is unset. Warns once per process
    (:class:`~xtstore.config.environment.XtCredentialsWarning`) that they carry secrets unencrypted.

    The provider is ``XT_STORE_CODE_PATH`` when set (as in XT), else the service's
    ``provider`` looked up among the built-in and entry-point names. Raises
    :class:`ConfigError` naming the variable (never quoting it) when it is malformed.
    """
    xt = read_xt_environment()
    if xt is None:
        return None
    warn_xt_credentials()
    creds = f"environment variable {XT_CREDS_VARIABLE}"
    if xt.code_path is not None:
        code_path_source = f"environment variable {XT_CODE_PATH_VARIABLE}"
        if not is_code_path(xt.code_path):
            raise ProviderLoadError(
                f"{xt.code_path!r} is not a code path of the form package.module.Class",
                file=code_path_source,
            )
        provider = ProviderRef(xt.code_path, code_path_source)
    else:
        try:
            provider = resolve_provider(str(xt.settings["provider"]), Config.from_mapping({}))
        except ProviderLoadError as error:
            error.file, error.key_path = creds, "provider"
            raise
        provider = ProviderRef(provider.code_path, creds, "provider")
    return ServiceOrigin(xt.name, xt.settings, provider, None, {(): creds}, XtEnvironment())
