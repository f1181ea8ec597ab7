"""``store-fsspec`` as it describes itself (no import of fsspec)."""

from __future__ import annotations

from xtstore.describe import TIMEOUT_KEY, ConfigKey, ProviderDescription
from xtstore.values import Capabilities, Support

DESCRIPTION = ProviderDescription(
    name="store-fsspec",
    code_path="xtstore.providers.fsspec_store.store.FsspecStore",
    former_code_paths=("xtstore.providers.fsspec.FsspecStore",
                       "xtstore.providers.fsspec_store.FsspecStore"),
    docs_page="fsspec.md",
    summary="Any fsspec filesystem URL (memory://, file://, sftp://, gcs://, ...) as a store.",
    capabilities=Capabilities(append=Support.EMULATED, snapshots=Support.EMULATED,
                              conditional_writes=Support.EMULATED,
                              server_side_copy=Support.NATIVE, metadata=Support.EMULATED),
    extra="fsspec",
    sdk_modules={"fsspec": ("fsspec", "fsspec")},
    keys=(
        ConfigKey("url", "string", "The filesystem URL whose path is the store's base"
                  " folder, e.g. memory://base.", required=True),
        ConfigKey("options", "mapping", "Keyword arguments for the fsspec filesystem"
                  " (storage options)."),
        ConfigKey("lock-timeout", "number", "Seconds after which a lock left by a dead"
                  " writer is broken.", default=60),
        TIMEOUT_KEY,
    ),
    notes=(
        "Conditional writes and appends need exclusive create; a backend without it reports"
        " them UNSUPPORTED.",
        "'timeout' is given to the filesystems that take one (ftp://, sftp://); elsewhere"
        " give the filesystem's own option under 'options'.",
        "sftp:// needs paramiko: pip install 'xtstore[sftp]'.",
    ),
)
