"""Turns an ``azure-blob`` service config into a ``BlobServiceClient`` (docs/contract.md §4).

Accepted forms, first match wins:

* ``connection-string``;
* ``account`` (an account name, or an endpoint URL such as
  ``http://127.0.0.1:10000/devstoreaccount1``) with ``key``, ``sas-token`` or
  ``credential: "default"`` (azure-identity) or ``credential: "anonymous"``;
* XT's form: no ``account``, ``name`` is the account and ``key`` its key.

The SDK's own retry is switched off (``retry_total=0``, even over ``client-options``): xtstore's
retry layer is the only one, so attempts never multiply, except that azure-storage-blob's
downloader re-reads a broken body up to 3 times, 1 s apart (a fixed loop, not configurable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from xtstore.describe import Timeouts
from xtstore.errors import ConfigError
from xtstore.providers.azure.description import DESCRIPTION

__all__ = ["AzureClientSpec", "build_service_client", "client_spec"]

_TUNING_KEYS = {
    "max-single-put-size": "max_single_put_size",
    "max-block-size": "max_block_size",
    "max-single-get-size": "max_single_get_size",
    "max-chunk-get-size": "max_chunk_get_size",
}


@dataclass(frozen=True)
class AzureClientSpec:
    """Everything needed to build the client; ``secrets`` are the values to keep out of text."""

    account_url: str | None
    connection_string: str | None = field(default=None, repr=False)
    credential: Any = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    client_kwargs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    description: str = ""


def _text(config: Mapping[str, Any], key: str, service: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("must be a non-empty string", key_path=key,
                          service=service)
    return value.strip()


def _number(config: Mapping[str, Any], key: str, service: str) -> int | float | None:
    value = config.get(key)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise ConfigError(f"must be a positive number, not {value!r}",
                          key_path=key, service=service)
    return int(number) if number.is_integer() else number


def account_url_and_name(account: str) -> tuple[str, str]:
    """``("https://<name>.blob.core.windows.net", name)`` for a name; for an endpoint URL, the
    URL and the account in it (first path segment, as emulators use, else the first host
    label)."""
    if "://" not in account:
        return f"https://{account}.blob.core.windows.net", account
    parts = urlsplit(account)
    segments = [segment for segment in parts.path.split("/") if segment]
    name = segments[0] if segments else (parts.hostname or "").split(".")[0]
    return account.rstrip("/"), name


def _default_credential(service: str) -> Any:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise ConfigError(
            "credential 'default' needs azure-identity: pip install 'xtstore[azure-identity]'",
            key_path="credential", service=service,
        ) from None
    return DefaultAzureCredential()


def client_spec(config: Mapping[str, Any]) -> AzureClientSpec:
    """Read the authentication and tuning keys of an ``azure-blob`` service. Raises
    ``ConfigError`` naming the key when the config is incomplete or malformed."""
    service = str(config.get("name") or "azure-blob")
    kwargs: dict[str, Any] = {}
    for option, argument in _TUNING_KEYS.items():
        number = _number(config, option, service)
        if number is not None:
            kwargs[argument] = int(number)
    timeouts = Timeouts.of_service(DESCRIPTION, config)
    kwargs["connection_timeout"] = timeouts.connect
    kwargs["read_timeout"] = timeouts.read
    extra = config.get("client-options") or {}
    if not isinstance(extra, Mapping):
        raise ConfigError("must be a mapping of BlobServiceClient keyword arguments",
                          key_path="client-options", service=service)
    kwargs.update(extra)
    kwargs["retry_total"] = 0  # the xtstore retry layer is the only retry

    connection_string = _text(config, "connection-string", service)
    if connection_string is not None:
        return AzureClientSpec(
            account_url=None, connection_string=connection_string,
            secrets=(connection_string,),  # its AccountKey / signature: secrets.variants
            client_kwargs=kwargs, description="connection string",
        )

    key = _text(config, "key", service)
    sas_token = _text(config, "sas-token", service)
    credential_kind = _text(config, "credential", service)
    account = _text(config, "account", service)
    if account is None and key is not None and config.get("name"):
        account = str(config["name"])  # XT's form: the service is named after the account
    if account is None:
        raise ConfigError(
            "azure-blob needs 'connection-string', or 'account' with 'key', 'sas-token' or "
            "'credential: default', or XT's form ('name' = account, 'key')",
            service=service,
        )
    url, name = account_url_and_name(account)
    if key is not None:
        from azure.core.credentials import AzureNamedKeyCredential

        credential: Any = AzureNamedKeyCredential(name, key)
        secrets: tuple[str, ...] = (key,)
        how = "account key"
    elif sas_token is not None:
        from azure.core.credentials import AzureSasCredential

        token = sas_token.lstrip("?")
        credential, secrets, how = AzureSasCredential(token), (token,), "SAS token"
    elif credential_kind == "default":
        credential, secrets, how = _default_credential(service), (), "azure-identity"
    elif credential_kind == "anonymous":
        credential, secrets, how = None, (), "anonymous"
    else:
        raise ConfigError(
            "azure-blob 'account' needs 'key', 'sas-token' or 'credential' "
            "('default' or 'anonymous')", service=service,
        )
    return AzureClientSpec(account_url=url, credential=credential, secrets=secrets,
                           client_kwargs=kwargs, description=f"{url} ({how})")


_SDK_TRANSPORT_DEFAULTS = {
    # azure-storage-blob's own defaults for the transport it would build itself.
    "connection_timeout": 20,
    "read_timeout": 60,
    "connection_data_block_size": 256 * 1024,
}


def build_service_client(spec: AzureClientSpec, transport_class: Any = None) -> Any:
    """The ``BlobServiceClient`` for ``spec``; its transport is a ``transport_class`` (a
    ``RequestsTransport``) built as the SDK would build its own, unless ``client-options``
    name a ``transport``."""
    from azure.storage.blob import BlobServiceClient

    kwargs = dict(spec.client_kwargs)
    if transport_class is not None and "transport" not in kwargs:
        kwargs["transport"] = transport_class(**{**_SDK_TRANSPORT_DEFAULTS, **kwargs})
    if spec.connection_string is not None:
        return BlobServiceClient.from_connection_string(spec.connection_string, **kwargs)
    return BlobServiceClient(spec.account_url or "", credential=spec.credential, **kwargs)
