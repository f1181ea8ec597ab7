"""Secrets never shown: not in errors, reprs, the redacted config or pickles."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import xtstore
from tests.config.helpers import RECORDING, SECRET, recorded, write
from xtstore.config import Config
from xtstore.errors import ConfigError

# ---- secrets never shown ----


def test_secrets_never_appear_in_errors_reprs_redacted_config_or_pickles(
    cwd: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(isolated_home / ".xtstore" / "secrets.yaml", f"runs: {{password: {SECRET}}}\n").chmod(
        0o600
    )
    monkeypatch.setenv("XTSTORE_SECRET_RUNS_KEY", SECRET + "-env")
    monkeypatch.setenv("XTSTORE_SECRET_ECHO_KEY", SECRET)
    config = Config.from_mapping(
        {
            "external-services": {
                "runs": {
                    "provider": RECORDING,
                    "key": "$vault",
                    "password": "$vault",
                    "connection-string": "AccountKey=literal-in-config",
                    "retry": {"attempts": "$vault"},
                },
                "echo": {"provider": "tests.config.helpers.EchoingStore", "key": "$vault"},
            }
        }
    )
    monkeypatch.setenv("XTSTORE_SECRET_RUNS_RETRY_ATTEMPTS", "3")
    store = xtstore.get_storage("runs", config=config)
    assert recorded(store)["key"] == SECRET + "-env"
    assert recorded(store)["password"] == SECRET

    redacted = config.redacted()["external-services"]["runs"]
    assert redacted["key"] == redacted["password"] == redacted["connection-string"] == "***"
    assert redacted["retry"] == {"attempts": "***"}
    assert SECRET not in repr(config.redacted())
    assert SECRET not in repr(store)
    assert SECRET not in repr(store.origin)
    # A mapping with a secret written inline cannot be pickled (see tests/test_pickling.py).
    with pytest.raises(xtstore.Unsupported, match=r"external-services\.runs\.connection-string"):
        pickle.dumps(store)

    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage("echo", config=config)
    assert "rejected the settings: ValueError: bad key '***'" in str(raised.value)
    assert SECRET not in str(raised.value)
    assert raised.value.__cause__ is None

    monkeypatch.setenv("XTSTORE_SECRET_RUNS_RETRY_ATTEMPTS", SECRET)
    with pytest.raises(ConfigError) as bad_retry:
        xtstore.get_storage("runs", config=config)
    assert "external-services.runs.retry.attempts: must be a positive integer" in str(
        bad_retry.value
    )
    assert SECRET not in str(bad_retry.value)


def test_a_secret_of_the_wrong_type_is_not_shown(cwd: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        Config.from_mapping(
            {"external-services": {"a": {"provider": "azure-blob", "key": 123456789}}}
        )
    assert "external-services.a.key: must be a string, not a int" in str(raised.value)
    assert "123456789" not in str(raised.value)


def test_secrets_file_syntax_error_does_not_quote_the_file(
    cwd: Path, isolated_home: Path
) -> None:
    write(isolated_home / ".xtstore" / "secrets.yaml", f"runs: {{key: {SECRET}\n").chmod(0o600)
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage(
            "runs", config={"external-services": {"runs": {"provider": RECORDING, "key": "$vault"}}}
        )
    assert str(raised.value).startswith("~/.xtstore/secrets.yaml: line ")
    assert SECRET not in str(raised.value)
