"""Every config mistake is a ConfigError (or ProviderLoadError) naming the file and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

import xtstore
from tests.config.helpers import write
from xtstore.errors import ConfigError, ProviderLoadError

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
