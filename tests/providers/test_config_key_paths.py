"""One key-path convention for every built-in provider: a provider's ConfigError names the key
relative to its service (docs/contract.md §3), and xtstore adds the rest, so the same mistake
reads the same whether a provider class is built bare (as XT builds it) or through a config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import ConfigError

MISTAKES = [
    ("store-file", "xtstore.providers.file.store.FileProvider", {}, "path"),
    ("azure-blob", "xtstore.providers.azure.store.AzureBlobProvider",
     {"connection-string": "UseDevelopmentStorage=true", "max-concurrency": "many"},
     "max-concurrency"),
    ("azure-blob", "xtstore.providers.azure.store.AzureBlobProvider",
     {"connection-string": "UseDevelopmentStorage=true", "timeout": "soon"}, "timeout"),
    ("store-s3", "xtstore.providers.s3.store.S3Provider",
     {"endpoint-url": "http://127.0.0.1:9", "read-timeout": "slow"}, "read-timeout"),
    ("store-fsspec", "xtstore.providers.fsspec_store.store.FsspecProvider", {}, "url"),
]


def _provider_class(code_path: str) -> Any:
    module, _, name = code_path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


@pytest.mark.parametrize(("provider", "code_path", "settings", "key"), MISTAKES,
                         ids=[f"{m[0]}-{m[3]}" for m in MISTAKES])
def test_a_bad_key_is_named_relative_to_the_service(
    provider: str, code_path: str, settings: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _provider_class(code_path)({"name": "runs", **settings})
    assert raised.value.key_path == key


@pytest.mark.parametrize(("provider", "code_path", "settings", "key"), MISTAKES,
                         ids=[f"{m[0]}-{m[3]}" for m in MISTAKES])
def test_through_a_config_the_key_path_is_the_full_one(
    tmp_path: Path, provider: str, code_path: str, settings: dict[str, Any], key: str
) -> None:
    # The provider's own check, not the config's: the service is built from a code path the
    # config checks nothing of.
    config = {"external-services": {"runs": {"provider": code_path, **settings}}}
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage("runs", config=config)
    assert raised.value.key_path == f"external-services.runs.{key}"
