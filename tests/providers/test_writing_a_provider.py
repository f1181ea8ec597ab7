"""docs/writing-a-provider.md, followed word for word: its files are written into a temporary
folder, registered through a description, and its commands give the output the page shows."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import xtstore
from tests.cli.conftest import xtstore_command
from xtstore import catalog
from xtstore.errors import ProviderLoadError
from xtstore.interface import ONE_OF_EACH, StoreInterface, unimplemented_methods
from xtstore.registry import known_providers
from xtstore.registry.load import check_provider_class

PAGE = Path(__file__).resolve().parents[2] / "docs" / "writing-a-provider.md"
BLOCK = re.compile(r"```(?P<lang>\w+)\n(?P<body>.*?)```", re.DOTALL)


def page_files() -> dict[str, str]:
    """Every fenced block of the page that starts with ``# file: PATH``."""
    files = {}
    for block in BLOCK.finditer(PAGE.read_text(encoding="utf-8")):
        first, _, _ = block["body"].partition("\n")
        if first.startswith("# file: "):
            files[first.removeprefix("# file: ")] = block["body"]
    return files


def console_block() -> list[str]:
    """The lines of the page's first ``console`` block (the walkthrough's)."""
    text = PAGE.read_text(encoding="utf-8")
    block = next(found for found in BLOCK.finditer(text) if found["lang"] == "console")
    return block["body"].splitlines()


def page_command(start: str) -> list[str]:
    """The arguments of the page's ``$ xtstore ...`` command that starts with ``start``."""
    text = PAGE.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith(f"$ xtstore {start}"))
    return line.removeprefix("$ xtstore ").split()


def shown_after(command: str) -> list[str]:
    """What the console block shows after ``$ command`` (up to the next prompt)."""
    lines = console_block()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"$ {command}"))
    shown = []
    for line in lines[start + 1:]:
        if line.startswith("$ "):
            break
        shown.append(line)
    return shown


@pytest.fixture
def folder(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    for name, body in page_files().items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    monkeypatch.chdir(work)
    return work


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*xtstore_command(), *args], capture_output=True, text=True,
                          cwd=folder, env=dict(os.environ), timeout=120, check=False)


def words(lines: list[str]) -> list[list[str]]:
    return [line.split() for line in lines if line.strip()]


def test_the_page_writes_a_provider_package_and_its_config(folder: Path) -> None:
    assert sorted(page_files()) == [
        "minimal_store.py", "tiny_store/__init__.py", "tiny_store/description.py",
        "tiny_store/store.py", "xt_config.yaml",
    ]


