"""xtstore.secrets on its own: the patterns it redacts (as botocore, urllib3 and the Azure SDK
write them), the forms of a registered secret, and log records redacted when created, for
every handler, while other loggers' records are left alone."""

from __future__ import annotations

import base64
import logging
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

import xtstore
from xtstore.errors import Unsupported
from xtstore.secrets import (
    REDACTED,
    install,
    named_like_secret,
    redact,
    register,
    values_named_secret,
    variants,
)

TOKEN = "IQoJb3JpZ2luX2Vj/unit+session/token=="
KEY = base64.b64encode(b"unit-test account key 7c1d5e9a0b2f4836").decode()
SIGNATURE = "k1Yb%2Bunit%2Fsignature%3D"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # botocore.endpoint's request repr
        ("headers={'X-Amz-Date': b'20261201T131205Z', 'X-Amz-Security-Token': b'tok/en+x==',"
         " 'Authorization': b'AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/s3/aws4_request,"
         " SignedHeaders=host, Signature=0a1b'}",
         "headers={'X-Amz-Date': b'20261201T131205Z', 'X-Amz-Security-Token': b'***',"
         " 'Authorization': b'***'}"),
        # botocore.auth's canonical request, one header a line
        ("host:127.0.0.1\nx-amz-security-token:tok/en+x==\nx-amz-date:2026",
         "host:127.0.0.1\nx-amz-security-token:***\nx-amz-date:2026"),
        ("Signature:\n" + "ab" * 32, "Signature:\n***"),
        # urllib3's request line with a SAS token; a presigned S3 URL
        ('"GET /acct/c/b?sv=2024-01-01&sp=r&sig=abc%2Bdef%3D HTTP/1.1" 200 5',
         '"GET /acct/c/b?sv=2024-01-01&sp=r&sig=*** HTTP/1.1" 200 5'),
        ("https://b.s3.amazonaws.com/k?X-Amz-Security-Token=tok&X-Amz-Signature=f00d",
         "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=***&X-Amz-Signature=***"),
        # a connection string, and the Azure SDK's network trace
        ("AccountName=a;AccountKey=c2VjcmV0Cg==;BlobEndpoint=http://x",
         "AccountName=a;AccountKey=***;BlobEndpoint=http://x"),
        ("    'Authorization': 'SharedKey devstoreaccount1:c2lnbmF0dXJl'",
         "    'Authorization': '***'"),
        ("Authorization: Bearer eyJ0eXAi", "Authorization: ***"),
        ("connecting to https://ml:pa55-w0rd@proxy.example:8080/x",
         "connecting to https://ml:***@proxy.example:8080/x"),
        # nothing secret: unchanged
        ("GET /c/b?comp=list HTTP/1.1 200; x-ms-version: 2024-08-04",
         "GET /c/b?comp=list HTTP/1.1 200; x-ms-version: 2024-08-04"),
        ("http://127.0.0.1:9000/bucket/key@v2", "http://127.0.0.1:9000/bucket/key@v2"),
    ],
)
def test_known_credential_patterns_are_redacted(text: str, kept: str) -> None:
    assert redact(text) == kept


def test_a_registered_secret_is_redacted_in_every_form() -> None:
    register([TOKEN, f"AccountName=a;AccountKey={KEY}", None, ""])
    forms = [TOKEN, quote(TOKEN, safe=""), quote_plus(TOKEN),
             base64.b64encode(TOKEN.encode()).decode(), KEY, quote(KEY, safe="")]
    for form in forms:
        assert redact(f"<{form}>") == f"<{REDACTED}>"
    assert {KEY, quote_plus(KEY)} <= variants(f"AccountName=a;AccountKey={KEY}")


def test_a_sas_tokens_signature_alone_is_a_variant() -> None:
    token = f"sv=2024-01-01&ss=b&sig={SIGNATURE}"
    assert {token, SIGNATURE, "k1Yb+unit/signature="} <= variants(token)


def test_values_under_keys_named_like_secrets() -> None:
    options = {"account_key": "k-1", "anon": False, "client_kwargs": {"region": "r",
               "aws_secret_access_key": "k-2"}, "credentials": ["k-3"], "token": ""}
    assert values_named_secret(options) == ["k-1", "k-2", "k-3"]
    assert [named_like_secret(key) for key in ("sas_token", "Password", "keys", 3)] == [
        True, True, False, False]


def test_a_bare_fsspec_provider_registers_its_options_secrets() -> None:
    pytest.importorskip("fsspec")
    from xtstore.providers.fsspec_store.store import FsspecProvider

    FsspecProvider({"url": "memory://unit-secrets", "options": {"password": "pw-unit-5a0e1c"}})
    assert redact("login pw-unit-5a0e1c") == f"login {REDACTED}"


