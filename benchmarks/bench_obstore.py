"""obstore (Rust, object_store) as a data path: measured against the raw SDKs and xtstore.

    python benchmarks/bench_obstore.py [--small 2000] [--many 20000] [--big-mib 64] [--reps 3]
                                       [--only s3|azure]

Starts its own moto_server and Azurite on 127.0.0.1 (tests/servers/) and prints, for each
store, one Markdown table comparing in the same process and run:

* S3: obstore ``S3Store`` vs raw boto3 vs xtstore ``store-s3`` (through ``get_storage``, with
  every layer a user gets);
* Azure: obstore ``AzureStore`` vs raw azure-storage-blob vs xtstore ``azure-blob``;

for ``--small`` x 4 KiB put and get (one request each, one after another in one thread), a
names-only listing of ``--small`` and ``--many`` keys, a ``--big-mib`` download as one
streamed GET and as 8 MiB ranges (8 at a time), and a ``--big-mib`` upload (8 MiB parts/blocks).
The "obstore+HEAD" column is obstore with xtstore's download check kept: the SDK's HEAD for
the stored checksum (S3 CRC32, Azure Content-MD5), then obstore's GET pinned to its ETag, the
bytes checked against it (obstore's GET carries no checksum).
Each figure is the median over ``--reps`` interleaved repetitions of client CPU
(``time.process_time``: every thread of this process, obstore's Rust runtime included; the
servers run in their own processes) and wall time, with the 1-minute load average at the
start of the row. The machine is shared: CPU is the figure to read, wall is noisy.

obstore is optional (``pip install obstore``); without it the script says so and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.azurite import ACCOUNT, KEY, Azurite, running_azurite  # noqa: E402
from tests.servers.s3_server import MotoServer, start_moto  # noqa: E402

import xtstore  # noqa: E402

MiB = 2**20
SMALL_SIZE = 4 * 1024
PART = 8 * MiB
CONCURRENCY = 8
"""Ranges in flight for the ranged downloads, threads for the managed transfers."""


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def measure(operation: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    operation()
    return time.process_time() - cpu, time.perf_counter() - wall


@dataclass
class Row:
    """One operation, measured for each client over the repetitions."""

    label: str
    clients: dict[str, Callable[[], object]]
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    load: float = 0.0

    def run(self, reps: int) -> None:
        self.load = load()
        self.samples = {name: [] for name in self.clients}
        for rep in range(reps):
            # Interleaved, and the order turned each repetition, so that load from other
            # processes and warm caches hit every client alike.
            names = list(self.clients)
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                self.samples[name].append(measure(self.clients[name]))

    def cpu(self, name: str) -> float:
        return statistics.median(c for c, _ in self.samples[name])

    def wall(self, name: str) -> float:
        return statistics.median(w for _, w in self.samples[name])


def table(rows: list[Row], clients: list[str], reps: int) -> list[str]:
    """CPU and wall per client ("-" where a row does not run it), and each CPU as a ratio of
    obstore's (the first client)."""
    base = clients[0]
    head = " | ".join(f"{name} CPU s | {name} wall s" for name in clients)
    ratios = " | ".join(f"{name}/{base} CPU" for name in clients[1:])
    lines = [f"| operation (median of {reps}) | {head} | {ratios} | load |",
             "|---" * (2 + 3 * len(clients) - 1) + "|"]
    for row in rows:
        cells = " | ".join(f"{row.cpu(name):.3f} | {row.wall(name):.3f}"
                           if name in row.clients else "- | -" for name in clients)
        ratio = " | ".join(f"{row.cpu(name) / max(row.cpu(base), 1e-9):.2f}x"
                           if name in row.clients else "-" for name in clients[1:])
        lines.append(f"| {row.label} | {cells} | {ratio} | {row.load:.2f} |")
    return lines


# ---- obstore helpers, shared by both stores ----


def obstore_fill(store: Any, prefix: str, count: int, body: bytes) -> None:
    """``count`` objects under ``prefix``, 32 requests in flight (set-up, not measured)."""
    import obstore

    async def fill() -> None:
        gate = asyncio.Semaphore(32)

        async def one(index: int) -> None:
            async with gate:
                await obstore.put_async(store, f"{prefix}{index:06d}", body)

        await asyncio.gather(*(one(index) for index in range(count)))

    asyncio.run(fill())


