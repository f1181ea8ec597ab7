"""The provider registry and ``get_storage()``: from a service name to a configured
:class:`~xtstore.store.Store`.

Provider names are looked up in ``providers.storage`` (the config wins), then the built-in
names, then the ``xtstore.storage_providers`` entry points; a ``provider:`` value may also be
a code path itself (:mod:`xtstore.registry.load`). Classes are imported only when a service
that uses them is opened (:mod:`xtstore.registry.open`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from xtstore.catalog import ENTRY_POINT_GROUP, builtin_providers
from xtstore.config import ConfigSource, as_config
from xtstore.config.environment import CONFIG_VARIABLE, SERVICE_VARIABLE, environment_service
from xtstore.errors import Unsupported
from xtstore.layers import Layer
from xtstore.registry.load import (
    ProviderRef,
    known_providers,
    load_provider_class,
    provider_description,
    resolve_provider,
)
from xtstore.registry.open import (
    ConfigFiles,
    ConfigOrigin,
    ServiceOrigin,
    XtEnvironment,
    service_origin,
    xt_service_origin,
)
from xtstore.store import Store

__all__ = [
    "BUILTIN_PROVIDERS",
    "ENTRY_POINT_GROUP",
    "ConfigFiles",
    "ConfigOrigin",
    "ConfigSource",
    "ProviderRef",
    "ServiceOrigin",
    "XtEnvironment",
    "as_config",
    "get_storage",
    "known_providers",
    "load_provider_class",
    "node_environment",
    "provider_description",
    "resolve_provider",
    "service_origin",
    "xt_service_origin",
]


def get_storage(
    service: str | None = None, config: ConfigSource = None, layers: Sequence[Layer] = ()
) -> Store:
    """The configured store for ``service``, with ``layers`` (see :mod:`xtstore.layers`)
    added to its stack between call logging and retry, the first outermost.

    With no ``service``: ``XTSTORE_SERVICE`` if set (and ``config`` is not a mapping), else,
    when ``config`` is not given either, the service XT's ``XT_STORE_CREDS`` describes (with
    a warning that it carries secrets unencrypted), else ``xt-services.storage``.

    ``config`` may be None (read the config files), a file path (those files with it on top,
    like ``--config``), a mapping (built-in defaults plus it; no file is read) or a
    :class:`~xtstore.config.Config`. The store can be pickled to a worker process, which
    reads the config files (or XT's variables) again there and resolves the secrets anew; a
    pickle never holds a secret (see :class:`ServiceOrigin`). The layers go with it by
    value; pickling a store with a layer that cannot be pickled raises
    :class:`~xtstore.errors.Unsupported` naming the layer.

    Raises :class:`ConfigError` (file and key path named) for any config mistake, and
    :class:`ProviderLoadError` when the provider class cannot be loaded.
    """
    if service is None and config is None and environment_service() is None:
        origin = xt_service_origin()
        if origin is not None:
            return origin.build(layers)
    return service_origin(service, config).build(layers)


def node_environment(service: str | None = None, config: ConfigSource = None) -> dict[str, str]:
    """The environment variables with which a process elsewhere (a compute node, a job)
    opens the same store with ``xtstore.get_storage()``: ``XTSTORE_SERVICE`` (``service``,
    else the default storage service) and ``XTSTORE_CONFIG`` (the absolute paths of the
    config files merged, separated by ``os.pathsep``; absent when there are none).

    No secret is in them: the node resolves ``"$vault"`` and ``${NAME}`` itself, so it needs
    the same files (at the same paths) and its own ``XTSTORE_SECRET_<SERVICE>_<KEY>``
    variables or secrets file. Raises :class:`~xtstore.errors.Unsupported` for a config given
    as a mapping (a node cannot see it), and :class:`ConfigError` for an unknown service.
    """
    loaded = as_config(config)
    if loaded.files is None:
        raise Unsupported(
            "a config given as a mapping cannot be seen by another process; put it in a"
            " config file (with secrets as \"$vault\" or ${ENV}) and pass its path",
            service=service,
        )
    origin = service_origin(service, loaded)
    environment = {SERVICE_VARIABLE: origin.service}
    if loaded.files:
        environment[CONFIG_VARIABLE] = os.pathsep.join(loaded.files)
    return environment


def __getattr__(name: str) -> object:
    if name == "BUILTIN_PROVIDERS":  # read from the descriptions only when asked for
        return builtin_providers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