def test_short_values_are_not_redacted_by_value() -> None:
    register(["test", "abc"])
    assert redact("tests/abc") == "tests/abc"
    assert redact("tests/abc", extra=["abc"]) == f"tests/{REDACTED}"


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[Keep]:
    root = logging.getLogger()
    handler, level = Keep(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_records_of_the_sdks_are_redacted_when_created(kept: Keep) -> None:
    register([TOKEN])
    # A logger first used after the redaction was installed, as botocore's are.
    logging.getLogger("botocore.endpoint.unit-new").debug("Sending %s", {"tok": TOKEN})
    try:
        raise ValueError(f"quoted {TOKEN}")
    except ValueError:
        logging.getLogger("urllib3.connectionpool").exception("failed")
    formatter = logging.Formatter("%(message)s")
    sent, failed = kept.records
    assert sent.getMessage() == "Sending {'tok': '***'}" and sent.args == ()
    assert TOKEN not in formatter.format(failed)
    assert "ValueError: quoted ***" in formatter.format(failed)
    assert failed.exc_info is None  # the exception itself, quoting the token, is not kept


def test_clean_records_and_other_loggers_are_left_as_they_are(kept: Keep) -> None:
    register([TOKEN])
    logging.getLogger("xtstore.calls").debug("%s took %.1f ms", "get_blob", 1.0)
    logging.getLogger("myapp").debug("mine: %s", TOKEN)
    clean, other = kept.records
    assert (clean.msg, clean.args) == ("%s took %.1f ms", ("get_blob", 1.0))
    assert other.args == (TOKEN,)


def test_install_keeps_the_factory_before_it_and_installs_once() -> None:
    previous = logging.getLogRecordFactory()
    seen: list[str] = []

    def counting(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(record.name)
        return record

    logging.setLogRecordFactory(counting)
    try:
        install()
        installed = logging.getLogRecordFactory()
        install()
        assert logging.getLogRecordFactory() is installed
        logging.getLogger("azure.unit").warning("x")
        assert seen == ["azure.unit"]
    finally:
        logging.setLogRecordFactory(previous)


# A process that has not imported logging when a store opens (a command on a local store):
# the redaction must be in place when logging is imported later, by anyone.
LATE_LOGGING = """\
import sys
if "logging" in sys.modules:
    print("SKIP: this interpreter imports logging at start-up: " + repr(sys.argv))
    sys.exit(0)
from xtstore import secrets
secrets.register([sys.argv[1]])
assert "logging" not in sys.modules, "register imported logging"
import logging
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record)
logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.DEBUG)
logging.getLogger("botocore.endpoint").debug("Sending %s", sys.argv[1])
logging.getLogger("myapp").debug("mine: %s", sys.argv[1])
assert not any(type(finder).__module__ == "xtstore.secrets" for finder in sys.meta_path)
assert logging.__loader__.get_source("logging")  # the module's own loader still answers
print(records[0].getMessage(), "|", records[1].args == (sys.argv[1],))
"""


def test_records_are_redacted_when_logging_is_first_imported_after_install() -> None:
    run = subprocess.run([sys.executable, "-c", LATE_LOGGING, TOKEN], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    if run.stdout.startswith("SKIP: "):
        pytest.skip(run.stdout[6:].strip())
    assert run.stdout == "Sending *** | True\n"


def test_a_mapping_with_an_inline_credential_option_refuses_to_pickle(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    credential = "inline-credential-3b8e0f5d"
    store = xtstore.get_storage("opts", {"external-services": {"opts": {
        "type": "storage", "provider": "store-fsspec", "url": f"file://{tmp_path / 's'}",
        "options": {"credential": credential}}}})
    with pytest.raises(Unsupported, match=r"options\.credential is a secret") as raised:
        pickle.dumps(store)
    assert credential not in str(raised.value)
    assert redact(f"using {credential}") == f"using {REDACTED}"


def test_a_described_key_that_is_not_secret_stays_shown_and_pickled() -> None:
    """azure-blob's own 'credential' ('default' or 'anonymous') is not a secret, although a
    'credential' anywhere else is."""
    pytest.importorskip("azure.storage.blob")
    store = xtstore.get_storage("anon", {"external-services": {"anon": {
        "type": "storage", "provider": "azure-blob", "credential": "anonymous",
        "account": "http://127.0.0.1:9/devstoreaccount1"}}})
    assert pickle.loads(pickle.dumps(store)).service_name == "anon"
    assert redact("credential anonymous") == "credential anonymous"
