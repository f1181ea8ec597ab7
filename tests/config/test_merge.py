"""Config layers merged key by key with per-key sources (docs/contract.md §3), and the merged
config read as a mapping, like XT's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

import xtstore
from tests.config.helpers import write
from xtstore.config import Config
from xtstore.errors import ConfigError

# ---- layers and sources ----


def test_no_config_at_all_gives_filestorage_in_the_home_folder(cwd: Path) -> None:
    config = xtstore.load_config()
    assert config.default_storage_service == "filestorage"
    assert config.storage_services() == ["filestorage"]
    assert config.service("filestorage") == {
        "type": "storage",
        "provider": "store-file",
        "path": "~/.xtstore/store",
    }
    assert config.source_of("external-services.filestorage.path") == "built-in defaults"
    assert config.layers == ["built-in defaults"]
    assert config.provider_paths() == {}


def test_no_config_at_all_stores_blobs_under_the_home_folder(
    cwd: Path, isolated_home: Path
) -> None:
    store = xtstore.get_storage()
    assert store.service_name == "filestorage"
    assert type(store.provider).__name__ == "FileProvider"
    store.create_container("runs")
    store.create_blob("runs", "exp1/log.txt", "hello")
    assert (isolated_home / ".xtstore" / "store").is_dir()
    found = [p for p in (isolated_home / ".xtstore" / "store").rglob("*") if p.name == "log.txt"]
    assert [p.read_text() for p in found] == ["hello"]
    assert not list(cwd.iterdir())


def test_layers_merge_key_by_key_and_later_wins(
    cwd: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write(
        isolated_home / ".xtstore" / "config.yaml",
        """
external-services:
    filestorage: {path: "/from/home"}
    runs: {type: storage, provider: store-memory, retry: {attempts: 2, max-delay: 3}}
""",
    )
    write(
        cwd / "xt_config.yaml",
        """
external-services:
    runs: {retry: {attempts: 4}}
xt-services:
    storage: runs
