"""``delete_blobs`` on azure-blob is Blob Batch: up to 256 Delete Blobs (with their snapshots)
in one request, each name's outcome its own, safe to repeat after a lost response; ``rm -r``
sends one batch for up to 256 blobs (at 7b3926e: a Delete Blob for each)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.conftest import xtstore_command
from tests.providers.azure.counting import RequestCounter
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import Fault, FaultProxy
from xtstore.errors import BlobNotFound


def test_300_deletes_are_two_batches_and_each_name_has_its_outcome(
    make_store: Callable[..., Any], container: str
) -> None:
    counter = RequestCounter()
    store = make_store(**{"client-options": {"raw_request_hook": counter}})
    names = [f"run/{index:03d}.txt" for index in range(300)]
    for name in names:
        store.create_blob(container, name, "x")
    store.snapshot_blob(container, names[7])
    store.create_blob(container, "keep.txt", "k")
    assert store.deletes_in_batches
    counter.reset()
    outcomes = store.delete_blobs(container, [*names, "run/never.txt", names[0]])
    assert counter.methods == ["POST comp=batch"] * 2
    assert list(outcomes) == [*names, "run/never.txt"]
    assert all(outcomes[name] is None for name in names)
    missing = outcomes["run/never.txt"]
    assert isinstance(missing, BlobNotFound)
    assert (missing.service, missing.container, missing.blob) == ("az", container,
                                                                  "run/never.txt")
    assert store.list_blobs(container) == ["keep.txt"]
    assert store.list_snapshots(container, names[7]) == []  # deleted with its blob


def test_a_batch_whose_response_was_lost_is_repeated_without_reporting_not_found(
    make_store: Callable[..., Any], container: str, azurite: Azurite, azurite_proxy: FaultProxy
) -> None:
    direct = make_store()
    names = [f"lost/{index}.txt" for index in range(5)]
    for name in names:
        direct.create_blob(container, name, "x")
    store = make_store(
        "proxied",
        **{"connection-string": azurite.connection_string.replace(
            azurite.endpoint, azurite_proxy.endpoint(azurite.endpoint)),
           "retry": {"attempts": 3, "base-delay": 0.01, "max-delay": 0.02}})
    # Applied, the answer lost.
    azurite_proxy.inject(Fault.reset_after(), method="POST", path="comp=batch")
    outcomes = store.delete_blobs(container, names)
    assert outcomes == dict.fromkeys(names)
    assert len(azurite_proxy.requests("POST")) == 2
    assert direct.list_blobs(container) == []


def test_rm_r_sends_one_batch(make_store: Callable[..., Any], container: str,
                              azurite: Azurite, azurite_proxy: FaultProxy, tmp_path: Path) -> None:
    store = make_store()
    names = [f"run/{index:02d}.txt" for index in range(25)]
    for name in names:
        store.create_blob(container, name, name)
    store.create_blob(container, "keep.txt", "k")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"external-services": {"az": {
        "type": "storage", "provider": "azure-blob",
        "connection-string": azurite.connection_string.replace(
            azurite.endpoint, azurite_proxy.endpoint(azurite.endpoint))}}}), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("XTSTORE")}
    env.update({"XTSTORE_CONFIG": str(config), "HOME": str(tmp_path)})
    azurite_proxy.clear()
    result = subprocess.run([*xtstore_command(), "rm", "-r", f"az:{container}/run"],
                            capture_output=True, env=env, cwd=tmp_path, timeout=60,
                            check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(result.stdout.decode().splitlines()) == [f"az:{container}/{name}"
                                                          for name in names]
    assert store.list_blobs(container) == ["keep.txt"]
    assert len(azurite_proxy.requests("POST", "comp=batch")) == 1, [
        e.target for e in azurite_proxy.log]
    assert azurite_proxy.requests("DELETE") == []

