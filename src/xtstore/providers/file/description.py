"""``store-file`` as it describes itself (no import of the provider's code)."""

from __future__ import annotations

from xtstore.describe import ConfigKey, ProviderDescription
from xtstore.values import Capabilities, Support

DESCRIPTION = ProviderDescription(
    name="store-file",
    code_path="xtstore.providers.file.store.FileStore",
    former_code_paths=("xtstore.providers.file.FileStore",),
    docs_page="file.md",
    summary="A local or shared folder; every container a subfolder, every blob a file.",
    capabilities=Capabilities(append=Support.NATIVE, snapshots=Support.NATIVE,
                              conditional_writes=Support.NATIVE, server_side_copy=Support.NATIVE,
                              metadata=Support.NATIVE, local=True,
                              content_types=True, create_metadata=True,
                              listing_metadata=True, download_properties=True),
    keys=(
        ConfigKey("path", "string", "The folder that holds the containers (~ expanded;"
                  " created if missing).", required=True),
        ConfigKey("checksum", "string", "crc32: keep a CRC-32 of every blob written whole"
                  " (with its file, in an extended attribute) and check it on reads of the whole"
                  " blob, on downloads and on open_blob streams read in order to their end;"
                  " none: the file system's own integrity only.",
                  default="none", choices=("none", "crc32")),
    ),
    notes=(
        "Native append, snapshots, conditional writes, server-side copy and metadata.",
        "Shared between processes and machines that see the same folder.",
    ),
)
