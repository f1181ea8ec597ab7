"""``store-gcs`` as it describes itself (no import of google-cloud-storage)."""

from __future__ import annotations

from xtstore.describe import TIMEOUT_KEY, ConfigKey, ProviderDescription
from xtstore.values import Capabilities, Support

_MIB = 2**20
CHUNK_QUANTUM = 256 * 1024
"""GCS takes resumable-upload chunks (all but the last) only in multiples of 256 KiB."""

DESCRIPTION = ProviderDescription(
    name="store-gcs",
    code_path="xtstore.providers.gcs.store.GCSStore",
    docs_page="gcs.md",
    summary="Google Cloud Storage (or its emulator): containers are buckets.",
    capabilities=Capabilities(append=Support.EMULATED, snapshots=Support.EMULATED,
                              conditional_writes=Support.NATIVE, server_side_copy=Support.NATIVE,
                              metadata=Support.NATIVE, content_types=True,
                              create_metadata=True, listing_metadata=True),
    extra="gcs",
    sdk_modules={"google.cloud.storage": ("google-cloud-storage", "gcs"),
                 "google": ("google-cloud-storage", "gcs")},
    keys=(
        ConfigKey("project", "string", "The Google Cloud project buckets are created and"
                  " listed in (default: the credentials' project)."),
        ConfigKey("endpoint-url", "string", "The store's URL, e.g. http://127.0.0.1:4443 for"
                  " a local GCS emulator; omit for Google Cloud Storage."),
        ConfigKey("credentials", "string", "'default' (Application Default Credentials),"
                  " 'anonymous' (an emulator, public buckets) or the path of a service account's"
                  " JSON key file.", default="default"),
        ConfigKey("location", "string", "Where new buckets are created, e.g. EU (default:"
                  " GCS's, US)."),
        ConfigKey("chunk-size", "integer", "Resumable uploads and writable open_blob send"
                  " chunks of this size, the most one upload holds in memory (bytes, a multiple"
                  " of 256 KiB).", default=8 * _MIB, minimum=CHUNK_QUANTUM),
        ConfigKey("single-upload-limit", "integer", "Uploads of a known size up to this are"
                  " one request; larger or unknown ones resumable (bytes).",
                  default=8 * _MIB, minimum=0),
        ConfigKey("append-compose-min-size", "integer", "Appends to blobs from this size on"
                  " compose the new piece server-side instead of rewriting the blob (bytes).",
                  default=4 * _MIB, minimum=0),
        TIMEOUT_KEY,
    ),
    notes=(
        "Create-only and conditional writes are generation preconditions; appends are"
        " conditional rewrites, or a server-side compose for large blobs; snapshots are"
        " copies under a reserved prefix.",
        "google-cloud-storage's own retries are off: xtstore's retry layer is the only one.",
    ),
)
