"""Configuration (docs/contract.md §3): layers merged key by key with per-key sources, ${ENV} and
"$vault" resolved when a service is opened, the retry section, and every mistake reported as
a ConfigError naming the file and the key path, without ever showing a secret."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.config import Config
from xtstore.errors import ConfigError, ProviderLoadError
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory.store import MemoryProvider
from xtstore.values import Capabilities

SECRET = "s3cr3t-VALUE-9f81c2"


class RecordingStore(MemoryProvider):
    """A real in-memory store that keeps the settings it was built with, and claims to be
    shared between processes so that it can be pickled (only its origin is pickled)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.config = dict(config)

    def capabilities(self) -> Capabilities:
        return replace(super().capabilities(), shared_between_processes=True)


class EchoingStore(MemoryProvider):
    """A provider whose constructor rejects its settings with a message quoting the key."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        raise ValueError(f"bad key {config['key']!r}")


RECORDING = "tests.test_config.RecordingStore"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory; provider modules imported from it are forgotten after."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield work
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None) or "".join(getattr(module, "__path__", []))
        if str(tmp_path) in str(location):
            del sys.modules[name]


def recorded(store: xtstore.Store) -> dict[str, Any]:
    assert isinstance(store.provider, RecordingStore)
    return store.provider.config


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


# ---- mistakes: a table ----

PROVIDER_MODULE = """
def helper():
    pass

class Partial:
    def __init__(self, config):
        pass
    def get_retry(self):
        return 0
