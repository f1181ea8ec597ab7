"""The secret scan (issue 2.3, must-show 6): for every provider with secrets and every
credential form (written in the config, ``${ENV}``, ``"$vault"``, XT's ``XT_STORE_CREDS``;
Azure connection string, account key, SAS token; S3 access key + secret key + session token,
and S3 credentials from the environment), against Azurite and moto,
everything the library and the command line log, print, raise, repr and pickle is collected
while operations run (failing ones too: a missing blob, a missing container, a wrong key),
with DEBUG logging on at the root logger and ``--debug``; no configured secret may appear in
it, as written or in an obvious encoding (URL-quoted, base64, a SAS token's signature alone,
an account key's raw bytes).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import pickle
import subprocess
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus

import pytest

import xtstore
from tests.servers.azurite import ACCOUNT, KEY, Azurite
from tests.servers.s3_server import MotoServer
from xtstore.errors import StoreError

SRC = str(Path(xtstore.__file__).resolve().parent.parent)  # the code under test, for the CLI

S3_KEY_ID = "AKIASCAN0SECRETS0ID"
S3_SECRET = "scan/S3+secret-access-key=9f2c61d0a7b34e58"
S3_TOKEN = "FwoGZXIvYXdzEscan+session/token==" + "Q" * 40
PASSWORD = "scan-fsspec-password-4e1b9c"
WRONG_KEY = base64.b64encode(b"a wrong account key, 0123456789abcdef" * 2).decode()


@dataclass
class Form:
    """One credential form: the service's entry (as YAML-able values), the environment it
    needs, and the secret values that must never be shown."""

    name: str
    provider: str
    entry: dict[str, Any]
    secrets: list[str]
    env: dict[str, str] = field(default_factory=dict)
    works: bool = True  # False: the credential is wrong and every call is refused


def sas_token() -> str:
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    return generate_account_sas(
        ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True,
                              create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )


def forms(azurite: Azurite, moto: MotoServer) -> list[Form]:
    account = azurite.endpoint
    connection = azurite.connection_string
    s3 = {key: value for key, value in moto.service_config().items()
          if key not in ("access-key-id", "secret-access-key")}
    s3_literal = {**s3, "access-key-id": S3_KEY_ID, "secret-access-key": S3_SECRET,
                  "session-token": S3_TOKEN}
    token = sas_token()
    signature = parse_qs(token)["sig"][0]
    return [
        Form("azure-connection-string", "azure-blob", {"connection-string": connection},
             [connection, KEY]),
        Form("azure-connection-string-env", "azure-blob",
             {"connection-string": "${SCAN_AZURE_CONNECTION}"}, [connection, KEY],
             {"SCAN_AZURE_CONNECTION": connection}),
        Form("azure-account-key", "azure-blob", {"account": account, "key": KEY}, [KEY]),
        Form("azure-account-key-vault", "azure-blob", {"account": account, "key": "$vault"},
             [KEY], {"XTSTORE_SECRET_SCAN_KEY": KEY}),
        Form("azure-sas-token", "azure-blob", {"account": account, "sas-token": token},
             [token, signature, KEY]),
        # The Azure SDK's network trace (every request's URL and headers, at DEBUG).
        Form("azure-sas-token-network-trace", "azure-blob",
             {"account": account, "sas-token": token,
              "client-options": {"logging_enable": True}}, [token, signature, KEY]),
        Form("azure-wrong-key", "azure-blob", {"account": account, "key": WRONG_KEY},
             [WRONG_KEY, KEY], works=False),
        Form("s3-keys-and-session-token", "store-s3", s3_literal, [S3_SECRET, S3_TOKEN]),
        Form("s3-env", "store-s3",
             {**s3_literal, "secret-access-key": "${SCAN_S3_SECRET}",
              "session-token": "${SCAN_S3_TOKEN}"},
             [S3_SECRET, S3_TOKEN], {"SCAN_S3_SECRET": S3_SECRET, "SCAN_S3_TOKEN": S3_TOKEN}),
        Form("s3-vault", "store-s3",
             {**s3_literal, "secret-access-key": "$vault", "session-token": "$vault"},
             [S3_SECRET, S3_TOKEN], {"XTSTORE_SECRET_SCAN_SECRET_ACCESS_KEY": S3_SECRET,
                                     "XTSTORE_SECRET_SCAN_SESSION_TOKEN": S3_TOKEN}),
        # Nothing in the config: the standard chain reads the environment, and only the
        # patterns (the session-token header, the signature) can keep the token out.
        Form("s3-standard-chain", "store-s3", s3, [S3_SECRET, S3_TOKEN],
             {"AWS_ACCESS_KEY_ID": S3_KEY_ID, "AWS_SECRET_ACCESS_KEY": S3_SECRET,
              "AWS_SESSION_TOKEN": S3_TOKEN}),
        Form("fsspec-options-password", "store-fsspec",
             {"url": "memory://scan", "options": {"password": PASSWORD}}, [PASSWORD]),
    ]


def encodings(secret: str) -> set[bytes]:
    """The secret as it may leak: as written, URL-quoted, base64-encoded, and (an account
    key being base64) its raw bytes."""
    found = {form.encode() for form in (secret, quote(secret, safe=""), quote_plus(secret))}
    found.add(base64.b64encode(secret.encode()))
    try:
        raw = base64.b64decode(secret, validate=True)
    except ValueError:
        raw = b""
    if len(raw) >= 16:
        found.add(raw)
    return {form for form in found if len(form) >= 8}


class Collected:
    """Everything shown while a form's operations run."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, bytes]] = []

    def add(self, where: str, payload: str | bytes) -> None:
        self.parts.append((where, payload if isinstance(payload, bytes) else
                           payload.encode("utf-8", "backslashreplace")))

    def error(self, where: str, error: BaseException) -> None:
        self.add(f"{where}: str", str(error))
        self.add(f"{where}: repr", repr(error))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(error)))
        try:
            self.add(f"{where}: pickle", pickle.dumps(error))
        except Exception as refusal:
            self.add(f"{where}: pickle refusal", f"{refusal!r}")

    def leaks(self, secrets: list[str]) -> list[str]:
        return sorted({f"{where} shows {form[:12]!r}..." for secret in secrets
                       for form in encodings(secret) for where, payload in self.parts
                       if form in payload})


