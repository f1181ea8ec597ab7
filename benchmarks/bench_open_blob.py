"""A sequential ``open_blob`` read on Azurite and moto (the servers it starts on 127.0.0.1):
wall time and this process's CPU for ``read()`` and ``read(1 MiB)`` to the end, the best of
``--rounds``, read straight from the server; and the GETs one read sends, counted through the
fault proxy (no faults injected).

Run from the repository root:  ``python benchmarks/bench_open_blob.py [--size-mib 64]``
The machine is shared, so wall times are noisy; the CPU and the GETs are the figures to read.
"""

from __future__ import annotations

import argparse
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


READS: dict[str, Callable[[Any], bytes]] = {"read()": lambda s: bytes(s.read()),
                                            "read(1 MiB)": _read_all}


def _rows(label: str, direct: Any, proxied: Any, proxy: FaultProxy, data: bytes,
          rounds: int) -> None:
    direct.create_container("bench")
    direct.create_blob("bench", "big.bin", data)
    for name, read in READS.items():
        proxy.clear()
        with proxied.open_blob("bench", "big.bin") as stream:
            assert read(stream) == data
        gets = len(proxy.requests("GET"))
        best = (float("inf"), float("inf"))
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), _cpu()
            with direct.open_blob("bench", "big.bin") as stream:
                assert read(stream) == data
            best = min(best, (time.perf_counter() - wall, _cpu() - cpu))
        print(f"| {label} | {name} | {best[0]:.3f} | {best[1]:.3f} | {gets} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID="test",
                      AWS_SECRET_ACCESS_KEY="test")
    data = random.Random(1).randbytes(args.size_mib << 20)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.size_mib} MiB")
    print("| store | read | wall s | CPU s | GETs |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        with running_azurite(Path(work)) as azurite, \
                running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=60.0,
                              lifetime=600.0) as proxy:

            def azure(endpoint: str) -> Any:
                entry = {"type": "storage", "provider": "azure-blob", "connection-string":
                         azurite.connection_string.replace(azurite.endpoint, endpoint)}
                return xtstore.get_storage("a", config={"external-services": {"a": entry}})

            _rows("azure-blob", azure(azurite.endpoint),
                  azure(proxy.endpoint(azurite.endpoint)), proxy, data, args.rounds)
        with start_moto(Path(work) / "moto.log") as moto, \
                running_proxy(moto.endpoint_url, hold_limit=60.0, lifetime=600.0) as proxy:

            def s3(endpoint: str) -> Any:
                entry = moto.service_config(**{"endpoint-url": endpoint})
                return xtstore.get_storage("s", config={"external-services": {"s": entry}})

            _rows("store-s3", s3(moto.endpoint_url), s3(proxy.url), proxy, data, args.rounds)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
