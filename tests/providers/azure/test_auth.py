"""Every authentication form of azure-blob against Azurite, and secrets kept out of text."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

import xtstore
from tests.servers.azurite import ACCOUNT, KEY, Azurite
from xtstore.errors import (
    AccessDenied,
    BlobNotFound,
    ConfigError,
    ContainerNotFound,
    StoreError,
    TransientError,
)
from xtstore.providers.azure.store import AzureBlobProvider


def _sas() -> str:
    return generate_account_sas(
        ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True,
                              create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=2),
    )


def _round_trip(store: Any, container: str) -> None:
    store.create_blob(container, "auth/probe.txt", "ok")
    assert store.get_blob_text(container, "auth/probe.txt") == "ok"
    assert store.list_blobs(container, "auth") == ["auth/probe.txt"]


def test_connection_string(make_store: Callable[..., Any], container: str) -> None:
    _round_trip(make_store(), container)


def test_account_endpoint_with_key(
    make_store: Callable[..., Any], azurite: Azurite, container: str
) -> None:
    _round_trip(make_store(account=azurite.endpoint, key=KEY), container)


def test_account_endpoint_with_sas_token(
    make_store: Callable[..., Any], azurite: Azurite, container: str
) -> None:
    _round_trip(make_store(account=azurite.endpoint, **{"sas-token": "?" + _sas()}), container)


def test_key_from_vault_environment(
    make_store: Callable[..., Any], azurite: Azurite, container: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XTSTORE_SECRET_AZ_KEY", KEY)
    store = make_store(account=azurite.endpoint, key="$vault")
    _round_trip(store, container)
    # Moving the store to a worker carries no secret: it is re-resolved from the environment.
    payload = pickle.dumps(store)
    assert KEY.encode() not in payload
    assert pickle.loads(payload).get_blob_text(container, "auth/probe.txt") == "ok"


def test_wrong_key_is_access_denied(make_store: Callable[..., Any], azurite: Azurite) -> None:
    wrong = KEY[:-8] + "AAAAAAA="
    store = make_store(account=azurite.endpoint, key=wrong)
    with pytest.raises(AccessDenied) as caught:
        store.list_containers()
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)


@pytest.mark.parametrize("provider", ["azure-blob-21", "azure-blob-210"])
def test_xt_form_name_is_the_account(
    provider: str, azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XT's config, unchanged: the service is named after the account, ``key`` is its key."""
    config = {"external-services": {ACCOUNT: {"type": "storage", "provider": provider,
                                              "key": KEY}}}
    store = xtstore.get_storage(ACCOUNT, config=config)
    client = store.provider.service_client  # type: ignore[attr-defined]
    assert client.url.rstrip("/") == f"https://{ACCOUNT}.blob.core.windows.net"
    assert client.account_name == ACCOUNT

    # The real account is not reachable from a test, so send its requests to Azurite with the
    # real Host header (Azurite takes the account from it); the Shared Key signature the
    # provider computed for the real account must verify there.
    host = f"{ACCOUNT}.blob.core.windows.net"
    original_send = RequestsTransport.send

    def to_azurite(self: RequestsTransport, request: Any, **kwargs: Any) -> Any:
        if request.url.startswith(f"https://{host}/"):
            request.url = f"http://127.0.0.1:{azurite.port}/" + request.url[len(host) + 9:]
            request.headers["Host"] = host
        return original_send(self, request, **kwargs)

    monkeypatch.setattr(RequestsTransport, "send", to_azurite)
    _round_trip(store, container)


def test_default_credential_builds_an_identity_client() -> None:
    store = AzureBlobProvider({"name": "az", "account": "someaccount", "credential": "default"})
    client = store.service_client
    assert client.url.startswith("https://someaccount.blob.core.windows.net")
    assert type(client.credential).__name__ == "DefaultAzureCredential"


def test_anonymous_and_tuning_keys() -> None:
    store = AzureBlobProvider({"name": "az", "account": "http://127.0.0.1:1/acct",
                            "credential": "anonymous", "timeout": 7, "max-concurrency": 2,
                            "max-block-size": 1048576})
    client = store.service_client
    assert client.credential is None and client.account_name == "acct"
    assert client._config.max_block_size == 1048576


@pytest.mark.parametrize(
    "config",
    [
        {"name": "az"},
        {"name": "az", "account": "someaccount"},
        {"name": "az", "account": "someaccount", "credential": "magic"},
        {"name": "az", "connection-string": "not a connection string"},
        {"name": "az", "account": "a", "key": KEY, "max-block-size": "huge"},
    ],
)
def test_incomplete_config_is_a_config_error(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        AzureBlobProvider(config)
    assert KEY not in str(caught.value)


def test_secrets_never_in_repr_errors_or_logs(
    make_store: Callable[..., Any], azurite: Azurite, container: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sas = _sas()
    signature = next(p for p in sas.split("&") if p.startswith("sig=")).partition("=")[2]
    stores = [
        make_store(account=azurite.endpoint, key=KEY),
        make_store(account=azurite.endpoint, **{"sas-token": sas}),
        make_store(),  # connection string, which contains the key
        # Nothing listens here: the transport error quotes the signed URL.
        make_store(account="http://127.0.0.1:9/devstoreaccount1", **{"sas-token": sas}),
    ]
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        for store in stores:
            store.set_retry(0)
            for action in (
                lambda s=store: s.get_blob_text(container, "missing.txt"),
                lambda s=store: s.list_blobs("no-such-container"),
            ):
                with pytest.raises(StoreError) as caught:
                    action()
                errors.append(caught.value)
            _ = [repr(store), repr(store.provider), str(store)]
    assert {type(e) for e in errors} == {BlobNotFound, ContainerNotFound, TransientError}
    texts = [repr(s) + repr(s.provider) for s in stores]
    texts += [str(e) + repr(e) + str(e.__cause__) for e in errors]
    texts.append(caplog.text)
    for text in texts:
        assert KEY not in text
        assert signature not in text
    assert caplog.text  # azure-core's logging policy did log the requests
