"""${NAME} in every string value: the default service, provider code paths, types and
providers, each expanded where it is read, and an unset variable named with its file and key
path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import xtstore
from tests.config.helpers import RECORDING, recorded, write
from xtstore.errors import ConfigError

# ---- ${NAME} in every string value ----


def test_the_default_service_name_may_reference_the_environment(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM", "blue")
    write(
        cwd / "xt_config.yaml",
        "external-services:\n"
        "    blue-runs: {type: storage, provider: store-memory}\n"
        "xt-services: {storage: '${TEAM}-runs'}\n",
    )
    config = xtstore.load_config()
    assert config.default_storage_service == "blue-runs"
    assert config["xt-services"]["storage"] == "blue-runs"
    assert config.data["xt-services"]["storage"] == "${TEAM}-runs"
    assert xtstore.get_storage().service_name == "blue-runs"

    monkeypatch.setenv("TEAM", "red")
    with pytest.raises(ConfigError) as unknown:
        xtstore.load_config().default_storage_service  # noqa: B018
    assert str(unknown.value).startswith(
        "xt_config.yaml: xt-services.storage: 'red-runs' is not a service in external-services"
    )


def test_provider_code_paths_type_and_provider_may_reference_the_environment(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVIDER_MODULE", "tests.config.helpers")
    monkeypatch.setenv("PROVIDER_NAME", "store-recording")
    monkeypatch.setenv("KIND", "storage")
    write(
        cwd / "xt_config.yaml",
        "providers:\n"
        "    storage: {store-recording: '${PROVIDER_MODULE}.RecordingStore'}\n"
        "external-services:\n"
        "    rec: {type: '${KIND}', provider: '${PROVIDER_NAME}', path: /p}\n",
    )
    config = xtstore.load_config()
    assert config.provider_paths() == {"store-recording": RECORDING}
    assert "rec" in config.storage_services()
    store = xtstore.get_storage("rec")
    assert recorded(store)["provider"] == "store-recording"
    assert recorded(store)["type"] == "storage"


@pytest.mark.parametrize(
    ("text", "key_path", "action"),
    [
        ("xt-services: {storage: '${XT_UNSET_VARIABLE}'}\n", "xt-services.storage", "default"),
        (
            "providers:\n    storage: {store-x: '${XT_UNSET_VARIABLE}.Store'}\n"
            "external-services:\n    s: {type: storage, provider: store-x}\n",
            "providers.storage.store-x",
            "open",
        ),
        (
            "external-services:\n    s: {type: storage, provider: '${XT_UNSET_VARIABLE}'}\n",
            "external-services.s.provider",
            "open",
        ),
        ("general: {dir: '${XT_UNSET_VARIABLE}/x'}\n", "general.dir", "read"),
    ],
    ids=["default-service", "code-path", "provider", "other-section"],
)
def test_an_unset_variable_anywhere_names_the_file_and_key_path(
    cwd: Path, text: str, key_path: str, action: str
) -> None:
    write(cwd / "xt_config.yaml", text)
    config = xtstore.load_config()
    with pytest.raises(ConfigError) as raised:
        if action == "default":
            xtstore.get_storage()
        elif action == "open":
            xtstore.get_storage("s")
        else:
            config["general"]
    assert str(raised.value) == (
        f"xt_config.yaml: {key_path}: environment variable 'XT_UNSET_VARIABLE' is not set"
    )
    with pytest.raises(ConfigError, match=key_path.replace(".", r"\.")):
        config.expanded()


def test_config_validate_reports_an_unset_variable(cwd: Path, isolated_home: Path) -> None:
    from tests.cli.conftest import xtstore_command

    config = write(
        cwd / "team.yaml",
        "external-services:\n"
        "    s: {type: storage, provider: store-file, path: '${XT_UNSET_VARIABLE}/store'}\n",
    )
    env = {**os.environ, "HOME": str(isolated_home)}
    env.pop("XT_UNSET_VARIABLE", None)
    result = subprocess.run(
        [*xtstore_command(), "--config", str(config), "config", "--validate"],
        capture_output=True, cwd=cwd, env=env, timeout=60, check=False,
    )
    assert result.returncode == 1, result.stdout
    assert result.stderr.decode().startswith(
        "xtstore: error: team.yaml: external-services.s.path: environment variable"
        " 'XT_UNSET_VARIABLE' is not set"
    )