class Records(logging.Handler):
    """Every record reaching the root logger, formatted as a handler would and raw."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> Iterator[tuple[str, str]]:
        for record in self.records:
            yield f"log {record.name}", self.format(record)
            yield f"log {record.name} (raw)", f"{record.msg!r} {record.args!r}"
            if record.exc_info and record.exc_info[1] is not None:
                yield f"log {record.name} (exception)", "".join(
                    traceback.format_exception(record.exc_info[1]))


@pytest.fixture
def debug_logging() -> Iterator[Records]:
    root = logging.getLogger()
    handler, level = Records(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def write_config(path: Path, form: Form) -> Path:
    import yaml

    entry = {"type": "storage", "provider": form.provider, **form.entry}
    path.write_text(yaml.safe_dump({"external-services": {"scan": entry}}), encoding="utf-8")
    return path


def operations(store: Any, collected: Collected, works: bool) -> None:
    """Calls that succeed and calls that fail; every error and repr is collected."""
    container = f"scan-{uuid.uuid4().hex[:10]}"
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("create_container", lambda: store.create_container(container)),
        ("create_blob", lambda: store.create_blob(container, "dir/a.txt", "scanned")),
        ("get_blob_text", lambda: store.get_blob_text(container, "dir/a.txt")),
        ("list_blobs", lambda: store.list_blobs(container, "dir/")),
        ("get_blob_properties", lambda: store.get_blob_properties(container, "dir/a.txt")),
        ("missing blob", lambda: store.get_blob_text(container, "no/such.txt")),
        ("missing container", lambda: store.get_blob_text("scan-no-such-container", "x")),
        ("delete_container", lambda: store.delete_container(container)),
    ]
    failures = 0
    for name, step in steps:
        try:
            collected.add(f"{name} result", repr(step()))
        except StoreError as error:
            failures += 1
            collected.error(name, error)
    assert failures == (2 if works else len(steps))  # the operations ran as intended
    for thing in (store, store.provider, store.origin):
        collected.add(f"repr {type(thing).__name__}", repr(thing))
    for thing in (store, store.provider):
        try:
            collected.add(f"pickle {type(thing).__name__}", pickle.dumps(thing))
        except Exception as refusal:
            collected.add(f"pickle {type(thing).__name__} refusal", repr(refusal))


def run_library(form: Form, config: Path, collected: Collected) -> None:
    store = xtstore.get_storage("scan", str(config))
    operations(store, collected, form.works)
    collected.add("repr Config", repr(xtstore.config.Config.from_files([str(config)])))
    # The same service given as a mapping: its pickle refuses an inline secret, or holds none.
    mapping = {"external-services": {"scan": {"type": "storage", "provider": form.provider,
                                              **form.entry}}}
    try:
        collected.add("pickle of a store from a mapping", pickle.dumps(
            xtstore.get_storage("scan", mapping)))
    except Exception as refusal:
        collected.add("pickle of a store from a mapping: refusal", repr(refusal))


CLI_COMMANDS = (
    ("--debug", "containers", "create", "scan:{container}"),
    ("--debug", "cat", "scan:{container}/no/such.txt"),
    ("cat", "scan:{container}/no/such.txt"),
)


def run_cli(config: Path, form: Form) -> Collected:
    """The commands one after the other, in a process each (the forms run in parallel)."""
    collected = Collected()
    env = {**os.environ, **form.env, "PYTHONPATH": SRC, "XTSTORE_CONFIG": str(config)}
    container = f"scan-{uuid.uuid4().hex[:10]}"
    for command in CLI_COMMANDS:
        args = [arg.format(container=container) for arg in command]
        result = subprocess.run([sys.executable, "-m", "xtstore", *args], env=env,
                                capture_output=True, timeout=60, check=False)
        collected.add(f"xtstore {' '.join(args[:2])} stdout", result.stdout)
        collected.add(f"xtstore {' '.join(args[:2])} stderr", result.stderr)
    debug_output = b"".join(data for where, data in collected.parts if "--debug" in where)
    assert b"DEBUG" in debug_output or b"xtstore.calls: " in debug_output, debug_output[-2000:]
    return collected


@pytest.mark.timeout(120)
def test_no_secret_in_logs_output_errors_reprs_or_pickles(
    azurite: Azurite, moto_server: MotoServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, debug_logging: Records,
) -> None:
    pytest.importorskip("azure.storage.blob")
    pytest.importorskip("boto3")
    pytest.importorskip("fsspec")
    monkeypatch.setenv("HOME", str(tmp_path))  # no secrets file of the user's
    all_forms = forms(azurite, moto_server)
    configs = [write_config(tmp_path / f"{form.name}.yaml", form) for form in all_forms]
    with ThreadPoolExecutor(4) as pool:
        cli_runs = list(pool.map(run_cli, configs, all_forms))
    leaks: dict[str, list[str]] = {}
    for form, config, collected in zip(all_forms, configs, cli_runs, strict=True):
        with monkeypatch.context() as patch:
            for name, value in form.env.items():
                patch.setenv(name, value)
            debug_logging.records.clear()
            run_library(form, config, collected)
            for where, text in debug_logging.texts():
                collected.add(where, text)
            assert len(debug_logging.records) > 10  # DEBUG logging was on
        found = collected.leaks(form.secrets)
        if found:
            leaks[form.name] = found
    assert leaks == {}, "\n".join(f"{name}: {where}" for name, found in leaks.items()
                                   for where in found)


def test_the_scan_sees_a_secret_that_is_shown() -> None:
    """The scan itself: a secret in any of its encodings is found."""
    collected = Collected()
    collected.add("quoted", f"url?sig={quote(S3_TOKEN, safe='')}")
    collected.add("raw", io.BytesIO(base64.b64decode(KEY)).getvalue())
    assert len(collected.leaks([S3_TOKEN, KEY])) == 2


QUOTING_STORE = '''
from xtstore.providers.file.store import FileProvider


class QuotingStore(FileProvider):
    """A user provider that quotes its password in an error no provider translates."""

    def __init__(self, config):
        self._password = config["password"]
        super().__init__(config)

    def list_containers(self):
        raise RuntimeError("login with " + self._password + " refused")
'''


def test_the_cli_never_prints_a_secret_a_user_provider_quotes(tmp_path: Path) -> None:
    work = tmp_path / "project"
    (work / "extensions").mkdir(parents=True)
    (work / "extensions" / "quoting_store.py").write_text(QUOTING_STORE, encoding="utf-8")
    config = work / "team.yaml"
    config.write_text(
        "external-services:\n    quoting: {type: storage, provider:"
        " extensions.quoting_store.QuotingStore, path: store, password: '${SCAN_PASSWORD}'}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": SRC, "SCAN_PASSWORD": PASSWORD}
    collected = Collected()
    for debug in ((), ("--debug",)):
        args = [*debug, "--config", str(config), "--service", "quoting", "containers"]
        result = subprocess.run([sys.executable, "-m", "xtstore", *args], env=env, cwd=work,
                                capture_output=True, timeout=60, check=False)
        assert result.returncode == 1
        assert b"RuntimeError" in result.stderr and b"refused" in result.stderr
        collected.add(f"xtstore {' '.join(args)}", result.stdout + result.stderr)
    assert collected.leaks([PASSWORD]) == []


def test_no_secret_of_xt_store_creds_in_logs_errors_reprs_or_pickles(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, debug_logging: Records
) -> None:
    """XT's form: the whole service dict, secrets and all, base64-encoded in the environment."""
    pytest.importorskip("boto3")
    service = {**moto_server.service_config(), "name": "xtscan", "access-key-id": S3_KEY_ID,
               "secret-access-key": S3_SECRET, "session-token": S3_TOKEN}
    creds = base64.b64encode(json.dumps(service).encode()).decode()
    monkeypatch.setenv("XT_STORE_CREDS", creds)
    monkeypatch.delenv("XTSTORE_CONFIG", raising=False)
    monkeypatch.setattr("xtstore.config.environment._warned", True)  # warned about elsewhere
    collected = Collected()
    operations(xtstore.get_storage(), collected, works=True)
    for where, text in debug_logging.texts():
        collected.add(where, text)
    assert len(debug_logging.records) > 10
    assert collected.leaks([S3_SECRET, S3_TOKEN, creds]) == []