def test_config_validate_catches_the_misspelled_key_as_the_page_shows(folder: Path) -> None:
    config = folder / "xt_config.yaml"
    config.write_text(config.read_text().replace("label: scratch", "lable: scratch"))
    result = run(folder, "config", "--validate")
    assert result.returncode == 1
    assert result.stderr.splitlines() == shown_after("xtstore config --validate          # with")

    config.write_text(config.read_text().replace("lable: scratch", "label: scratch"))
    result = run(folder, "config", "--validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == shown_after("xtstore config --validate          # fixed")


def test_providers_keys_lists_the_keys_as_the_page_shows(folder: Path) -> None:
    result = run(folder, "providers", "--keys", "store-tiny")
    assert result.returncode == 0, result.stderr
    assert words(result.stdout.splitlines()) == words(shown_after("xtstore providers --keys"))


def test_the_provider_passes_the_conformance_selection_the_page_runs(folder: Path) -> None:
    command = next(line for line in console_block() if line.startswith("$ xtstore check-provider"))
    result = run(folder, *command.removeprefix("$ xtstore ").split())
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b[1-9]\d* passed, 0 failed", result.stdout), result.stdout


def test_one_registration_line_makes_it_a_builtin_provider(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setitem(catalog.BUILTIN_DESCRIPTIONS, "store-tiny",
                        "tiny_store.description")
    catalog.builtin_descriptions.cache_clear()
    try:
        assert "store-tiny" in known_providers({})
        # A built-in provider's keys are checked when the config is loaded.
        with pytest.raises(xtstore.ConfigError, match="did you mean 'label'") as raised:
            xtstore.get_storage("t", {"external-services": {"t": {
                "provider": "store-tiny", "lable": "x"}}})
        assert raised.value.key_path == "external-services.t.lable"
        with pytest.raises(xtstore.ConfigError, match="must be at least 1, not 0"):
            xtstore.get_storage("t", {"external-services": {"t": {
                "provider": "store-tiny", "label": "x", "capacity": 0}}})
        store = xtstore.get_storage("t", {"external-services": {"t": {
            "provider": "store-tiny", "label": "x"}}})
        assert type(store.provider).__name__ == "TinyProvider"
        assert store.provider.label == "x"  # type: ignore[attr-defined]
    finally:
        catalog.builtin_descriptions.cache_clear()
        for name in [name for name in sys.modules if name.startswith("tiny_store")]:
            del sys.modules[name]


# ---- the minimal provider ----

INTERFACE_METHODS = frozenset(
    name for name in dir(StoreInterface)
    if not name.startswith("_") and callable(getattr(StoreInterface, name))
)


def without(cls: type[StoreInterface], names: set[str]) -> type[StoreInterface]:
    """A copy of ``cls`` (same name) that does not have the methods ``names``."""
    body = {key: value for key, value in vars(cls).items()
            if key not in names and key not in ("__dict__", "__weakref__")}
    return type(cls.__name__, (StoreInterface,), body)


@pytest.fixture
def minimal_store(folder: Path, monkeypatch: pytest.MonkeyPatch) -> type[StoreInterface]:
    monkeypatch.syspath_prepend(str(folder))
    module = importlib.import_module("minimal_store")
    monkeypatch.delitem(sys.modules, "minimal_store")
    cls: type[StoreInterface] = module.MinimalStore
    return cls


def test_the_minimal_provider_writes_only_what_the_interface_cannot_build(
    minimal_store: type[StoreInterface],
) -> None:
    written = INTERFACE_METHODS & set(vars(minimal_store))
    # capabilities() only says what the store is; the rest is the least a provider writes.
    required = {*StoreInterface.__abstractmethods__, "create_blob_from_stream", "iter_blobs"}
    assert sorted(written - {"capabilities"}) == sorted(required)
    assert unimplemented_methods(minimal_store) == []
    assert minimal_store({"name": "m"}).does_blob_exist("none", "x") is False
    for name in written - {"capabilities"}:
        assert unimplemented_methods(without(minimal_store, {name})), (
            f"{name} has a default: the page need not write it")


def test_the_minimal_provider_passes_the_whole_conformance_suite(folder: Path) -> None:
    result = run(folder, "--json", *page_command("check-provider minimal_store"))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    outcomes = {row["clause"]: row["outcome"] for row in report["results"]}
    assert report["ok"] and len(outcomes) > 60
    # What the page says is skipped, and why: no metadata setters, blobs held in memory, no
    # content types, no list_snapshots, no metadata in listings, no properties from downloads.
    assert sorted(clause for clause, outcome in outcomes.items() if outcome != "passed") == [
        "blob_metadata_round_trips", "container_metadata_round_trips",
        "content_type_is_read_back_in_properties",
        "copy_blob_carries_metadata_given_at_upload",
        "copy_blob_carries_the_source_metadata",
        "failed_upload_with_metadata_leaves_the_old_blob_and_its_metadata",
        "get_blob_to_path_returns_the_written_versions_properties",
        "list_blobs_listing_metadata_is_the_blobs_metadata",
        "metadata_given_at_upload_is_read_back_exactly",
        "metadata_given_at_upload_replaces_the_old_metadata",
        "metadata_is_stored_in_the_same_write_as_the_content",
        "mtime_metadata_round_trips_to_the_nanosecond",
        "random_seeks_and_reads_over_a_large_blob_match_the_bytes",
        "snapshots_of_the_blobs_below_a_name_are_not_its_own",
        "streaming_uses_bounded_memory",
        "upload_without_metadata_leaves_none",
        "writer_memory_is_bounded_for_many_small_writes",
        "writer_replaces_the_blob_and_clears_its_metadata"]


def test_a_class_missing_methods_is_refused_as_the_page_shows(
    minimal_store: type[StoreInterface],
) -> None:
    text = PAGE.read_text(encoding="utf-8")
    shown = next(line for line in text.splitlines()
                 if line.startswith("xtstore: error: 'minimal_store.MinimalStore'"))
    lacking = without(minimal_store, {"snapshot_blob", *ONE_OF_EACH[0]})
    with pytest.raises(ProviderLoadError) as raised:
        check_provider_class(lacking, "minimal_store.MinimalStore")
    assert f"xtstore: error: {raised.value}" == shown
    with pytest.raises(TypeError, match="does not implement snapshot_blob, either list_blobs "
                                        "or iter_blobs"):
        lacking({"name": "m"})