def obstore_names(store: Any, prefix: str) -> int:
    import obstore

    names = [meta["path"] for batch in obstore.list(store, prefix, chunk_size=1000)
             for meta in batch]
    return len(names)


def obstore_stream_to(store: Any, key: str, dest: Path) -> None:
    """One GET, its body written as it arrives (chunks of at most 8 MiB held at a time)."""
    import obstore

    with open(dest, "wb") as sink:
        for chunk in obstore.get(store, key).stream(min_chunk_size=PART):
            sink.write(chunk)


def obstore_ranged_to(store: Any, key: str, size: int, dest: Path) -> None:
    """8 MiB ranged GETs, ``CONCURRENCY`` in flight, each written at its offset."""
    import obstore

    async def fetch() -> None:
        gate = asyncio.Semaphore(CONCURRENCY)
        descriptor = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

        async def one(start: int) -> None:
            async with gate:
                data = await obstore.get_range_async(store, key, start=start,
                                                     end=min(start + PART, size))
                os.pwrite(descriptor, memoryview(data), start)

        try:
            await asyncio.gather(*(one(start) for start in range(0, size, PART)))
        finally:
            os.close(descriptor)

    asyncio.run(fetch())


def one_by_one(count: int) -> tuple[Callable[..., Callable[[], None]],
                                    Callable[..., Callable[[], None]]]:
    """Makers of the small-object loops: ``puts(put, who)`` writes ``who/small/NNNNNN`` for
    each index, ``gets(get)`` reads the ones xtstore wrote (so every client reads the same
    objects), one request after another."""
    keys = [f"small/{index:06d}" for index in range(count)]

    def puts(put: Callable[[str], object], who: str) -> Callable[[], None]:
        def run() -> None:
            for key in keys:
                put(f"{who}/{key}")
        return run

    def gets(get: Callable[[str], object]) -> Callable[[], None]:
        def run() -> None:
            for key in keys:
                get(f"xt/{key}")
        return run

    return puts, gets


def xtstore_stream_to(store: Any, container: str, key: str, dest: Path) -> None:
    """xtstore's one streamed GET: ``open_blob`` read through in order, 8 MiB at a time."""
    with store.open_blob(container, key) as source, open(dest, "wb") as sink:
        shutil.copyfileobj(source, sink, PART)


# ---- obstore with xtstore's download check kept ----
# obstore's GET neither asks for nor returns the stored checksums (S3's x-amz-checksum-*,
# Azure's Content-MD5), so keeping xtstore's check of every download means the SDK's HEAD
# first and a GET pinned to its ETag: what a hybrid data path would have to do.


def s3_verified_get(raw: Any, native: Any, bucket: str, key: str) -> bytes:
    import obstore

    head = raw.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    data = bytes(obstore.get(native, key, options={"if_match": head["ETag"]}).bytes())
    check_digest(zlib.crc32(data), head.get("ChecksumCRC32"), len(data), head["ContentLength"])
    return data


def s3_verified_stream_to(raw: Any, native: Any, bucket: str, key: str, dest: Path) -> None:
    import obstore

    head = raw.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    crc, length = 0, 0
    with open(dest, "wb") as sink:
        result = obstore.get(native, key, options={"if_match": head["ETag"]})
        for chunk in result.stream(min_chunk_size=PART):
            crc, length = zlib.crc32(chunk, crc), length + len(chunk)
            sink.write(chunk)
    check_digest(crc, head.get("ChecksumCRC32"), length, head["ContentLength"])


def check_digest(crc: int, stored: str | None, length: int, size: int) -> None:
    if stored is None or base64.b64encode(crc.to_bytes(4, "big")).decode() != stored:
        raise AssertionError(f"CRC32 {crc:08x} is not the stored {stored}")
    if length != size:
        raise AssertionError(f"{length} bytes read of {size}")


