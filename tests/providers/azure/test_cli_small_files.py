"""``xtstore upload`` and ``xtstore download`` of small files to and from Azurite send one
request per file: a Put Blob carrying the file's mtime metadata up, a Get Blob down, the mtime
taken from the listing (``listing_metadata``). At 7b3926e each download sent a HEAD first, to
read that metadata. Requests are counted by a logging proxy between the CLI and Azurite."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.cli.conftest import xtstore_command
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import FaultProxy

FILES = 6
MTIME_NS = 1_600_000_000_123_456_789


def test_small_files_take_one_request_each_way(
    container: str, azurite: Azurite, azurite_proxy: FaultProxy, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for index in range(FILES):
        path = source / f"f{index}.bin"
        path.write_bytes(os.urandom(4096))
        os.utime(path, ns=(MTIME_NS, MTIME_NS + index))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"external-services": {"az": {
        "type": "storage", "provider": "azure-blob",
        "connection-string": azurite.connection_string.replace(
            azurite.endpoint, azurite_proxy.endpoint(azurite.endpoint))}}}), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("XTSTORE")}
    env.update({"XTSTORE_CONFIG": str(config), "HOME": str(tmp_path)})

    def run(*args: str) -> None:
        result = subprocess.run([*xtstore_command(), *args], capture_output=True, env=env,
                                cwd=tmp_path, timeout=60, check=False,
                                stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr.decode()

    def per_file(method: str) -> list[str]:
        return [entry.target for entry in azurite_proxy.requests(method)
                if f"/{container}/run/" in entry.target]

    azurite_proxy.clear()
    run("upload", str(source), f"az:{container}/run")
    assert len(per_file("PUT")) == FILES
    assert per_file("HEAD") == per_file("GET") == []
    azurite_proxy.clear()
    out = tmp_path / "out"
    run("download", f"az:{container}/run", str(out))
    assert len(per_file("GET")) == FILES
    assert per_file("HEAD") == [], "a HEAD before a download"
    for index in range(FILES):
        local = out / f"f{index}.bin"
        assert local.read_bytes() == (source / f"f{index}.bin").read_bytes()
        assert local.stat().st_mtime_ns == MTIME_NS + index  # from the listing's metadata
