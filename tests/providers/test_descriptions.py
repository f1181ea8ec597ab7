"""Each built-in provider describes itself once (``providers/<name>/description.py``), and
everything that lists its keys reads that description: ``xtstore providers --keys``, secret
redaction and the docs' key tables."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.cli.conftest import xtstore_command
from tests.servers.azurite import KEY as AZURITE_KEY
from xtstore.catalog import BUILTIN_DESCRIPTIONS, builtin_description
from xtstore.config import Config
from xtstore.describe import ConfigKey, ProviderDescription
from xtstore.registry import load_provider_class

REPO = Path(__file__).resolve().parents[2]


def descriptions() -> list[ProviderDescription]:
    found = [builtin_description(name) for name in BUILTIN_DESCRIPTIONS]
    return [description for description in found if description is not None]


def test_every_builtin_provider_has_one_description_under_its_own_name() -> None:
    assert len(descriptions()) == len(BUILTIN_DESCRIPTIONS) == 6
    for name in BUILTIN_DESCRIPTIONS:
        description = builtin_description(name)
        assert description is not None and description.name == name
        assert len({key.name for key in description.keys}) == len(description.keys)
    azure = builtin_description("azure-blob-21")
    assert azure is not None and azure.name == "azure-blob"


def test_reading_the_descriptions_imports_no_provider_code_or_sdk() -> None:
    code = (
        "import sys; from xtstore.catalog import builtin_descriptions;"
        "builtin_descriptions();"
        "bad = [m for m in sys.modules if m.startswith(('azure', 'boto3', 'botocore', 'fsspec',"
        " 'google'))"
        " or (m.startswith('xtstore.providers.') and m.rpartition('.')[2] not in"
        " ('description', 'file', 'memory', 'azure', 's3', 'fsspec_store', 'gcs'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_docs_key_tables_are_the_descriptions() -> None:
    script = runpy.run_path(str(REPO / "scripts" / "provider_docs.py"))
    assert script["main"](["--check"]) == 0, "run python scripts/provider_docs.py"
    for page, description in script["pages"]().items():
        text = (REPO / "docs" / "providers" / page).read_text(encoding="utf-8")
        for key in description.keys:
            assert f"| `{key.name}`" in text


@pytest.mark.parametrize("name", sorted(BUILTIN_DESCRIPTIONS))
def test_providers_keys_prints_every_key_of_the_description(
    name: str, tmp_path: Path
) -> None:
    described = builtin_description(name)
    assert described is not None
    result = subprocess.run([*xtstore_command(), "--json", "providers", "--keys", name],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["name"] == name and shown["extra"] == described.extra
    assert [row["name"] for row in shown["keys"]] == [key.name for key in described.keys]
    assert [row["secret"] for row in shown["keys"]] == [key.secret for key in described.keys]
    assert shown["capabilities"]["local"] is described.capabilities.local
    assert shown["capabilities"]["append"] == described.capabilities.append.value
    table = subprocess.run([*xtstore_command(), "providers", "--keys", name],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60,
                           check=False)
    assert table.returncode == 0
    assert f"append {described.capabilities.append.value}," in table.stdout
    for key in described.keys:
        row = next(line for line in table.stdout.splitlines() if line.startswith(key.name))
        assert ("yes" in row.split()) == key.secret
        assert key.help.split()[0] in row


def _sample(key: ConfigKey) -> Any:
    samples = {"mapping": {}, "integer": 8388608, "number": 30, "seconds": 30, "timeouts": 30}
    return samples.get(key.type, key.choices[0] if key.choices else "x-value")


def test_redaction_follows_the_descriptions() -> None:
    services = {
        f"s{index}": {"provider": description.name,
                      **{key.name: _sample(key) for key in description.keys}}
        for index, description in enumerate(descriptions())
    }
    shown = Config.from_mapping({"external-services": services}).redacted()["external-services"]
    for name, settings in services.items():
        described = builtin_description(settings["provider"])
        assert described is not None
        for key in described.keys:
            value = shown[name][key.name]
            assert (value == "***") == key.secret, (described.name, key.name, value)


def test_the_former_code_paths_still_load_the_same_classes(tmp_path: Path) -> None:
    from xtstore.providers.azure.store import AzureBlobStore
    from xtstore.providers.fsspec_store.store import FsspecStore

    assert load_provider_class("xtstore.providers.azure_blob.AzureBlobStore", {}) is (
        AzureBlobStore
    )
    assert load_provider_class("xtstore.providers.fsspec.FsspecStore", {}) is FsspecStore
    for old, new in [("xtstore.providers.file.FileStore", "store-file"),
                     ("xtstore.providers.memory.MemoryStore", "store-memory"),
                     ("xtstore.providers.s3.S3Store", "store-s3")]:
        assert load_provider_class(old, {}) is load_provider_class(new, {})
    # A former code path is still the built-in provider: its keys are checked.
    with pytest.raises(xtstore.ConfigError, match="did you mean 'url'"):
        xtstore.get_storage("old", {"external-services": {"old": {
            "provider": "xtstore.providers.fsspec.FsspecStore", "ulr": "memory://old"}}})
    store = xtstore.get_storage("old", {"external-services": {"old": {
        "provider": "xtstore.providers.fsspec.FsspecStore", "url": "memory://old"}}})
    store.create_container("runs")
    assert store.list_containers() == ["runs"]
    # The package no longer has a module named like the fsspec package it builds on.
    assert not (REPO / "src" / "xtstore" / "providers" / "fsspec.py").exists()


# Settings that build each provider without contacting a store (nothing listens on port 9).
OFFLINE_SETTINGS: dict[str, dict[str, Any]] = {
    "store-file": {"path": "{tmp}"},
    "store-memory": {},
    "azure-blob": {"account": "http://127.0.0.1:9/devstoreaccount1", "key": AZURITE_KEY},
    "store-s3": {"endpoint-url": "http://127.0.0.1:9", "region": "us-east-1",
                 "access-key-id": "id", "secret-access-key": "not-a-secret"},
}


@pytest.mark.parametrize("name", sorted(OFFLINE_SETTINGS))
def test_each_provider_reports_the_capabilities_its_description_declares(
    name: str, tmp_path: Path
) -> None:
    described = builtin_description(name)
    assert described is not None
    settings = {key: value.format(tmp=tmp_path) for key, value in OFFLINE_SETTINGS[name].items()}
    store = load_provider_class(name, {})({"name": "caps", **settings})
    assert store.capabilities() == described.capabilities
    # Blobs on this machine: local files or this process's memory.
    assert store.capabilities().local is (name in ("store-file", "store-memory"))


def test_store_fsspec_starts_from_its_description_and_says_where_its_blobs_live(
    tmp_path: Path,
) -> None:
    described = builtin_description("store-fsspec")
    assert described is not None and not described.capabilities.local
    fsspec_store = load_provider_class("store-fsspec", {})
    in_memory = fsspec_store({"name": "m", "url": f"memory://caps-{tmp_path.name}"}).capabilities()
    on_disk = fsspec_store({"name": "d", "url": f"file://{tmp_path}"}).capabilities()
    for found in (in_memory, on_disk):
        assert (found.snapshots, found.server_side_copy, found.metadata) == (
            described.capabilities.snapshots, described.capabilities.server_side_copy,
            described.capabilities.metadata)
        assert found.local
    assert (in_memory.shared_between_processes, on_disk.shared_between_processes) == (False, True)