def azure_verified_get(raw: Any, native: Any, key: str) -> bytes:
    import obstore

    properties = raw.get_blob_client(key).get_blob_properties()
    data = bytes(obstore.get(native, key, options={"if_match": properties.etag}).bytes())
    if hashlib.md5(data).digest() != bytes(properties.content_settings.content_md5):
        raise AssertionError(f"MD5 of {key} differs")
    return data


def azure_verified_stream_to(raw: Any, native: Any, key: str, dest: Path) -> None:
    import obstore

    properties = raw.get_blob_client(key).get_blob_properties()
    digest = hashlib.md5()
    with open(dest, "wb") as sink:
        result = obstore.get(native, key, options={"if_match": properties.etag})
        for chunk in result.stream(min_chunk_size=PART):
            digest.update(chunk)
            sink.write(chunk)
    if digest.digest() != bytes(properties.content_settings.content_md5):
        raise AssertionError(f"MD5 of {key} differs")


def run_and_check(rows: list[Row], reps: int, store: str, work: Path, prefix: str,
                  big: Path) -> None:
    """Run every row of one store, then check each 64 MiB download (``<prefix>-<client>-
    stream`` / ``-ranged`` under ``work``) is the source ``big``."""
    for row in rows:
        row.run(reps)
        print(f"  {store}: {row.label} done", file=sys.stderr)
    for client in ("obv-stream", "ob-stream", "raw-stream", "xt-stream", "ob-ranged",
                   "raw-ranged", "xt-ranged"):
        check_same(work / f"{prefix}-{client}", big)


def check_same(path: Path, expected: Path) -> None:
    if path.stat().st_size != expected.stat().st_size or path.read_bytes() != expected.read_bytes():
        raise AssertionError(f"{path} differs from {expected}")


# ---- S3 ----


def s3_rows(server: MotoServer, work: Path, args: argparse.Namespace) -> list[Row]:
    import boto3
    import obstore
    from boto3.s3.transfer import TransferConfig
    from obstore.store import S3Store

    from xtstore.providers.s3.config import S3Settings

    service = server.service_config(**{"multipart-threshold": PART, "multipart-chunksize": PART,
                                       "max-concurrency": CONCURRENCY})
    store = xtstore.get_storage("s3", config={"external-services": {"s3": service}})
    settings = S3Settings.from_config(service)
    raw = boto3.client("s3", endpoint_url=server.endpoint_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=settings.botocore_config())
    transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                              max_concurrency=CONCURRENCY, num_download_attempts=1,
                              preferred_transfer_client="classic")
    bucket = "bench-obstore"
    store.create_container(bucket)
    native = S3Store(bucket, endpoint=server.endpoint_url, access_key_id="test",
                     secret_access_key="test", region="us-east-1",
                     virtual_hosted_style_request=False, client_options={"allow_http": True},
                     retry_config={"max_retries": 0})
    small = os.urandom(SMALL_SIZE)
    puts, gets = one_by_one(args.small)
    big = work / "big.bin"
    size = big.stat().st_size
    obstore_fill(native, "many/", args.many, b"x")



    def raw_stream(dest: Path) -> None:
        body = raw.get_object(Bucket=bucket, Key="big/xt")["Body"]
        with open(dest, "wb") as sink:
            for chunk in body.iter_chunks(MiB):
                sink.write(chunk)

    def raw_names(prefix: str) -> int:
        pages = raw.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return len([item["Key"] for page in pages for item in page.get("Contents", ())])

    store.create_blob_from_path(bucket, "big/xt", str(big))
    rows = [
        Row(f"{args.small:,} x 4 KiB put", {
            "obstore": puts(lambda key: obstore.put(native, key, small), "ob"),
            "boto3": puts(lambda key: raw.put_object(Bucket=bucket, Key=key, Body=small), "raw"),
            "xtstore": puts(lambda key: store.create_blob(bucket, key, small), "xt")}),
        Row(f"{args.small:,} x 4 KiB get", {
            "obstore": gets(lambda key: bytes(obstore.get(native, key).bytes())),
            "boto3": gets(lambda key: raw.get_object(Bucket=bucket, Key=key)["Body"].read()),
            "xtstore": gets(lambda key: store.get_blob_bytes(bucket, key)),
            "obstore+HEAD": gets(lambda key: s3_verified_get(raw, native, bucket, key))}),
    ]
    for prefix, count in (("xt/small/", args.small), ("many/", args.many)):
        rows.append(Row(f"list {count:,} names", {
            "obstore": lambda prefix=prefix: obstore_names(native, prefix),
            "boto3": lambda prefix=prefix: raw_names(prefix),
            "xtstore": lambda prefix=prefix: store.list_blobs(bucket, prefix, return_names=True),
        }))
    mib = size // MiB
    rows += [
        Row(f"{mib} MiB get, one streamed GET", {
            "obstore": lambda: obstore_stream_to(native, "big/xt", work / "s3-ob-stream"),
            "boto3": lambda: raw_stream(work / "s3-raw-stream"),
            "xtstore": lambda: xtstore_stream_to(store, bucket, "big/xt",
                                                 work / "s3-xt-stream"),
            "obstore+HEAD": lambda: s3_verified_stream_to(raw, native, bucket, "big/xt",
                                                          work / "s3-obv-stream")}),
        Row(f"{mib} MiB get, 8 MiB ranges x{CONCURRENCY}", {
            "obstore": lambda: obstore_ranged_to(native, "big/xt", size, work / "s3-ob-ranged"),
            "boto3": lambda: raw.download_file(bucket, "big/xt", str(work / "s3-raw-ranged"),
                                               Config=transfer),
            "xtstore": lambda: store.get_blob_to_path(bucket, "big/xt",
                                                      str(work / "s3-xt-ranged"))}),
        Row(f"{mib} MiB put, 8 MiB parts x{CONCURRENCY}", {
            "obstore": lambda: obstore.put(native, "big/ob", big, chunk_size=PART,
                                           max_concurrency=CONCURRENCY),
            "boto3": lambda: raw.upload_file(str(big), bucket, "big/raw", Config=transfer),
            "xtstore": lambda: store.create_blob_from_path(bucket, "big/put-xt", str(big))}),
    ]
    run_and_check(rows, args.reps, "s3", work, "s3", big)
    counts = (obstore_names(native, "many/"), raw_names("many/"),
              len(store.list_blobs(bucket, "many/", return_names=True)))
    if counts != (args.many,) * 3:
        raise AssertionError(f"listings disagree: {counts}")
    return rows  # the server's memory goes with it: no clean-up


