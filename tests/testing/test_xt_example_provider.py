"""XT's documented example provider (examples/xt_provider) passes the whole conformance suite,
loaded exactly as XT's page says: ``./xt_config.yaml`` names ``store-mycloud`` with the code
path ``extensions.my_cloud_storage.MyCloudStorage``, found in a subdirectory of the working
directory."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import xtstore
from xtstore.store import Store
from xtstore.testing import ConformanceSuite, SuiteOptions
from xtstore.testing.options import MiB

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "xt_provider"


@pytest.fixture
def example_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A copy of the example as the working directory, its cloud in a fresh folder."""
    work = tmp_path / "app"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(work)
    monkeypatch.setenv("MYCLOUD_ROOT", str(tmp_path / "cloud"))
    # Loading the example adds this folder to sys.path and imports `extensions`: undo both,
    # so later tests with an extensions/ folder of their own get theirs.
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield work
    for name in [n for n in sys.modules if n == "extensions" or n.startswith("extensions.")]:
        del sys.modules[name]


class TestXtExampleConformance(ConformanceSuite):
    options = SuiteOptions(large_blob_size=64 * MiB)

    @pytest.fixture
    def store(self, example_dir: Path) -> Store:
        return xtstore.get_storage()


def test_example_is_the_configured_default_service(example_dir: Path, tmp_path: Path) -> None:
    store = xtstore.get_storage()
    assert store.get_service_name() == "mycloudstorage"
    assert type(store.provider).__name__ in {"ForeignProvider", "MyCloudStorage"}
    store.create_container("xt-example")
    store.create_blob("xt-example", "runs/run1/log.txt", "hello from XT's example\n")
    cloud = tmp_path / "cloud" / "mycoudstorage.com" / "myservice" / "xt-example"
    assert (cloud / "blobs" / "runs" / "run1" / "log.txt").read_text() == (
        "hello from XT's example\n"
    )


def test_check_provider_runs_the_suite_on_the_example(example_dir: Path) -> None:
    command = shutil.which("xtstore")
    assert command is not None, "the xtstore command is not installed"
    result = subprocess.run(
        [command, "check-provider", "extensions.my_cloud_storage.MyCloudStorage",
         "-k", "list_blobs or race"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "list_blobs_folder_path_never_matches_sibling_prefix" in result.stdout
    assert "fail_if_exists_race_exactly_one_creator_wins" in result.stdout
    # The one skip: an XT class's listings carry no metadata (the clause proves it first).
    assert re.search(r"\b1[0-9] passed, 0 failed, 1 skipped", result.stdout), result.stdout
    assert "listing_metadata is False" in result.stdout
