"""A pickled store never holds a secret, also one written inline in the config file: it
carries where the config came from (the files' paths, or XT's variables) and the service
name, and the worker reads them again. A store from a mapping pickles only without an
inline secret. Reprs and errors never show a secret either."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import ConfigError, Unsupported

PASSWORD = "pw-41f0c2aa-INLINE-PASSWORD"
ACCOUNT_KEY = base64.b64encode(b"inline-account-key-6d2f0b1e-AZURE").decode()
S3_SECRET = "s3-8be21f07-INLINE-SECRET-ACCESS-KEY"

# A user provider in XT's extensions/ folder: store-file that opens only with its password.
LOCKED_STORE = f'''
from xtstore.providers.file.store import FileProvider


class LockedStore(FileProvider):
    def __init__(self, config):
        if config.get("password") != {PASSWORD!r}:
            raise ValueError("wrong password")
        super().__init__(config)


class KeyQuotingStore(FileProvider):
    """Rejects its connection string quoting only the AccountKey part, as an SDK may."""

    def __init__(self, config):
        parts = dict(part.split("=", 1) for part in config["connection-string"].split(";"))
        raise ValueError("bad AccountKey " + parts["AccountKey"])
'''

LOCKED = "extensions.locked_store.LockedStore"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with the extension; its modules are forgotten after the test."""
    work = tmp_path / "project"
    (work / "extensions").mkdir(parents=True)
    (work / "extensions" / "locked_store.py").write_text(LOCKED_STORE, encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield work
    for name in [name for name in sys.modules if name.startswith("extensions")]:
        del sys.modules[name]


def locked_config(project: Path, root: Path, **extra: str) -> Path:
    """A config file whose service ``locked`` has its password (and ``extra``) inline."""
    settings = {"type": "storage", "provider": LOCKED, "path": str(root),
                "password": PASSWORD, **extra}
    config = project / "team.yaml"
    config.write_text(
        "external-services:\n"
        f"    locked: {json.dumps(settings)}\n"
        "    other: {type: storage, provider: store-memory}\n",
        encoding="utf-8",
    )
    return config


def assert_no_secret(payload: bytes, *secrets: str) -> None:
    for secret in secrets:
        assert secret.encode() not in payload
        assert repr(secret).encode() not in payload


def _use_in_worker(payload: bytes) -> tuple[str, str, str]:
    """Runs in a spawned process, in another working directory."""
    os.chdir("/")
    store = pickle.loads(payload)
    text = store.get_blob_text("runs", "from-parent.txt")
    store.create_blob("runs", "from-worker.txt", "written by the worker")
    return store.service_name, type(store.provider).__name__, text


def in_worker(payload: bytes) -> tuple[str, str, str]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: tuple[str, str, str] = pool.apply_async(_use_in_worker, (payload,)).get(120)
    return result


# ---- secrets written inline in a config file ----


@pytest.mark.timeout(180)
def test_a_user_provider_with_an_inline_password_pickles_without_it_and_works_in_a_worker(
    project: Path, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    store = xtstore.get_storage("locked", str(locked_config(project, root)))
    store.create_container("runs")
    store.create_blob("runs", "from-parent.txt", "written by the parent")
    payload = pickle.dumps(store)
    assert_no_secret(payload, PASSWORD)
    assert_no_secret(pickle.dumps(store.origin), PASSWORD)
    assert str(project / "team.yaml").encode() in payload  # where the config came from

    assert in_worker(payload) == ("locked", "LockedStore", "written by the parent")
    assert store.get_blob_text("runs", "from-worker.txt") == "written by the worker"


@pytest.mark.parametrize(
    "key", ["token", "api_key", "sas-token", "session-token", "client-secret", "credentials"]
)
def test_no_key_named_like_a_secret_is_pickled(project: Path, tmp_path: Path, key: str) -> None:
    value = f"inline-{key}-0a9c7e11"
    store = xtstore.get_storage(
        "locked", str(locked_config(project, tmp_path / "store", **{key: value}))
    )
    payload = pickle.dumps(store)
    assert_no_secret(payload, PASSWORD, value)
    assert pickle.loads(payload).provider.__class__.__name__ == "LockedStore"


def test_azure_and_s3_inline_secrets_are_not_pickled(project: Path) -> None:
    pytest.importorskip("azure.storage.blob")
    pytest.importorskip("boto3")
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1"
    )
    (project / "clouds.yaml").write_text(
        "external-services:\n"
        f"    blobs: {{type: storage, provider: azure-blob, connection-string: '{connection}'}}\n"
        "    s3: {type: storage, provider: store-s3, endpoint-url: 'http://127.0.0.1:9',"
        f" region: us-east-1, access-key-id: AKIAINLINE, secret-access-key: '{S3_SECRET}'}}\n",
        encoding="utf-8",
    )
    for service, secret in (("blobs", ACCOUNT_KEY), ("s3", S3_SECRET)):
        store = xtstore.get_storage(service, "clouds.yaml")
        payload = pickle.dumps(store)
        assert_no_secret(payload, secret)
        assert shows_no_secret(store, secret)
        rebuilt = pickle.loads(payload)
        assert rebuilt.service_name == service
        assert type(rebuilt.provider) is type(store.provider)


def shows_no_secret(store: xtstore.Store, secret: str) -> bool:
    return all(secret not in text for text in (repr(store), repr(store.origin)))


# ---- the worker reads the config again ----


def test_a_changed_service_fails_the_worker_clearly(project: Path, tmp_path: Path) -> None:
    config = locked_config(project, tmp_path / "store")
    payload = pickle.dumps(xtstore.get_storage("locked", str(config)))
    config.write_text(config.read_text().replace(str(tmp_path / "store"), "/elsewhere"))
    with pytest.raises(ConfigError) as raised:
        pickle.loads(payload)
    assert str(raised.value) == (
        "team.yaml: external-services.locked: the settings of service 'locked' changed after"
        " its store was pickled; open it again with xtstore.get_storage() and pickle that"
    )


def test_a_vanished_config_file_fails_the_worker_clearly(project: Path, tmp_path: Path) -> None:
    config = locked_config(project, tmp_path / "store")
    payload = pickle.dumps(xtstore.get_storage("locked", str(config)))
    config.unlink()
    with pytest.raises(ConfigError) as raised:
        pickle.loads(payload)
    assert str(raised.value) == (
        "team.yaml: config file not found (reopening service 'locked' of a pickled store)"
    )


def test_changes_elsewhere_and_a_rotated_secret_are_accepted(
    project: Path, tmp_path: Path
) -> None:
    """Only the service's settings with secrets redacted are compared: another service may
    change, and a rotated secret is simply used as it is now."""
    config = locked_config(project, tmp_path / "store")
    payload = pickle.dumps(xtstore.get_storage("locked", str(config)))
    text = config.read_text().replace("store-memory", "store-file, path: /x")
    config.write_text(text.replace(PASSWORD, "rotated"))
    with pytest.raises(ConfigError, match="rejected the settings: ValueError: wrong password"):
        pickle.loads(payload)  # the new password is read (and LockedStore refuses it)
    config.write_text(text)
    assert pickle.loads(payload).service_name == "locked"


# ---- a store from a mapping ----


@pytest.mark.parametrize(
    ("settings", "key_path"),
    [
        ({"password": PASSWORD}, "external-services.locked.options.password"),
        ({"connection-string": f"AccountKey={ACCOUNT_KEY}"},
         "external-services.locked.options.connection-string"),
    ],
)
def test_a_mapping_with_an_inline_secret_refuses_to_be_pickled(
    project: Path, tmp_path: Path, settings: dict[str, Any], key_path: str
) -> None:
    # store-fsspec's options (a built-in provider's service takes only its own keys).
    store = xtstore.get_storage("locked", {"external-services": {"locked": {
        "provider": "store-fsspec", "url": f"file://{tmp_path / 's'}", "options": settings}}})
    with pytest.raises(Unsupported) as raised:
        pickle.dumps(store)
    message = str(raised.value)
    assert message.startswith(f"service 'locked': cannot pickle the store: {key_path} is a secret")
    assert "put the service in a config file" in message
    assert '"$vault"' in message and "${ENV}" in message
    assert PASSWORD not in message and ACCOUNT_KEY not in message


def test_a_mapping_without_an_inline_secret_pickles(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XTSTORE_SECRET_LOCKED_PASSWORD", PASSWORD)
    store = xtstore.get_storage("locked", {"external-services": {"locked": {
        "provider": LOCKED, "path": str(tmp_path / "s"), "password": "$vault"}}})
    payload = pickle.dumps(store)
    assert_no_secret(payload, PASSWORD)
    assert type(pickle.loads(payload).provider).__name__ == "LockedStore"


# ---- a store from XT's variables ----


def test_a_store_from_xt_variables_pickles_without_them(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("xtstore.config.environment._warned", True)  # warned about elsewhere
    creds = base64.b64encode(json.dumps({
        "provider": "store-file", "name": "xtlocked", "path": str(tmp_path / "s"),
        "password": PASSWORD}).encode()).decode()
    monkeypatch.setenv("XT_STORE_CREDS", creds)
    monkeypatch.setenv("XT_STORE_CODE_PATH", LOCKED)
    store = xtstore.get_storage()
    payload = pickle.dumps(store)
    assert_no_secret(payload, PASSWORD, creds)
    assert shows_no_secret(store, PASSWORD)
    assert pickle.loads(payload).service_name == "xtlocked"

    monkeypatch.delenv("XT_STORE_CREDS")
    with pytest.raises(ConfigError) as raised:
        pickle.loads(payload)
    assert str(raised.value) == (
        "environment variable XT_STORE_CREDS: is not set in this process, which was given a"
        " store opened from it (reopening service 'xtlocked' of a pickled store)"
    )


# ---- errors ----


def test_a_provider_quoting_part_of_an_inline_connection_string_is_scrubbed(
    project: Path,
) -> None:
    (project / "team.yaml").write_text(
        "external-services:\n"
        "    quoting: {type: storage, provider: extensions.locked_store.KeyQuotingStore,"
        f" connection-string: 'AccountName=a;AccountKey={ACCOUNT_KEY}'}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage("quoting", "team.yaml")
    assert str(raised.value).endswith("rejected the settings: ValueError: bad AccountKey ***")
    assert ACCOUNT_KEY not in str(raised.value)