# ---- Azure ----


def azure_rows(azurite: Azurite, work: Path, args: argparse.Namespace) -> list[Row]:
    import obstore
    from azure.storage.blob import BlobServiceClient
    from obstore.store import AzureStore

    service: dict[str, Any] = {"type": "storage", "provider": "azure-blob",
                               "connection-string": azurite.connection_string,
                               "max-concurrency": CONCURRENCY}
    store = xtstore.get_storage("az", config={"external-services": {"az": service}})
    container = "bench-obstore"
    store.create_container(container)
    raw = BlobServiceClient.from_connection_string(
        azurite.connection_string, retry_total=0).get_container_client(container)
    native = AzureStore(container, account_name=ACCOUNT, account_key=KEY,
                        endpoint=azurite.endpoint, client_options={"allow_http": True},
                        retry_config={"max_retries": 0})
    small = os.urandom(SMALL_SIZE)
    puts, gets = one_by_one(args.small)
    big = work / "big.bin"
    size = big.stat().st_size
    obstore_fill(native, "many/", args.many, b"x")



    # The SDK's first GET is bounded by the client's max_single_get_size: a client whose
    # bound is above the blob's size reads it in one GET.
    single = BlobServiceClient.from_connection_string(
        azurite.connection_string, retry_total=0,
        max_single_get_size=size + 1).get_container_client(container)

    def raw_get_to(client: Any, dest: Path, **options: Any) -> None:
        with open(dest, "wb") as sink:
            client.download_blob("big/xt", **options).readinto(sink)

    def raw_put() -> None:
        with open(big, "rb") as source:
            raw.upload_blob("big/raw", source, length=size, overwrite=True,
                            max_concurrency=CONCURRENCY)

    store.create_blob_from_path(container, "big/xt", str(big))
    rows = [
        Row(f"{args.small:,} x 4 KiB put", {
            "obstore": puts(lambda key: obstore.put(native, key, small), "ob"),
            "azure-sdk": puts(lambda key: raw.upload_blob(key, small, overwrite=True), "raw"),
            "xtstore": puts(lambda key: store.create_blob(container, key, small), "xt")}),
        Row(f"{args.small:,} x 4 KiB get", {
            "obstore": gets(lambda key: bytes(obstore.get(native, key).bytes())),
            "azure-sdk": gets(lambda key: raw.download_blob(key).readall()),
            "xtstore": gets(lambda key: store.get_blob_bytes(container, key)),
            "obstore+HEAD": gets(lambda key: azure_verified_get(raw, native, key))}),
    ]
    for prefix, count in (("xt/small/", args.small), ("many/", args.many)):
        rows.append(Row(f"list {count:,} names", {
            "obstore": lambda prefix=prefix: obstore_names(native, prefix),
            "azure-sdk": lambda prefix=prefix: len(list(raw.list_blob_names(
                name_starts_with=prefix))),
            "xtstore": lambda prefix=prefix: store.list_blobs(container, prefix,
                                                              return_names=True),
        }))
    mib = size // MiB
    rows += [
        Row(f"{mib} MiB get, one streamed GET", {
            "obstore": lambda: obstore_stream_to(native, "big/xt", work / "az-ob-stream"),
            "azure-sdk": lambda: raw_get_to(single, work / "az-raw-stream", max_concurrency=1),
            "xtstore": lambda: xtstore_stream_to(store, container, "big/xt",
                                                 work / "az-xt-stream"),
            "obstore+HEAD": lambda: azure_verified_stream_to(raw, native, "big/xt",
                                                             work / "az-obv-stream")}),
        Row(f"{mib} MiB get, 8 MiB ranges x{CONCURRENCY}", {
            "obstore": lambda: obstore_ranged_to(native, "big/xt", size, work / "az-ob-ranged"),
            "azure-sdk": lambda: raw_get_to(raw, work / "az-raw-ranged",
                                            max_concurrency=CONCURRENCY),
            "xtstore": lambda: store.get_blob_to_path(container, "big/xt",
                                                      str(work / "az-xt-ranged"))}),
        Row(f"{mib} MiB put, 8 MiB parts x{CONCURRENCY}", {
            "obstore": lambda: obstore.put(native, "big/ob", big, chunk_size=PART,
                                           max_concurrency=CONCURRENCY),
            "azure-sdk": raw_put,
            "xtstore": lambda: store.create_blob_from_path(container, "big/put-xt", str(big))}),
    ]
    run_and_check(rows, args.reps, "azure", work, "az", big)
    return rows  # the server's memory goes with it: no clean-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--many", type=int, default=20000)
    parser.add_argument("--big-mib", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", choices=("s3", "azure"))
    args = parser.parse_args()
    try:
        import obstore
    except ImportError:
        sys.exit("obstore is not installed: pip install obstore")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    print(f"obstore {obstore.__version__}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, load at start {load():.2f}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-obstore-") as folder:
        work = Path(folder)
        with open(work / "big.bin", "wb") as sink:
            for _ in range(args.big_mib):
                sink.write(os.urandom(MiB))
        if args.only in (None, "s3"):
            with start_moto(work / "moto.log") as server:
                rows = s3_rows(server, work, args)
            print("### S3 (moto): obstore vs boto3 vs xtstore store-s3\n")
            lines = table(rows, ["obstore", "boto3", "xtstore", "obstore+HEAD"], args.reps)
            print("\n".join(lines) + "\n", flush=True)
        if args.only in (None, "azure"):
            with running_azurite(work / "azurite") as azurite:
                rows = azure_rows(azurite, work, args)
            print("### Azure (Azurite): obstore vs azure-storage-blob vs xtstore azure-blob\n")
            lines = table(rows, ["obstore", "azure-sdk", "xtstore", "obstore+HEAD"], args.reps)
            print("\n".join(lines) + "\n", flush=True)


if __name__ == "__main__":
    main()
