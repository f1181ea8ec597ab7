"""``open_blob`` reads on Azurite and moto (the servers it starts on 127.0.0.1) against the raw
SDK's: wall time and this process's CPU, the best of ``--rounds``, read straight from the
server, and the requests one read sends, counted through the fault proxy (no faults injected).
Sequential: ``read()`` and ``read(1 MiB)`` to the end, against the SDK's own download (Azure
``download_blob().readinto``, S3 ``download_fileobj``). Random: ``--random`` reads of 64 KiB
at random offsets (seek, read; and ``get_blob_range``), against one ranged download each (Azure
``download_blob(offset, length)``, S3 ``get_object(Range=...)``).

Run from the repository root:  ``python benchmarks/bench_open_blob.py [--size-mib 64]``
The machine is shared, so wall times are noisy; the CPU and the GETs are the figures to read.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.azurite import running_azurite  # noqa: E402
from tests.servers.fault_proxy import FaultProxy, running_proxy  # noqa: E402
from tests.servers.s3_server import start_moto  # noqa: E402

import xtstore  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _read_all(stream: Any) -> bytes:
    pieces = []
    while piece := stream.read(1 << 20):
        pieces.append(piece)
    return b"".join(pieces)


PIECE = 64 * 1024


def _offsets(data: bytes, count: int) -> list[int]:
    rng = random.Random(5)
    return [rng.randrange(len(data) - PIECE) for _ in range(count)]


def _stream_reads(read: Callable[[Any], bytes]) -> Callable[[Any, bytes, int], None]:
    def run(store: Any, data: bytes, count: int) -> None:
        with store.open_blob("bench", "big.bin") as stream:
            assert read(stream) == data

    return run


def _random_reads(store: Any, data: bytes, count: int) -> None:
    with store.open_blob("bench", "big.bin") as stream:
        for offset in _offsets(data, count):
            stream.seek(offset)
            assert stream.read(PIECE) == data[offset:offset + PIECE]


def _range_calls(store: Any, data: bytes, count: int) -> None:
    for offset in _offsets(data, count):
        assert store.get_blob_range("bench", "big.bin", offset, offset + PIECE) == \
            data[offset:offset + PIECE]


Way = Callable[[Any, bytes, int], None]
"""``way(store, data, random_reads)``: one read of the blob, checked."""


def _rows(label: str, direct: Any, proxied: Any, proxy: FaultProxy, data: bytes,
          rounds: int, random_reads: int, sdk: dict[str, Way]) -> None:
    direct.create_container("bench")
    direct.create_blob("bench", "big.bin", data)
    ways: dict[str, Way] = {"open_blob read()": _stream_reads(lambda s: bytes(s.read())),
                            "open_blob read(1 MiB)": _stream_reads(_read_all),
                            f"open_blob {random_reads} x seek+read(64 KiB)": _random_reads,
                            f"{random_reads} x get_blob_range(64 KiB)": _range_calls,
                            **sdk}
    for name, way in ways.items():
        proxy.clear()
        way(proxied, data, random_reads)
        requests = len(proxy.requests(path="big.bin"))
        best = (float("inf"), float("inf"))
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), _cpu()
            way(direct, data, random_reads)
            best = min(best, (time.perf_counter() - wall, _cpu() - cpu))
        print(f"| {label} | {name} | {best[0]:.3f} | {best[1]:.3f} | {requests} |", flush=True)


def _azure_sdk(store: Any, data: bytes, count: int) -> None:
    client = store.provider.service_client.get_blob_client("bench", "big.bin")
    out = io.BytesIO()
    client.download_blob().readinto(out)
    assert out.getvalue() == data


def _azure_sdk_ranges(store: Any, data: bytes, count: int) -> None:
    client = store.provider.service_client.get_blob_client("bench", "big.bin")
    for offset in _offsets(data, count):
        assert client.download_blob(offset, PIECE).readall() == data[offset:offset + PIECE]


def _s3_sdk(store: Any, data: bytes, count: int) -> None:
    out = io.BytesIO()
    store.provider.client.download_fileobj("bench", "big.bin", out)
    assert out.getvalue() == data


def _s3_sdk_ranges(store: Any, data: bytes, count: int) -> None:
    client = store.provider.client
    for offset in _offsets(data, count):
        body = client.get_object(Bucket="bench", Key="big.bin",
                                 Range=f"bytes={offset}-{offset + PIECE - 1}")["Body"]
        assert body.read() == data[offset:offset + PIECE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--random", type=int, default=100, help="random reads per round")
    args = parser.parse_args()
    os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID="test",
                      AWS_SECRET_ACCESS_KEY="test")
    data = random.Random(1).randbytes(args.size_mib << 20)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.size_mib} MiB")
    print("| store | read | wall s | CPU s | requests |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        with running_azurite(Path(work)) as azurite, \
                running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=60.0,
                              lifetime=600.0) as proxy:

            def azure(endpoint: str) -> Any:
                entry = {"type": "storage", "provider": "azure-blob", "connection-string":
                         azurite.connection_string.replace(azurite.endpoint, endpoint)}
                return xtstore.get_storage("a", config={"external-services": {"a": entry}})

            _rows("azure-blob", azure(azurite.endpoint),
                  azure(proxy.endpoint(azurite.endpoint)), proxy, data, args.rounds,
                  args.random, {"SDK download_blob().readinto": _azure_sdk,
                                f"SDK {args.random} x download_blob(offset, 64 KiB)":
                                _azure_sdk_ranges})
        with start_moto(Path(work) / "moto.log") as moto, \
                running_proxy(moto.endpoint_url, hold_limit=60.0, lifetime=600.0) as proxy:

            def s3(endpoint: str) -> Any:
                entry = moto.service_config(**{"endpoint-url": endpoint})
                return xtstore.get_storage("s", config={"external-services": {"s": entry}})

            _rows("store-s3", s3(moto.endpoint_url), s3(proxy.url), proxy, data, args.rounds,
                  args.random, {"SDK download_fileobj": _s3_sdk,
                                f"SDK {args.random} x get_object(Range)": _s3_sdk_ranges})
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
