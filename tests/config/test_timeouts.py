"""The network providers' shared ``timeout`` key (xtstore.describe.TIMEOUT_KEY): its forms, its
checks when the config is loaded and when a service is opened (a NaN, infinite, negative or
zero timeout is a ConfigError naming the file and key), and what the SDK clients are given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.describe import DEFAULT_TIMEOUTS, TIMEOUT_KEY, Timeouts
from xtstore.errors import ConfigError
from xtstore.providers.azure.description import DESCRIPTION as AZURE
from xtstore.providers.s3.description import DESCRIPTION as S3

AZURE_KEYS = "connection-string: 'AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/a'"
SERVICES = {
    "azure-blob": f"{{provider: azure-blob, {AZURE_KEYS}, ",
    "store-s3": "{provider: store-s3, endpoint-url: 'http://127.0.0.1:9', region: us-east-1, ",
}

# (YAML of the timeout keys, the key path below the service, what the reason says)
BAD: list[tuple[str, str, str]] = [
    ("timeout: .nan", "timeout", "must be a finite number of seconds above 0, not float nan"),
    ("timeout: .inf", "timeout", "must be a finite number of seconds above 0, not float inf"),
    ("timeout: 0", "timeout", "must be a finite number of seconds above 0, not int 0"),
    ("timeout: -1", "timeout", "must be a finite number of seconds above 0, not int -1"),
    ("timeout: soon", "timeout", "must be a finite number of seconds above 0, not the string"),
    ("timeout: {read: .nan}", "timeout.read", "must be a finite number of seconds above 0,"
     " not float nan"),
    ("timeout: {connect: 0}", "timeout.connect", "must be a finite number of seconds above 0"),
    ("timeout: {connect: -2.5, read: 3}", "timeout.connect", "above 0, not float -2.5"),
    ("timeout: {read: .inf}", "timeout.read", "above 0, not float inf"),
    ("timeout: {write: 3}", "timeout.write", "is not a timeout (known: connect, read)"),
]
BAD_S3_ALIASES: list[tuple[str, str, str]] = [
    ("connect-timeout: .nan", "connect-timeout", "above 0, not float nan"),
    ("read-timeout: 0", "read-timeout", "above 0, not int 0"),
    ("read-timeout: -5", "read-timeout", "above 0, not int -5"),
]
CASES = [(provider, *case) for provider in SERVICES for case in BAD] + [
    ("store-s3", *case) for case in BAD_S3_ALIASES]


@pytest.mark.parametrize(("provider", "keys", "key_path", "reason"), CASES,
                         ids=[f"{case[0]}: {case[1]}" for case in CASES])
def test_a_bad_timeout_is_a_config_error_naming_the_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str, keys: str, key_path: str,
    reason: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # the file is then named as it was given
    config = tmp_path / "team.yaml"
    config.write_text(f"external-services:\n    s: {SERVICES[provider]}{keys}}}\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage("s", config=str(config))
    message = str(raised.value)
    assert message.startswith(f"{config.name}: external-services.s.{key_path}: "), message
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize("provider", SERVICES)
def test_a_timeout_from_the_environment_is_checked_when_the_service_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setenv("XT_TEST_READ_TIMEOUT", "nan")
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "team.yaml"
    config.write_text(f"external-services:\n    s: {SERVICES[provider]}"
                      "timeout: {connect: 2, read: '${XT_TEST_READ_TIMEOUT}'}}\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage("s", config=str(config))
    assert str(raised.value).startswith(
        "team.yaml: external-services.s.timeout.read: must be a finite number of seconds"
        " above 0, not the string 'nan'"), str(raised.value)


def test_a_provider_used_bare_checks_its_timeouts() -> None:
    from xtstore.providers.s3.store import S3Provider

    with pytest.raises(ConfigError, match=r"timeout\.read: must be a finite number"):
        S3Provider({"name": "bare", "endpoint-url": "http://127.0.0.1:9",
                    "timeout": {"read": float("nan")}})
    from xtstore.providers.azure.auth import client_spec

    with pytest.raises(ConfigError, match=r"timeout: must be a finite number"):
        client_spec({"connection-string": "AccountName=a;AccountKey=a2V5", "timeout": -1})


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, DEFAULT_TIMEOUTS),
    ({"timeout": 7}, Timeouts(connect=7, read=7)),
    ({"timeout": "7.5"}, Timeouts(connect=7.5, read=7.5)),
    ({"timeout": {"connect": 2}}, Timeouts(connect=2, read=DEFAULT_TIMEOUTS.read)),
    ({"timeout": {"connect": 2, "read": 30}}, Timeouts(connect=2, read=30)),
    ({"connect-timeout": 3, "read-timeout": 40}, Timeouts(connect=3, read=40)),
    # The new key wins over the earlier spelling of the same part.
    ({"timeout": {"read": 9}, "read-timeout": 40, "connect-timeout": 3},
     Timeouts(connect=3, read=9)),
])
def test_the_forms_of_the_timeout_key(settings: dict[str, Any], expected: Timeouts) -> None:
    assert Timeouts.of_service(S3, settings) == expected


def test_the_earlier_keys_are_aliases_only_where_documented() -> None:
    # azure-blob's earlier "timeout: <seconds>" is the one-number form of the same key.
    assert Timeouts.of_service(AZURE, {"connect-timeout": 3}) == DEFAULT_TIMEOUTS
    assert AZURE.key("timeout") is TIMEOUT_KEY and S3.key("timeout") is TIMEOUT_KEY
    assert {key.name: key.alias_of for key in S3.keys if key.alias_of} == {
        "connect-timeout": "timeout.connect", "read-timeout": "timeout.read"}


def test_the_sdk_clients_get_the_timeouts() -> None:
    from xtstore.providers.azure.auth import client_spec
    from xtstore.providers.s3.store import S3Provider

    s3 = S3Provider({"endpoint-url": "http://127.0.0.1:9", "region": "us-east-1",
                     "timeout": {"connect": 2, "read": 30}})
    assert (s3.client.meta.config.connect_timeout, s3.client.meta.config.read_timeout) == (2, 30)
    spec = client_spec({"connection-string": "AccountName=a;AccountKey=a2V5",
                        "timeout": {"connect": 4}})
    assert (spec.client_kwargs["connection_timeout"], spec.client_kwargs["read_timeout"]) == (
        4, DEFAULT_TIMEOUTS.read)


def test_the_documented_default_is_the_one_applied() -> None:
    assert TIMEOUT_KEY.default == {"connect": DEFAULT_TIMEOUTS.connect,
                                   "read": DEFAULT_TIMEOUTS.read}
