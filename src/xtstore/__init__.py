"""xtstore: one storage interface for containers and blobs, with pluggable providers.

>>> import xtstore
>>> store = xtstore.get_storage()          # the configured default service
>>> store.create_container("runs")
>>> store.create_blob("runs", "exp1/log.txt", "hello\\n")

Cloud SDKs are imported only when a service that uses them is opened, and every module behind
the names below (errors, values, configuration, registry, store) when one of its names is
first used (PEP 562), so that ``import xtstore.cli.main`` or ``import xtstore.errors`` loads
only what it needs (``xtstore --version`` loads none of them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xtstore.config import load_config
    from xtstore.config.environment import XtCredentialsWarning
    from xtstore.errors import (
        AccessDenied,
        BlobAlreadyExists,
        BlobNotFound,
        ConfigError,
        ContainerAlreadyExists,
        ContainerNotFound,
        IntegrityError,
        InvalidArgument,
        InvalidContent,
        InvalidName,
        PreconditionFailed,
        ProviderLoadError,
        StoreError,
        TransientError,
        Unsupported,
    )
    from xtstore.interface import StoreInterface
    from xtstore.registry import get_storage, node_environment
    from xtstore.store import Store
    from xtstore.values import (
        BlobInfo,
        BlobProperties,
        Capabilities,
        ContainerInfo,
        SnapshotInfo,
        Support,
    )

__version__ = "0.1.0"

# The public names, each with the module that defines it, imported on first use.
_LAZY = {
    **dict.fromkeys(
        ("AccessDenied", "BlobAlreadyExists", "BlobNotFound", "ConfigError",
         "ContainerAlreadyExists", "ContainerNotFound", "IntegrityError", "InvalidArgument",
         "InvalidContent", "InvalidName", "PreconditionFailed", "ProviderLoadError",
         "StoreError", "TransientError", "Unsupported"),
        "xtstore.errors",
    ),
    **dict.fromkeys(
        ("BlobInfo", "BlobProperties", "Capabilities", "ContainerInfo", "SnapshotInfo",
         "Support"),
        "xtstore.values",
    ),
    "load_config": "xtstore.config",
    "XtCredentialsWarning": "xtstore.config.environment",
    "StoreInterface": "xtstore.interface",
    "get_storage": "xtstore.registry",
    "node_environment": "xtstore.registry",
    "Store": "xtstore.store",
}

__all__ = [
    "AccessDenied",
    "BlobAlreadyExists",
    "BlobInfo",
    "BlobNotFound",
    "BlobProperties",
    "Capabilities",
    "ConfigError",
    "ContainerAlreadyExists",
    "ContainerInfo",
    "ContainerNotFound",
    "IntegrityError",
    "InvalidArgument",
    "InvalidContent",
    "InvalidName",
    "PreconditionFailed",
    "ProviderLoadError",
    "SnapshotInfo",
    "Store",
    "StoreError",
    "StoreInterface",
    "Support",
    "TransientError",
    "Unsupported",
    "XtCredentialsWarning",
    "get_storage",
    "load_config",
    "node_environment",
]


# Modules that ``import xtstore`` loaded before their names became lazy, so that
# ``xtstore.errors.StoreError`` still works after a bare ``import xtstore``.
_SUBMODULES = ("errors", "values")


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"xtstore.{name}")
    if name not in _LAZY:
        raise AttributeError(f"module 'xtstore' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later uses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
