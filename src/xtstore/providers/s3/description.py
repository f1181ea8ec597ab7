"""``store-s3`` as it describes itself (no import of boto3)."""

from __future__ import annotations

from xtstore.describe import TIMEOUT_KEY, ConfigKey, ProviderDescription
from xtstore.values import Capabilities, Support

_MIB = 2**20
MIN_PART_SIZE = 5 * _MIB
"""S3's smallest allowed multipart part (all parts but the last)."""
SINGLE_GET_LIMIT = 64 * _MIB
"""The default ``max-streamed-get-size``: downloads up to it are one streamed GetObject, larger
ones parallel ranged GETs of ``multipart-chunksize``.

On moto over loopback one stream beat 8 MiB ranges on 10 threads at every size measured, up
to 256 MiB (4x less wall time at 256 MiB, 2-3x at 16-64 MiB; docs/performance.md, "2.6: one
GET or parallel ranges"): a loopback stream is limited neither by latency nor by one TCP
window, and ranges cost a request and a thread hand-off each. The assumption for real
networks: one TCP stream from S3 carries some 50-100 MB/s, so a 64 MiB object takes about a
second in one stream, and beyond that parallel ranges (each its own stream) win by close to
their number; below it the saving is a fraction of a second against the requests they add.
Raise it for a store on the same host or a fast LAN (MinIO, moto), lower it for a long fat
link."""

DESCRIPTION = ProviderDescription(
    name="store-s3",
    code_path="xtstore.providers.s3.store.S3Store",
    former_code_paths=("xtstore.providers.s3.S3Store",),
    docs_page="s3.md",
    summary="Amazon S3 and S3-compatible stores (MinIO, moto, ...): containers are buckets.",
    capabilities=Capabilities(append=Support.EMULATED, snapshots=Support.EMULATED,
                              conditional_writes=Support.NATIVE, server_side_copy=Support.NATIVE,
                              metadata=Support.NATIVE, content_types=True,
                              create_metadata=True, download_properties=True),
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
        ConfigKey("max-streamed-get-size", "integer", "Downloads up to this size are one"
                  " streamed GET, larger ones parallel ranged GETs (bytes).",
                  default=SINGLE_GET_LIMIT, minimum=0),
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
