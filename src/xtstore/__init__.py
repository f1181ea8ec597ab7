"""xtstore: one storage interface for containers and blobs, with pluggable providers.

>>> import xtstore
>>> store = xtstore.get_storage()          # the configured default service
>>> store.create_container("runs")
>>> store.create_blob("runs", "exp1/log.txt", "hello\\n")

Cloud SDKs are imported only when a service that uses them is opened.
"""

from __future__ import annotations

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
