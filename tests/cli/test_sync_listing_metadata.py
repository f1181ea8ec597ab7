"""A no-change re-sync to a store whose listings carry metadata
(``capabilities().listing_metadata``: store-file) reads no blob's properties: the ``mtime``
each upload kept comes with the listing. Counted on a real store-file through a provider class
loaded from the config that records every ``get_blob_properties`` it serves (at 7b3926e the
re-sync read the properties of every blob, one call each)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok

COUNTING_STORE = '''
import os

from xtstore.providers.file.store import FileProvider


class CountingStore(FileProvider):
    """store-file, appending a line to $PROPERTY_LOG for each get_blob_properties."""

    def get_blob_properties(self, container, blob_path):
        with open(os.environ["PROPERTY_LOG"], "a", encoding="utf-8") as log:
            log.write(blob_path + "\\n")
        return super().get_blob_properties(container, blob_path)


class NoListingMetadata(CountingStore):
    """The same store declaring that its listings carry no metadata."""

    def capabilities(self):
        from dataclasses import replace
        return replace(super().capabilities(), listing_metadata=False)
'''

FILES = 20


@pytest.fixture
def counting(services: Services, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A config with both counting services, and the environment that names the log."""
    (services.work / "extensions").mkdir()
    (services.work / "extensions" / "counting_store.py").write_text(COUNTING_STORE,
                                                                   encoding="utf-8")
    config = tmp_path / "counting.yaml"
    config.write_text(
        "external-services:\n"
        "    listed: {type: storage, provider: extensions.counting_store.CountingStore, "
        f"path: '{tmp_path / 'root'}'}}\n"
        "    unlisted: {type: storage, provider: extensions.counting_store.NoListingMetadata, "
        f"path: '{tmp_path / 'root'}'}}\n"
        "xt-services:\n"
        "    storage: listed\n", encoding="utf-8")
    env = {**services.env, "XTSTORE_CONFIG": str(config),
           "PROPERTY_LOG": str(tmp_path / "properties.log"), "PYTHONPATH": ":".join(
               filter(None, [str(services.work), services.env.get("PYTHONPATH", "")]))}
    source = services.work / "src"
    for index in range(FILES):
        (source / f"d{index % 3}").mkdir(parents=True, exist_ok=True)
        (source / f"d{index % 3}" / f"f{index}.txt").write_bytes(b"x" * index)
    return tmp_path / "properties.log", env


def sync(xt: Runner, env: dict[str, str], dest: str) -> dict[str, int]:
    summary = json.loads(ok(xt("sync", "src", dest, "--json", env=env)))
    assert summary["failed"] == [], summary
    return {key: summary[key] for key in ("copied", "skipped", "deleted")}


def reads(log: Path) -> int:
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


@pytest.mark.parametrize("service, per_blob", [("listed", 0), ("unlisted", FILES)])
def test_a_no_change_resync_reads_properties_only_where_the_listing_lacks_metadata(
    xt: Runner, counting: tuple[Path, dict[str, str]], service: str, per_blob: int
) -> None:
    log, env = counting
    ok(xt("containers", "create", f"{service}:runs", env=env))
    assert sync(xt, env, f"{service}:runs/exp") == {"copied": FILES, "skipped": 0,
                                                     "deleted": 0}
    log.unlink(missing_ok=True)
    assert sync(xt, env, f"{service}:runs/exp") == {"copied": 0, "skipped": FILES,
                                                     "deleted": 0}
    assert reads(log) == per_blob
    # A changed file is still seen (the listing's mtime is the one the upload kept).
    (Path(env["PYTHONPATH"].split(":")[0]) / "src/d1/f1.txt").write_bytes(b"changed")
    assert sync(xt, env, f"{service}:runs/exp")["copied"] == 1
