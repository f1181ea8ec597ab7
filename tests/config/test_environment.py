"""Compute nodes: a process started elsewhere opens the same store from its environment, via
xtstore's own variables (XTSTORE_SERVICE, XTSTORE_CONFIG; no secret in them, secrets resolved
on the node) or XT's (XT_STORE_CREDS, XT_STORE_CODE_PATH; warned about), in that order."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import ConfigError, ProviderLoadError, Unsupported

SECRET = "pw-7c1e9b0d-NODE-SECRET"

# A user provider in XT's extensions/ folder: store-file that opens only with its password.
LOCKED_STORE = f'''
from xtstore.providers.file.store import FileProvider


class LockedStore(FileProvider):
    def __init__(self, config):
        if config.get("password") != {SECRET!r}:
            raise ValueError("wrong password")
        super().__init__(config)
'''

LOCKED = "extensions.locked_store.LockedStore"

# Runs in the separate process: only the environment says which store to open.
CHILD = """
import sys
import warnings

sys.path.insert(0, sys.argv[1])
import xtstore

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    store = xtstore.get_storage()
    xtstore.get_storage()
print(store.service_name)
print(store.get_blob_text("runs", "from-parent.txt"))
store.create_blob("runs", "from-child.txt", "written on the node")
print(sum(issubclass(w.category, xtstore.XtCredentialsWarning) for w in caught))
"""

SRC = str(Path(xtstore.__file__).resolve().parent.parent)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with the LockedStore extension; forgotten after the test."""
    work = tmp_path / "project"
    (work / "extensions").mkdir(parents=True)
    (work / "extensions" / "locked_store.py").write_text(LOCKED_STORE, encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield work
    for name in [name for name in sys.modules if name.startswith("extensions")]:
        del sys.modules[name]


@pytest.fixture
def warned_never(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: XT's variables have not been warned about yet."""
    monkeypatch.setattr("xtstore.config.environment._warned", False)


def xt_creds(settings: dict[str, Any]) -> str:
    """XT's encoding: base64 of the JSON service dict (utils.text_to_base64(json.dumps(...)))."""
    return base64.b64encode(json.dumps(settings).encode("utf-8")).decode()


def run_child(cwd: Path, env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, SRC],
        capture_output=True, cwd=cwd, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert SECRET not in result.stderr.decode() + result.stdout.decode()
    return result.stdout.decode().splitlines()


def parent_store(root: Path) -> xtstore.Store:
    store = xtstore.get_storage(
        "files", {"external-services": {"files": {"provider": "store-file", "path": str(root)}}}
    )
    store.create_container("runs")
    store.create_blob("runs", "from-parent.txt", "written by the parent")
    return store


# ---- the separate process, one per route ----


@pytest.mark.timeout(180)
def test_a_separate_process_opens_the_store_from_xtstore_variables(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "store"
    team = project / "team.yaml"
    team.write_text(
        "providers:\n"
        f"    storage: {{store-locked: {LOCKED}}}\n"
        "external-services:\n"
        f"    locked: {{type: storage, provider: store-locked, path: '{root}',"
        " password: $vault}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("XTSTORE_SECRET_LOCKED_PASSWORD", SECRET)
    assert xtstore.get_storage("locked", str(team)).service_name == "locked"
    files = parent_store(root)

    variables = xtstore.node_environment("locked", config=str(team))
    assert variables == {"XTSTORE_SERVICE": "locked", "XTSTORE_CONFIG": str(team)}
    # The node has its own secrets file; no secret travels in the environment.
    node_home = tmp_path / "node-home"
    (node_home / ".xtstore").mkdir(parents=True)
    secrets = node_home / ".xtstore" / "secrets.yaml"
    secrets.write_text(f"locked: {{password: {SECRET}}}\n", encoding="utf-8")
    secrets.chmod(0o600)
    env = {"PATH": os.environ["PATH"], "HOME": str(node_home), **variables}

    assert run_child(project, env) == ["locked", "written by the parent", "0"]
    assert files.get_blob_text("runs", "from-child.txt") == "written on the node"


@pytest.mark.timeout(180)
def test_a_separate_process_opens_the_store_from_xt_variables(
    project: Path, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    files = parent_store(root)
    creds = {"type": "storage", "provider": "store-locked", "name": "xtlocked",
             "path": str(root), "password": SECRET}
    node_home = tmp_path / "node-home"
    node_home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(node_home),
           "XT_STORE_CREDS": xt_creds(creds), "XT_STORE_CODE_PATH": LOCKED}

    assert run_child(project, env) == ["xtlocked", "written by the parent", "1"]
    assert files.get_blob_text("runs", "from-child.txt") == "written on the node"


# ---- node_environment ----


def test_node_environment_lists_every_file_merged_and_no_secret(
    project: Path, isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_file = isolated_home / ".xtstore" / "config.yaml"
    home_file.parent.mkdir()
    home_file.write_text(
        "external-services:\n"
        "    cloud: {type: storage, provider: store-s3, access-key-id: AKIA,"
        " secret-access-key: $vault}\n",
        encoding="utf-8",
    )
    (project / "xt_config.yaml").write_text("xt-services: {storage: cloud}\n", encoding="utf-8")
    monkeypatch.setenv("XTSTORE_SECRET_CLOUD_SECRET_ACCESS_KEY", SECRET)

    variables = xtstore.node_environment()
    assert variables == {
        "XTSTORE_SERVICE": "cloud",
        "XTSTORE_CONFIG": os.pathsep.join([str(home_file), str(project / "xt_config.yaml")]),
    }
    assert all(SECRET not in value for value in variables.values())
    assert xtstore.node_environment("filestorage")["XTSTORE_SERVICE"] == "filestorage"
    with pytest.raises(ConfigError, match="unknown service 'nope'"):
        xtstore.node_environment("nope")


def test_node_environment_refuses_a_config_given_as_a_mapping(project: Path) -> None:
    with pytest.raises(Unsupported, match="put it in a config file"):
        xtstore.node_environment(
            "m", config={"external-services": {"m": {"provider": "store-memory"}}}
        )


def test_xtstore_config_may_name_several_files_merged_in_order(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tmp_path / "first.yaml"
    first.write_text("external-services:\n    filestorage: {path: /first}\n"
                     "general: {a: 1}\n", encoding="utf-8")
    second = tmp_path / "second.yaml"
    second.write_text("external-services:\n    filestorage: {path: /second}\n",
                      encoding="utf-8")
    monkeypatch.setenv("XTSTORE_CONFIG", os.pathsep.join([str(first), str(second)]))
    config = xtstore.load_config()
    assert config["external-services"]["filestorage"]["path"] == "/second"
    assert config["general"] == {"a": 1}
    assert config.files == (str(first), str(second))


# ---- which service, when none is named ----


def test_precedence_of_the_service_used(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warned_never: None
) -> None:
    team = tmp_path / "team.yaml"
    team.write_text(
        "external-services:\n"
        "    a: {type: storage, provider: store-memory}\n"
        "    b: {type: storage, provider: store-memory}\n"
        "    c: {type: storage, provider: store-memory}\n"
        "xt-services: {storage: a}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("XTSTORE_CONFIG", str(team))
    monkeypatch.setenv("XTSTORE_SERVICE", "b")
    monkeypatch.setenv("XT_STORE_CREDS", xt_creds({"provider": "store-memory", "name": "xt"}))
    mapping = {"external-services": {"m": {"provider": "store-memory"}},
               "xt-services": {"storage": "m"}}

    assert xtstore.get_storage("c").service_name == "c"          # the argument
    assert xtstore.get_storage().service_name == "b"             # XTSTORE_SERVICE
    assert xtstore.get_storage(config=str(team)).service_name == "b"
    assert xtstore.load_config().default_storage_service == "b"
    assert xtstore.get_storage(config=mapping).service_name == "m"   # a dict: no variables
    monkeypatch.delenv("XTSTORE_SERVICE")
    with pytest.warns(xtstore.XtCredentialsWarning):
        assert xtstore.get_storage().service_name == "xt"        # XT_STORE_CREDS
    assert xtstore.get_storage(config=str(team)).service_name == "a"  # a config is named
    monkeypatch.delenv("XT_STORE_CREDS")
    assert xtstore.get_storage().service_name == "a"             # xt-services.storage


def test_xtstore_service_naming_no_service_says_so(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XTSTORE_SERVICE", "ghost")
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage()
    assert str(raised.value) == (
        "environment variable XTSTORE_SERVICE: 'ghost' is not a service in external-services"
        " (known: filestorage)"
    )


# ---- XT's variables ----


def test_xt_variables_warn_once_per_process_without_the_secret(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warned_never: None
) -> None:
    creds = {"type": "storage", "provider": "store-file", "name": "xtfiles",
             "path": str(tmp_path / "store"), "password": SECRET}
    monkeypatch.setenv("XT_STORE_CREDS", xt_creds(creds))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = xtstore.get_storage()
        second = xtstore.get_storage()
    found = [w for w in caught if issubclass(w.category, xtstore.XtCredentialsWarning)]
    assert len(found) == 1
    assert "XT_STORE_CREDS" in str(found[0].message)
    assert SECRET not in str(found[0].message)
    assert found[0].filename == __file__  # points at the caller of get_storage()
    assert first.service_name == second.service_name == "xtfiles"
    assert type(first.provider).__name__ == "FileProvider"  # the provider name, no code path
    assert SECRET not in repr(first) + repr(first.origin)


def test_xt_store_code_path_wins_over_the_provider_name(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warned_never: None
) -> None:
    creds = {"provider": "azure-blob-21", "name": "acct", "path": str(tmp_path / "s"),
             "password": SECRET}
    monkeypatch.setenv("XT_STORE_CREDS", xt_creds(creds))
    monkeypatch.setenv("XT_STORE_CODE_PATH", LOCKED)
    with pytest.warns(xtstore.XtCredentialsWarning):
        store = xtstore.get_storage()
    assert type(store.provider).__name__ == "LockedStore"
    assert store.service_name == "acct"

    monkeypatch.setenv("XT_STORE_CODE_PATH", "not a code path")
    with pytest.raises(ProviderLoadError) as raised:
        xtstore.get_storage()
    assert str(raised.value) == (
        "environment variable XT_STORE_CODE_PATH: 'not a code path' is not a code path of the"
        " form package.module.Class"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("@@not-base64-" + SECRET, "is not base64 of UTF-8 text"),
        (base64.b64encode(b"\xff\xfe" + SECRET.encode()).decode(), "is not base64 of UTF-8 text"),
        (base64.b64encode(f"{{'key': '{SECRET}'".encode()).decode(),
         "is not base64 of JSON (invalid JSON at character 1)"),
        (xt_creds([SECRET]),  # type: ignore[arg-type]
         "must be base64 of a JSON object (the service's settings), not of a list"),
        (xt_creds({"name": "x", "key": SECRET}),
         "the service's settings have no string 'provider' and XT_STORE_CODE_PATH is not set"),
    ],
    ids=["not-base64", "not-utf8", "not-json", "not-an-object", "no-provider"],
)
def test_malformed_xt_store_creds_is_one_line_naming_the_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("XT_STORE_CREDS", value)
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage()
    message = str(raised.value)
    assert message == f"environment variable XT_STORE_CREDS: {reason}"
    assert SECRET not in message and value not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ or raised.value.__context__ is None


def test_an_unknown_xt_provider_name_names_the_variable(
    project: Path, monkeypatch: pytest.MonkeyPatch, warned_never: None
) -> None:
    monkeypatch.setenv("XT_STORE_CREDS", xt_creds({"provider": "store-nowhere", "key": SECRET}))
    with pytest.warns(xtstore.XtCredentialsWarning), pytest.raises(ProviderLoadError) as raised:
        xtstore.get_storage()
    assert str(raised.value).startswith(
        "environment variable XT_STORE_CREDS: provider: 'store-nowhere' is not a known"
    )
    assert SECRET not in str(raised.value)
