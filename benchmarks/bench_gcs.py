"""store-gcs benchmark against a real fake-gcs-server it starts itself on 127.0.0.1.

Prints one Markdown table (the GCS section of docs/performance.md): for each operation, the
HTTP requests and the client CPU (``time.process_time``, all client threads) of xtstore next
to raw google-cloud-storage doing the same job, and their ratios, with the machine's load
average before and after. Requests are counted on each client's authorized ``requests``
session (its response hook sees every request once). The raw side is the SDK as a user calls
it, with the same 8 MiB chunk size for its resumable uploads.

Run from the repository root:
``python benchmarks/bench_gcs.py [--size-mib 256] [--ranges 64] [--blobs 2000] [--reps 3]``
The machine is shared, so wall times are noisy; CPU is the median of ``--reps`` runs, the
two sides interleaved so that load from other processes hits both alike.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud import storage  # noqa: E402
from tests.servers.gcs_server import FakeGCSServer, start_fake_gcs  # noqa: E402

from xtstore.providers.gcs.store import GCSProvider  # noqa: E402
from xtstore.store import Store  # noqa: E402

MiB = 2**20
CHUNK = 8 * MiB


@contextmanager
def requests_of(client: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(response.request.method)
        return response

    hooks = client._http.hooks["response"]
    hooks.append(hook)
    try:
        yield seen
    finally:
        hooks.remove(hook)


def measure(client: Any, operation: Callable[[], Any]) -> tuple[float, float, int]:
    with requests_of(client) as seen:
        cpu, wall = time.process_time(), time.perf_counter()
        operation()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu, wall, len(seen)


def read_through(stream: Any, size: int = 256 * 1024) -> int:
    total = 0
    with stream:
        while chunk := stream.read(size):
            total += len(chunk)
    return total


def table(server: FakeGCSServer, work: Path, size_mib: int, ranges: int, blobs: int,
          reps: int) -> list[str]:
    store = Store(GCSProvider(server.service_config(
        name="bench", **{"chunk-size": CHUNK, "single-upload-limit": CHUNK})), "bench")
    provider = store.provider
    assert isinstance(provider, GCSProvider)
    ours = provider.client
    raw = storage.Client(project="xtstore-test", credentials=AnonymousCredentials(),
                         client_options={"api_endpoint": server.endpoint_url})
    mine = "bench-xt-" + uuid.uuid4().hex[:8]
    theirs = "bench-raw-" + uuid.uuid4().hex[:8]
    store.create_container(mine)
    raw_bucket = raw.create_bucket(theirs)
    source = work / "large.bin"
    with open(source, "wb") as sink:
        for _ in range(size_mib):
            sink.write(os.urandom(MiB))
    size = size_mib * MiB
    for number in range(blobs):
        store.create_blob(mine, f"many/{number:05d}.txt", "x")
        raw_bucket.blob(f"many/{number:05d}.txt").upload_from_string(b"x")
    offsets = [random.randrange(0, size - MiB) for _ in range(ranges)]

    def raw_blob(name: str) -> storage.Blob:
        return raw_bucket.blob(name, chunk_size=CHUNK)

    def raw_ranges() -> None:
        blob = raw_bucket.blob("big.bin")
        for offset in offsets:
            blob.download_as_bytes(start=offset, end=offset + MiB - 1)

    def our_ranges() -> None:
        for offset in offsets:
            store.get_blob_range(mine, "big.bin", offset, offset + MiB)

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        (f"upload {size_mib} MiB (`create_blob_from_path` / `upload_from_filename`)",
         lambda: store.create_blob_from_path(mine, "big.bin", str(source)),
         lambda: raw_blob("big.bin").upload_from_filename(str(source))),
        (f"download {size_mib} MiB (`get_blob_to_path` / `download_to_filename`)",
         lambda: store.get_blob_to_path(mine, "big.bin", str(work / "xt.out")),
         lambda: raw_bucket.blob("big.bin").download_to_filename(str(work / "raw.out"))),
        (f"sequential read {size_mib} MiB (`open_blob` / `download_to_file`)",
         lambda: read_through(store.open_blob(mine, "big.bin")),
         lambda: raw_bucket.blob("big.bin").download_to_file(open(os.devnull, "wb"))),  # noqa: SIM115
        (f"{ranges} random 1 MiB ranges (`get_blob_range` / `download_as_bytes(start, end)`)",
         our_ranges, raw_ranges),
        (f"list {blobs} blobs (`list_blobs` / `list_blobs`)",
         lambda: store.list_blobs(mine, "many/"),
         lambda: [blob.name for blob in raw.list_blobs(theirs, prefix="many/")]),
    ]
    load_before = os.getloadavg()
    lines = ["| operation | xtstore requests | raw requests | xtstore CPU s | raw CPU s |"
             " CPU ratio | xtstore wall s | raw wall s |",
             "|---|---|---|---|---|---|---|---|"]
    for label, our_op, raw_op in cases:
        results: dict[str, list[tuple[float, float, int]]] = {"xt": [], "raw": []}
        for _ in range(reps):
            results["raw"].append(measure(raw, raw_op))
            results["xt"].append(measure(ours, our_op))
        cpu_xt = statistics.median(c for c, _, _ in results["xt"])
        cpu_raw = statistics.median(c for c, _, _ in results["raw"])
        wall_xt = statistics.median(w for _, w, _ in results["xt"])
        wall_raw = statistics.median(w for _, w, _ in results["raw"])
        requests_xt = max(n for _, _, n in results["xt"])
        requests_raw = max(n for _, _, n in results["raw"])
        lines.append(f"| {label} | {requests_xt} | {requests_raw} | {cpu_xt:.2f} |"
                     f" {cpu_raw:.2f} | {cpu_xt / cpu_raw:.2f}x | {wall_xt:.2f} |"
                     f" {wall_raw:.2f} |")
    load_after = os.getloadavg()
    assert (work / "xt.out").read_bytes() == source.read_bytes()
    store.delete_container(mine)
    for blob in raw.list_blobs(theirs):
        blob.delete()
    raw_bucket.delete()
    lines.append("")
    before = ", ".join(f"{value:.2f}" for value in load_before)
    after = ", ".join(f"{value:.2f}" for value in load_after)
    lines.append(f"Load average (1, 5, 15 min) before: {before}; after: {after} (2 cores).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--ranges", type=int, default=64)
    parser.add_argument("--blobs", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gcs-") as folder:
        work = Path(folder)
        with start_fake_gcs(work / "fake-gcs-server.log") as server:
            print(f"### Requests and client CPU, xtstore vs google-cloud-storage"
                  f" (median of {args.reps})\n")
            print("\n".join(table(server, work, args.size_mib, args.ranges, args.blobs,
                                  args.reps)))


if __name__ == "__main__":
    main()
