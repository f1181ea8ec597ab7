"""Sequential and random ranged reads through xtstore against the raw SDK's own ranged
downloads, on Azurite and moto (started on 127.0.0.1 by this script).

For each store, the same blob is read:
  - sequentially to its end in 1 MiB reads: ``open_blob`` against the SDK's whole download
    (azure-storage-blob ``download_blob().readinto``, boto3 ``download_fileobj``);
  - at ``--reads`` random offsets, ``--read-kib`` each: ``open_blob`` with seek and read,
    ``get_blob_range``, and the SDK's ranged download (``download_blob(offset, length)``,
    ``get_object(Range=...)``).
Figures: wall time and this process's CPU (the best of ``--rounds``, straight to the server),
the GETs each pattern sends (counted once through the fault proxy, no faults injected), and
xtstore's CPU as a ratio of the SDK's for the same work.

Run from the repository root:
    python benchmarks/bench_ranged_reads.py [--size-mib 64] [--reads 200] [--read-kib 64]
The machine is shared, so wall times are noisy; read CPU and GETs, and the load printed
beside them.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.azurite import running_azurite  # noqa: E402
from tests.servers.fault_proxy import FaultProxy, running_proxy  # noqa: E402
from tests.servers.s3_server import start_moto  # noqa: E402

import xtstore  # noqa: E402

CONTAINER = "bench"
BLOB = "big.bin"
CHUNK = 1 << 20


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Workload:
    data: bytes
    offsets: list[int]
    read_size: int

    def check_ranges(self, pieces: list[bytes]) -> None:
        for offset, piece in zip(self.offsets, pieces, strict=True):
            assert piece == self.data[offset:offset + self.read_size], offset


@dataclass(frozen=True)
class Clients:
    """One store's readers: xtstore's and the SDK's, each a function of the workload."""

    store: Any
    sequential_sdk: Callable[[], bytes]
    range_sdk: Callable[[int, int], bytes]


def _sequential_xtstore(store: Any) -> bytes:
    out = io.BytesIO()
    with store.open_blob(CONTAINER, BLOB) as stream:
        while piece := stream.read(CHUNK):
            out.write(piece)
    return out.getvalue()


def _seek_reads(store: Any, work: Workload) -> list[bytes]:
    with store.open_blob(CONTAINER, BLOB) as stream:
        pieces = []
        for offset in work.offsets:
            stream.seek(offset)
            pieces.append(stream.read(work.read_size))
    return pieces


def _range_calls(store: Any, work: Workload) -> list[bytes]:
    return [store.get_blob_range(CONTAINER, BLOB, offset, offset + work.read_size)
            for offset in work.offsets]


def _patterns(clients: Clients, work: Workload) -> dict[str, tuple[str, Callable[[], Any]]]:
    """name → (the SDK baseline's name, the pattern)."""
    return {
        "sequential, open_blob": ("sequential, SDK download",
                                  lambda: _sequential_xtstore(clients.store)),
        "sequential, SDK download": ("", clients.sequential_sdk),
        "random, open_blob seek+read": ("random, SDK ranged GET",
                                        lambda: _seek_reads(clients.store, work)),
        "random, get_blob_range": ("random, SDK ranged GET",
                                   lambda: _range_calls(clients.store, work)),
        "random, SDK ranged GET": ("", lambda: [clients.range_sdk(offset, work.read_size)
                                                for offset in work.offsets]),
    }


def _check(name: str, result: Any, work: Workload) -> None:
    if name.startswith("sequential"):
        assert result == work.data, name
    else:
        work.check_ranges(result)


def _rows(label: str, direct: Clients, proxied: Clients, proxy: FaultProxy, work: Workload,
          rounds: int) -> None:
    direct.store.create_container(CONTAINER)
    direct.store.create_blob(CONTAINER, BLOB, work.data)
    counted = _patterns(proxied, work)
    measured: dict[str, tuple[float, float, int]] = {}
    for name, (_, run) in _patterns(direct, work).items():
        proxy.clear()
        _check(name, counted[name][1](), work)
        gets = len(proxy.requests("GET"))
        best = (float("inf"), float("inf"))
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), _cpu()
            _check(name, run(), work)
            best = min(best, (time.perf_counter() - wall, _cpu() - cpu))
        measured[name] = (*best, gets)
    for name, (baseline, _) in counted.items():
        wall, cpu, gets = measured[name]
        ratio = f"{cpu / measured[baseline][1]:.2f}" if baseline else "1 (baseline)"
        print(f"| {label} | {name} | {wall:.3f} | {cpu:.3f} | {gets} | {ratio} |", flush=True)


def _azure_clients(connection_string: str) -> Clients:
    from azure.storage.blob import BlobServiceClient

    entry = {"type": "storage", "provider": "azure-blob", "connection-string": connection_string}
    store = xtstore.get_storage("a", config={"external-services": {"a": entry}})
    blob = BlobServiceClient.from_connection_string(connection_string).get_blob_client(
        CONTAINER, BLOB)

    def sequential() -> bytes:
        out = io.BytesIO()
        blob.download_blob().readinto(out)
        return out.getvalue()

    def ranged(offset: int, length: int) -> bytes:
        return bytes(blob.download_blob(offset=offset, length=length).readall())

    return Clients(store, sequential, ranged)


def _s3_clients(entry: dict[str, Any]) -> Clients:
    import boto3
    from botocore.config import Config as BotoConfig

    store = xtstore.get_storage("s", config={"external-services": {"s": entry}})
    client = boto3.client(
        "s3", endpoint_url=entry["endpoint-url"], region_name=entry["region"],
        aws_access_key_id=entry["access-key-id"],
        aws_secret_access_key=entry["secret-access-key"],
        config=BotoConfig(s3={"addressing_style": "path"}))

    def sequential() -> bytes:
        out = io.BytesIO()
        client.download_fileobj(CONTAINER, BLOB, out)
        return out.getvalue()

    def ranged(offset: int, length: int) -> bytes:
        response = client.get_object(Bucket=CONTAINER, Key=BLOB,
                                     Range=f"bytes={offset}-{offset + length - 1}")
        return bytes(response["Body"].read())

    return Clients(store, sequential, ranged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--read-kib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID="test",
                      AWS_SECRET_ACCESS_KEY="test")
    seeded = random.Random(1)
    size, read_size = args.size_mib << 20, args.read_kib << 10
    work = Workload(seeded.randbytes(size),
                    [seeded.randrange(size - read_size) for _ in range(args.reads)], read_size)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.size_mib} MiB blob; "
          f"{args.reads} random reads of {args.read_kib} KiB")
    print("| store | pattern | wall s | CPU s | GETs | CPU / SDK's |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        with running_azurite(Path(scratch)) as azurite, \
                running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=60.0,
                              lifetime=900.0) as proxy:
            proxied = azurite.connection_string.replace(azurite.endpoint,
                                                        proxy.endpoint(azurite.endpoint))
            _rows("azure-blob", _azure_clients(azurite.connection_string),
                  _azure_clients(proxied), proxy, work, args.rounds)
        with start_moto(Path(scratch) / "moto.log") as moto, \
                running_proxy(moto.endpoint_url, hold_limit=60.0, lifetime=900.0) as proxy:
            _rows("store-s3", _s3_clients(moto.service_config()),
                  _s3_clients(moto.service_config(**{"endpoint-url": proxy.url})), proxy, work,
                  args.rounds)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
