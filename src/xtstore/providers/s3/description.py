"""``store-s3`` as it describes itself (no import of boto3)."""

from __future__ import annotations

from xtstore.describe import TIMEOUT_KEY, ConfigKey, ProviderDescription
from xtstore.values import Capabilities, Support

_MIB = 2**20
MIN_PART_SIZE = 5 * _MIB
"""S3's smallest allowed multipart part (all parts but the last)."""

DESCRIPTION = ProviderDescription(
    name="store-s3",
    code_path="xtstore.providers.s3.store.S3Store",
    former_code_paths=("xtstore.providers.s3.S3Store",),
    docs_page="s3.md",
    summary="Amazon S3 and S3-compatible stores (MinIO, moto, ...): containers are buckets.",
    capabilities=Capabilities(append=Support.EMULATED, snapshots=Support.EMULATED,
                              conditional_writes=Support.NATIVE, server_side_copy=Support.NATIVE,
                              metadata=Support.NATIVE, content_types=True,
                              create_metadata=True),
    extra="s3",
    sdk_modules={"boto3": ("boto3", "s3"), "botocore": ("boto3", "s3"),
                 "s3transfer": ("boto3", "s3")},
    keys=(
        ConfigKey("endpoint-url", "string", "The store's URL, e.g. http://127.0.0.1:9000 for"
                  " MinIO; omit for AWS."),
        ConfigKey("region", "string", "E.g. us-east-1; buckets are created in it (default:"
                  " the standard AWS chain's)."),
        ConfigKey("access-key-id", "string", "The access key id (with secret-access-key;"
                  " default: the standard AWS chain)."),
        ConfigKey("secret-access-key", "string", "The secret access key.", secret=True),
        ConfigKey("session-token", "string", "A session token for temporary credentials.",
                  secret=True),
        ConfigKey("addressing-style", "string", "path (http://host/bucket/key) or virtual"
                  " (http://bucket.host/key); default: boto3's choice.",
                  choices=("path", "virtual", "auto")),
        ConfigKey("multipart-threshold", "integer", "Uploads from this size on are multipart"
                  " and downloads ranged (bytes, at least 5 MiB).",
                  default=8 * _MIB, minimum=MIN_PART_SIZE),
        ConfigKey("multipart-chunksize", "integer", "Part and range size (bytes, at least"
                  " 5 MiB, S3's smallest part).", default=8 * _MIB, minimum=MIN_PART_SIZE),
        ConfigKey("max-concurrency", "integer", "Parallel part requests per transfer.",
                  default=10, minimum=1),
        ConfigKey("append-compose-min-size", "integer", "Appends to blobs from this size on"
                  " copy parts server-side instead of rewriting (bytes).",
                  default=MIN_PART_SIZE, minimum=MIN_PART_SIZE),
        TIMEOUT_KEY,
        ConfigKey("connect-timeout", "seconds", "The earlier spelling of timeout.connect.",
                  alias_of="timeout.connect"),
        ConfigKey("read-timeout", "seconds", "The earlier spelling of timeout.read.",
                  alias_of="timeout.read"),
    ),
    notes=(
        "Appends are conditional rewrites (or server-side part copies for large blobs);"
        " snapshots are copies under a reserved prefix.",
        "botocore's and s3transfer's own retries are off: xtstore's retry layer is the"
        " only one.",
    ),
)