"""

Case = tuple[str, dict[str, str], str, type[Exception], str, str]
# (id, files relative to cwd, action, error type, file named, key path named)
MISTAKES: list[Case] = [
    (
        "bad-yaml",
        {"xt_config.yaml": "external-services:\n  a: {type: storage\n  b: 1\n"},
        "load", ConfigError, "xt_config.yaml", "line ",
    ),
    (
        "duplicate-key",
        {"xt_config.yaml": "external-services:\n"
         "    a: {type: storage, provider: store-memory}\n"
         "    a: {type: storage, provider: store-file, path: /x}\n"},
        "load", ConfigError, "xt_config.yaml", "line 3",
    ),
    (
        "top-level-not-mapping",
        {"xt_config.yaml": "- one\n- two\n"},
        "load", ConfigError, "xt_config.yaml", "(top level)",
    ),
    (
        "unknown-provider",
        {"xt_config.yaml": "external-services:\n"
         "    mycloudstorage: {type: storage, provider: store-mycloud}\n"},
        "load", ProviderLoadError, "xt_config.yaml", "external-services.mycloudstorage.provider",
    ),
    (
        "provider-not-a-string",
        {"xt_config.yaml": "external-services:\n    s: {type: storage, provider: [a]}\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.s.provider",
    ),
    (
        "malformed-code-path",
        {"xt_config.yaml": "providers:\n    storage: {store-x: 'not a path!'}\n"},
        "load", ConfigError, "xt_config.yaml", "providers.storage.store-x",
    ),
    (
        "module-missing",
        {"xt_config.yaml": "providers:\n    storage: {store-x: nowhere_pkg.mod.Store}\n"
         "external-services:\n    s: {type: storage, provider: store-x}\n"},
        "open", ProviderLoadError, "xt_config.yaml", "providers.storage.store-x",
    ),
    (
        "attribute-missing",
        {"xt_config.yaml": "providers:\n    storage: {store-x: ext.mod.Missing}\n"
         "external-services:\n    s: {type: storage, provider: store-x}\n",
         "ext/mod.py": PROVIDER_MODULE},
        "open", ProviderLoadError, "xt_config.yaml", "providers.storage.store-x",
    ),
    (
        "not-a-class",
        {"xt_config.yaml": "external-services:\n    s: {type: storage, provider: ext.mod.helper}\n",
         "ext/mod.py": PROVIDER_MODULE},
        "open", ProviderLoadError, "xt_config.yaml", "external-services.s.provider",
    ),
    (
        "class-missing-methods",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: ext.mod.Partial}\n",
         "ext/mod.py": PROVIDER_MODULE},
        "open", ProviderLoadError, "xt_config.yaml", "external-services.s.provider",
    ),
    (
        "service-without-provider",
        {"xt_config.yaml": "external-services:\n    s: {type: storage, path: /x}\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.s.provider",
    ),
    (
        "service-not-a-mapping",
        {"xt_config.yaml": "external-services:\n    s: store-file\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.s",
    ),
    (
        "services-not-a-mapping",
        {"xt_config.yaml": "external-services: [a, b]\n"},
        "load", ConfigError, "xt_config.yaml", "external-services",
    ),
    (
        "default-names-unknown-service",
        {"xt_config.yaml": "xt-services: {storage: mycloud}\n"},
        "load", ConfigError, "xt_config.yaml", "xt-services.storage",
    ),
    (
        "default-is-not-storage",
        {"xt_config.yaml": "external-services:\n    b: {type: batch, provider: azure-batch}\n"
         "xt-services: {storage: b}\n"},
        "load", ConfigError, "xt_config.yaml", "xt-services.storage",
    ),
    (
        "opened-service-is-not-storage",
        {"xt_config.yaml": "external-services:\n    s: {type: batch, provider: azure-batch}\n"},
        "open", ConfigError, "xt_config.yaml", "external-services.s.type",
    ),
    (
        "path-not-a-string",
        {"xt_config.yaml": "external-services:\n    filestorage: {path: [1, 2]}\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.filestorage.path",
    ),
    (
        "retry-attempts-zero",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-memory, retry: {attempts: 0}}\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.s.retry.attempts",
    ),
    (
        "retry-attempts-not-int",
        {"top.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-memory, retry: {attempts: 2.5}}\n"},
        "load", ConfigError, "top.yaml", "external-services.s.retry.attempts",
    ),
    (
        "retry-unknown-key",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-memory, retry: {jitter: 1}}\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.s.retry.jitter",
    ),
    (
        "retry-not-a-mapping",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-memory, retry: 3}\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.s.retry",
    ),
    (
        "retry-from-env-not-a-number",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-memory, retry: {max-delay: '${XT_TEST_WORD}'}}\n"},
        "open", ConfigError, "xt_config.yaml", "external-services.s.retry.max-delay",
    ),
    (
        "missing-vault-secret",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: azure-blob, account: devstoreaccount1, key: $vault}\n"},
        "open", ConfigError, "xt_config.yaml", "external-services.s.key",
    ),
    (
        "missing-env-variable",
        {"top.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-file, path: '${XT_TEST_UNSET}/x'}\n"},
        "open", ConfigError, "top.yaml", "external-services.s.path",
    ),
    (
        "s3-addressing-style",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-s3, addressing-style: sideways}\n"},
        "load", ConfigError, "xt_config.yaml", "external-services.s.addressing-style",
    ),
    (
        "provider-table-not-a-mapping",
        {"xt_config.yaml": "providers:\n    storage: [store-x]\n"},
        "load", ConfigError, "xt_config.yaml", "providers.storage",
    ),
    (
        "provider-rejects-a-setting",
        {"xt_config.yaml": "external-services:\n    s: {type: storage, provider: store-file}\n"},
        "open", ConfigError, "xt_config.yaml", "external-services.s.path",
    ),
    (
        "provider-rejects-a-setting-of-a-lower-layer",
        {"xt_config.yaml": "external-services:\n"
         "    s: {type: storage, provider: store-s3, multipart-threshold: lots}\n",
         "top.yaml": "external-services:\n    s: {region: eu-west-1}\n"},
        "open", ConfigError, "xt_config.yaml", "external-services.s.multipart-threshold",
    ),
    (
        "provider-rejects-the-service",
        {"xt_config.yaml": "external-services:\n    s: {type: storage, provider: azure-blob}\n"},
        "open", ConfigError, "xt_config.yaml", "external-services.s: azure-blob needs",
    ),
    (
        "config-file-missing",
        {"xt_config.yaml": "{}\n"},
        "load-missing", ConfigError, "missing.yaml", "",
    ),
]


@pytest.mark.parametrize(
    ("files", "action", "error_type", "file_named", "key_path"),
    [case[1:] for case in MISTAKES],
    ids=[case[0] for case in MISTAKES],
)
def test_config_mistake_names_file_and_key_path(
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    action: str,
    error_type: type[Exception],
    file_named: str,
    key_path: str,
) -> None:
    for name, text in files.items():
        write(cwd / name, text)
    if "top.yaml" in files:
        monkeypatch.setenv("XTSTORE_CONFIG", "top.yaml")
    monkeypatch.setenv("XT_TEST_WORD", "soon")
    monkeypatch.delenv("XT_TEST_UNSET", raising=False)
    with pytest.raises(error_type) as raised:
        if action == "load":
            xtstore.load_config()
        elif action == "load-missing":
            xtstore.load_config("missing.yaml")
        else:
            xtstore.get_storage("s")
    error = raised.value
    assert isinstance(error, ConfigError)
    message = str(error)
    assert message.startswith(f"{file_named}: {key_path}"), message
    assert error.file == file_named
    if key_path:
        assert error.key_path is not None
        assert key_path.startswith(error.key_path) or error.key_path.startswith(key_path)


def test_unknown_provider_message_lists_the_known_ones(cwd: Path) -> None:
    write(
        cwd / "xt_config.yaml",
        "external-services:\n"
        "    mycloudstorage: {type: storage, provider: store-mycloud, account: x}\n",
    )
    with pytest.raises(ProviderLoadError) as raised:
        xtstore.load_config()
    assert str(raised.value).startswith(
        "xt_config.yaml: external-services.mycloudstorage.provider: 'store-mycloud' is not a"
        " known storage provider (known: azure-blob, azure-blob-21, azure-blob-210, store-file,"
    )


def test_bad_yaml_names_the_line(cwd: Path) -> None:
    write(cwd / "xt_config.yaml", "xt-services:\n    storage: runs\n  bad: [\n")
    with pytest.raises(ConfigError, match=r"^xt_config.yaml: line 3: invalid YAML"):
        xtstore.load_config()


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
                "echo": {"provider": "tests.test_config.EchoingStore", "key": "$vault"},
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
    monkeypatch.setenv("PROVIDER_MODULE", "tests.test_config")
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