""",
    )
    top = write(tmp_path / "top.yaml", "external-services:\n    runs: {retry: {base-delay: 0.5}}\n")
    monkeypatch.setenv("XTSTORE_CONFIG", str(top))

    config = xtstore.load_config()

    assert config.layers == [
        "built-in defaults",
        "~/.xtstore/config.yaml",
        "xt_config.yaml",
        str(top),
    ]
    assert config.service("runs")["retry"] == {"attempts": 4, "max-delay": 3, "base-delay": 0.5}
    assert config.service("filestorage") == {
        "type": "storage",
        "provider": "store-file",
        "path": "/from/home",
    }
    assert config.default_storage_service == "runs"
    assert config.source_of("external-services.filestorage.path") == "~/.xtstore/config.yaml"
    assert config.source_of("external-services.filestorage.type") == "built-in defaults"
    assert config.source_of("external-services.runs.retry.max-delay") == "~/.xtstore/config.yaml"
    assert config.source_of("external-services.runs.retry.attempts") == "xt_config.yaml"
    assert config.source_of("external-services.runs.retry.base-delay") == str(top)
    assert config.source_of("xt-services.storage") == "xt_config.yaml"
    with pytest.raises(KeyError):
        config.source_of("external-services.runs.nothing")


def test_config_file_argument_replaces_the_environment_variable(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cwd / "env.yaml", "external-services:\n    filestorage: {path: /env}\n")
    write(cwd / "arg.yaml", "external-services:\n    filestorage: {path: /arg}\n")
    monkeypatch.setenv("XTSTORE_CONFIG", "env.yaml")
    assert xtstore.load_config().service("filestorage")["path"] == "/env"
    config = xtstore.load_config("arg.yaml")
    assert config.service("filestorage")["path"] == "/arg"
    assert config.source_of("external-services.filestorage.path") == "arg.yaml"


def test_a_key_without_value_keeps_the_lower_layer(cwd: Path) -> None:
    write(cwd / "xt_config.yaml", "external-services:\nxt-services:\n    storage:\n")
    config = xtstore.load_config()
    assert config.default_storage_service == "filestorage"
    assert config.storage_services() == ["filestorage"]


def test_a_later_scalar_replaces_a_whole_mapping_and_its_sources(cwd: Path) -> None:
    from xtstore.config import DEFAULTS

    config = Config(
        [
            ("built-in defaults", DEFAULTS),
            ("first", {"general": {"x": {"y": 1}, "keep": True}}),
            ("second", {"general": {"x": "flat"}}),
        ]
    )
    assert config.data["general"] == {"x": "flat", "keep": True}
    assert config.source_of("general.x") == "second"
    assert config.source_of("general.keep") == "first"
    assert config.source_of("general") == "second"
    with pytest.raises(KeyError):
        config.source_of("general.x.y")


def test_from_mapping_reads_no_file(cwd: Path, isolated_home: Path) -> None:
    write(cwd / "xt_config.yaml", "xt-services: [broken\n")
    write(isolated_home / ".xtstore" / "config.yaml", "- not a mapping\n")
    config = Config.from_mapping({"xt-services": {"storage": "filestorage"}}, source="test")
    assert config.layers == ["built-in defaults", "test"]
    assert config.source_of("xt-services.storage") == "test"


def test_storage_services_lists_only_storage(cwd: Path) -> None:
    config = Config.from_mapping(
        {
            "external-services": {
                "zeta": {"type": "storage", "provider": "store-memory"},
                "batch": {"type": "batch", "provider": "azure-batch", "key": "x"},
                "alpha": {"type": "storage", "provider": "store-memory"},
            }
        }
    )
    assert config.storage_services() == ["alpha", "filestorage", "zeta"]


def test_unknown_service_lists_the_known_ones(cwd: Path) -> None:
    config = Config.from_mapping({})
    with pytest.raises(ConfigError, match=r"unknown service 'nope' \(known: filestorage\)"):
        config.service("nope")
    with pytest.raises(ConfigError, match="unknown service 'nope'"):
        xtstore.get_storage("nope", config={})


def test_key_paths_with_dots_in_names(cwd: Path) -> None:
    config = Config.from_mapping(
        {"external-services": {"my.svc": {"type": "storage", "provider": "store-memory"}}}
    )
    assert config.source_of("external-services.my.svc.provider") == "<dict>"



# ---- the config read as a mapping, like XT's merged config ----


def test_the_config_reads_as_a_mapping(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORK_AREA", "/scratch/me")
    write(
        cwd / "xt_config.yaml",
        "external-services:\n"
        "    runs: {type: storage, provider: store-file, path: /data/runs}\n"
        "    vaulted: {type: storage, provider: store-s3, secret-access-key: $vault}\n"
        "general: {workspace: ws, cache: '${WORK_AREA}/cache'}\n",
    )
    config = xtstore.load_config()

    assert isinstance(config, Mapping)
    assert config["external-services"]["runs"]["path"] == "/data/runs"
    assert config["xt-services"] == {"storage": "filestorage"}
    assert "general" in config and "nope" not in config
    assert set(config) == {"external-services", "xt-services", "providers", "general"}
    assert len(config) == 4
    assert config.get("general") == {"workspace": "ws", "cache": "/scratch/me/cache"}
    assert config.get("missing", 7) == 7
    assert config["external-services"]["vaulted"]["secret-access-key"] == "$vault"
    assert json.loads(json.dumps(dict(config)))["general"]["workspace"] == "ws"
    with pytest.raises(KeyError):
        config["missing"]


def test_what_is_read_from_the_mapping_is_a_copy(cwd: Path) -> None:
    # store-memory redefined under providers.storage: a user provider's service takes any key.
    config = Config.from_mapping(
        {"providers": {"storage": {"store-memory": "xtstore.providers.memory.MemoryStore"}},
         "external-services": {"runs": {"provider": "store-memory", "tags": ["a"]}}}
    )
    services = config["external-services"]
    services["runs"]["provider"] = "store-file"
    services["runs"]["tags"].append("b")
    services["intruder"] = {"provider": "store-memory"}
    assert config["external-services"]["runs"] == {"provider": "store-memory", "tags": ["a"]}
    assert "intruder" not in config["external-services"]
    assert config.service("runs")["provider"] == "store-memory"
    with pytest.raises(TypeError):
        config["general"] = {}  # type: ignore[index]
