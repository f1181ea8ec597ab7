"""Opening a service: ${ENV} and "$vault" resolved in the process that opens it, and the retry
section as the retry policy."""

from __future__ import annotations

from pathlib import Path

import pytest

import xtstore
from tests.config.helpers import RECORDING, SECRET, recorded, write
from xtstore.errors import ConfigError
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory.store import MemoryProvider

# ---- opening services: ${ENV}, $vault, retry ----


def test_environment_references_are_resolved_when_opened(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_ROOT", "/mnt/data")
    monkeypatch.setenv("REGION", "west")
    store = xtstore.get_storage(
        "runs",
        config={
            "external-services": {
                "runs": {
                    "type": "storage",
                    "provider": RECORDING,
                    "path": "${DATA_ROOT}/runs/${REGION}",
                    "options": {"nested": ["${REGION}"]},
                }
            }
        },
    )
    settings = recorded(store)
    assert settings["path"] == "/mnt/data/runs/west"
    assert settings["options"] == {"nested": ["west"]}
    assert settings["name"] == "runs"
    # the config itself keeps the reference
    assert store.origin is not None


def test_name_is_kept_when_the_service_sets_it(cwd: Path) -> None:
    store = xtstore.get_storage(
        "runs",
        config={"external-services": {"runs": {"provider": RECORDING, "name": "myaccount"}}},
    )
    assert recorded(store)["name"] == "myaccount"
    assert store.get_service_name() == "runs"


def test_vault_secret_from_the_environment(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XTSTORE_SECRET_MY_CLOUD_SECRET_ACCESS_KEY", SECRET)
    store = xtstore.get_storage(
        "my-cloud",
        config={
            "external-services": {
                "my-cloud": {"provider": RECORDING, "secret-access-key": "$vault"}
            }
        },
    )
    assert recorded(store)["secret-access-key"] == SECRET


@pytest.mark.parametrize(("mode", "allowed"), [(0o600, True), (0o400, True), (0o644, False),
                                                (0o660, False)])
def test_vault_secret_from_the_secrets_file(
    cwd: Path, isolated_home: Path, mode: int, allowed: bool
) -> None:
    secrets = write(
        isolated_home / ".xtstore" / "secrets.yaml",
        f"runs:\n    key: {SECRET}\n    options: {{password: pw-{SECRET}}}\n",
    )
    secrets.chmod(mode)
    config = {
        "external-services": {
            "runs": {"provider": RECORDING, "key": "$vault", "options": {"password": "$vault"}}
        }
    }
    if allowed:
        settings = recorded(xtstore.get_storage("runs", config=config))
        assert settings["key"] == SECRET
        assert settings["options"] == {"password": f"pw-{SECRET}"}
    else:
        with pytest.raises(ConfigError) as raised:
            xtstore.get_storage("runs", config=config)
        message = str(raised.value)
        assert message.startswith("~/.xtstore/secrets.yaml: runs.key: refused")
        assert "chmod 600" in message
        assert SECRET not in message


def test_environment_wins_over_the_secrets_file(
    cwd: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(isolated_home / ".xtstore" / "secrets.yaml", "runs: {key: from-file}\n").chmod(0o600)
    monkeypatch.setenv("XTSTORE_SECRET_RUNS_KEY", "from-env")
    config = {"external-services": {"runs": {"provider": RECORDING, "key": "$vault"}}}
    assert recorded(xtstore.get_storage("runs", config=config))["key"] == "from-env"


def test_retry_section_becomes_the_retry_policy(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTEMPTS", "7")
    config = {
        "external-services": {
            "runs": {
                "provider": "store-memory",
                "retry": {
                    "attempts": "${ATTEMPTS}",
                    "base-delay": 0.05,
                    "max-delay": 2,
                    "total-timeout": 30,
                },
            },
            "plain": {"provider": "store-memory"},
        }
    }
    store = xtstore.get_storage("runs", config=config)
    assert store.retry_policy == RetryPolicy(
        attempts=7, base_delay=0.05, max_delay=2, total_timeout=30
    )
    assert store.get_retry() == 6
    assert xtstore.get_storage("plain", config=config).retry_policy == RetryPolicy()


def test_a_config_file_path_is_the_top_layer(cwd: Path) -> None:
    path = write(
        cwd / "cfg" / "mine.yaml",
        "external-services:\n    runs: {type: storage, provider: store-memory}\n"
        "xt-services: {storage: runs}\n",
    )
    store = xtstore.get_storage(config=path)
    assert store.service_name == "runs"
    assert isinstance(store.provider, MemoryProvider)
    assert xtstore.get_storage(config=str(path)).service_name == "runs"
    assert xtstore.get_storage(config=xtstore.load_config(path)).service_name == "runs"


def test_config_argument_of_the_wrong_type(cwd: Path) -> None:
    with pytest.raises(TypeError):
        xtstore.get_storage(config=42)  # type: ignore[arg-type]
