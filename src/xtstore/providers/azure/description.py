"""``azure-blob`` as it describes itself (no import of azure-storage-blob)."""

from __future__ import annotations

from xtstore.describe import TIMEOUT_KEY, ConfigKey, ProviderDescription, Requirement
from xtstore.values import Capabilities, Support

DESCRIPTION = ProviderDescription(
    name="azure-blob",
    aliases=("azure-blob-21", "azure-blob-210"),
    code_path="xtstore.providers.azure.store.AzureBlobStore",
    former_code_paths=("xtstore.providers.azure_blob.AzureBlobStore",
                       "xtstore.providers.azure.AzureBlobStore"),
    docs_page="azure.md",
    summary="Azure Blob Storage (or Azurite): containers are containers, blobs block or"
    " append blobs.",
    capabilities=Capabilities(append=Support.NATIVE, snapshots=Support.NATIVE,
                              conditional_writes=Support.NATIVE, server_side_copy=Support.NATIVE,
                              metadata=Support.NATIVE, content_types=True,
                              create_metadata=True, listing_metadata=True,
                              download_properties=True),
    extra="azure",
    sdk_modules={"azure.identity": ("azure-identity", "azure-identity"),
                 "azure": ("azure-storage-blob", "azure")},
    keys=(
        ConfigKey("connection-string", "string", "A full connection string (wins over every"
                  " other form).", secret=True),
        ConfigKey("account", "string", "The account name, or an endpoint URL such as"
                  " http://127.0.0.1:10000/devstoreaccount1."),
        ConfigKey("key", "string", "The account key (with 'account', or XT's form where"
                  " 'name' is the account).", secret=True),
        ConfigKey("sas-token", "string", "A SAS token for 'account'.", secret=True),
        ConfigKey("credential", "string", "'default' (azure-identity's DefaultAzureCredential)"
                  " or 'anonymous' (public containers).", choices=("default", "anonymous")),
        ConfigKey("max-concurrency", "integer", "Parallel requests for one large upload or"
                  " download.", default=4),
        ConfigKey("max-single-put-size", "number", "Larger uploads are sent as staged blocks"
                  " plus one commit (bytes; the SDK's default is 64 MiB)."),
        ConfigKey("max-block-size", "number", "Size of each staged block (bytes; the SDK's"
                  " default is 4 MiB)."),
        ConfigKey("max-single-get-size", "number", "Size of the first GET of a download"
                  " (bytes; the SDK's default is 32 MiB)."),
        ConfigKey("max-chunk-get-size", "number", "Size of each later ranged GET (bytes; the"
                  " SDK's default is 4 MiB)."),
        ConfigKey("max-streamed-get-size", "integer", "get_blob_to_path downloads a blob up to"
                  " this size in one streamed GET, a larger one's first this many bytes in"
                  " that GET and the rest in parallel ranged GETs (bytes).",
                  default=64 * 1024 * 1024),
        TIMEOUT_KEY,
        ConfigKey("client-options", "mapping", "More keyword arguments for BlobServiceClient"
                  " (from Python, e.g. {'proxies': {...}})."),
    ),
    requirements=(
        Requirement(
            any_of=(("connection-string",), ("key",), ("account", "sas-token"),
                    ("account", "credential")),
            message="azure-blob needs 'connection-string', or 'account' with 'key',"
            " 'sas-token' or 'credential: default', or XT's form ('name' = account, 'key')",
        ),
    ),
    notes=(
        "Appends are native append blobs; snapshots, conditional writes, server-side copy"
        " and metadata are native.",
        "The SDK's own retries are off: xtstore's retry layer is the only one (but for the"
        " SDK's downloader, which re-reads a broken body up to 3 times inside one try).",
    ),
)
