"""store-s3 benchmark against a real moto S3 server it starts itself on 127.0.0.1.

Prints three Markdown tables (the S3 section of docs/performance.md):

1. HTTP requests per interface call, xtstore next to raw boto3 doing the same operation
   (counted with botocore's ``before-send`` event, which fires once per request attempt);
2. bytes that cross the network for an append to a 64 MiB blob (counted by a TCP proxy
   between client and server), next to the naive read-modify-write;
3. client CPU (``time.process_time``, all client threads) and wall time for a 256 MiB upload
   and download, xtstore vs raw boto3 with the same TransferConfig and botocore Config.

4. (2.6) 2,000 x 4 KiB up and down on 8 threads, xtstore's batch against boto3's
   ``upload_file`` / ``download_file`` and one ``put_object`` / ``get_object`` each (the
   floor): client CPU, wall, requests per file;
5. (2.6) one streamed GET against parallel 8 MiB ranges for 1-256 MiB (the crossover);
6. (2.6) a 64 MiB download each in its own process (start-up and imports included).

Run from the repository root:  ``python benchmarks/bench_s3.py [--size-mib 256] [--reps 2]``
(``--only small|crossover|process`` for one 2.6 table; ``--files``, ``--crossover 1,4,16``)
The machine is shared, so wall times are noisy; CPU ratios are the figure to read.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.s3_server import MotoServer, start_moto  # noqa: E402

from xtstore.errors import StoreError  # noqa: E402
from xtstore.providers.s3.store import S3Provider  # noqa: E402
from xtstore.store import Store  # noqa: E402

MiB = 2**20


# ---- counting ----


@contextmanager
def requests_of(client: Any) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()

    def count(event_name: str, **kwargs: Any) -> None:
        counts[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-send.s3", count)
    try:
        yield counts
    finally:
        client.meta.events.unregister("before-send.s3", count)


class CountingProxy:
    """A loopback TCP forwarder that counts the bytes going each way."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = 0
        self.received = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.sent = self.received = 0

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upward: bool) -> None:
        try:
            while chunk := source.recv(1 << 16):
                sink.sendall(chunk)
                with self._lock:
                    if upward:
                        self.sent += len(chunk)
                    else:
                        self.received += len(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()


# ---- 1. requests per call ----


def request_table(server: MotoServer, work: Path) -> list[str]:
    store = Store(S3Provider(server.service_config(name="bench")), "bench")
    provider = store.provider
    assert isinstance(provider, S3Provider)
    xt = provider.client
    raw = fresh_raw_client(server)
    bucket_xt = "bench-xt-" + uuid.uuid4().hex[:8]
    bucket_raw = "bench-raw-" + uuid.uuid4().hex[:8]
    upload = work / "twelve.bin"
    upload.write_bytes(os.urandom(12 * MiB))
    big = 6 * MiB
    tc = provider.transfer_config
    rows: list[tuple[str, str, Counter[str], Counter[str]]] = []

    def row(call: str, raw_call: str, xt_op: Callable[[], Any], raw_op: Callable[[], Any]) -> None:
        with requests_of(xt) as mine:
            xt_op()
        with requests_of(raw) as theirs:
            raw_op()
        rows.append((call, raw_call, mine, theirs))

    def raw_rmw_append(key: str, data: bytes) -> None:
        current = raw.get_object(Bucket=bucket_raw, Key=key)
        old = current["Body"].read()
        raw.put_object(Bucket=bucket_raw, Key=key, Body=old + data, IfMatch=current["ETag"])

    def raw_compose(key: str, data: bytes) -> None:
        head = raw.head_object(Bucket=bucket_raw, Key=key)
        upload_id = raw.create_multipart_upload(Bucket=bucket_raw, Key=key)["UploadId"]
        copied = raw.upload_part_copy(Bucket=bucket_raw, Key=key, UploadId=upload_id,
                                      PartNumber=1, CopySource={"Bucket": bucket_raw, "Key": key},
                                      CopySourceIfMatch=head["ETag"])
        tail = raw.upload_part(Bucket=bucket_raw, Key=key, UploadId=upload_id, PartNumber=2,
                               Body=data)
        raw.complete_multipart_upload(
            Bucket=bucket_raw, Key=key, UploadId=upload_id, IfMatch=head["ETag"],
            MultipartUpload={"Parts": [
                {"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]},
                {"PartNumber": 2, "ETag": tail["ETag"]}]})

    def raw_empty_and_delete(bucket: str) -> None:
        keys = [{"Key": item["Key"]}
                for item in raw.list_objects_v2(Bucket=bucket).get("Contents", [])]
        if keys:
            raw.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        raw.delete_bucket(Bucket=bucket)

    row("create_container", "create_bucket",
        lambda: store.create_container(bucket_xt), lambda: raw.create_bucket(Bucket=bucket_raw))
    row("create_blob (1 KiB)", "put_object",
        lambda: store.create_blob(bucket_xt, "a.txt", "x" * 1024),
        lambda: raw.put_object(Bucket=bucket_raw, Key="a.txt", Body=b"x" * 1024))
    row("create_blob(fail_if_exists=True)", "put_object(IfNoneMatch='*')",
        lambda: store.create_blob(bucket_xt, "b.txt", "x", fail_if_exists=True),
        lambda: raw.put_object(Bucket=bucket_raw, Key="b.txt", Body=b"x", IfNoneMatch="*"))
    row("does_blob_exist", "head_object",
        lambda: store.does_blob_exist(bucket_xt, "a.txt"),
        lambda: raw.head_object(Bucket=bucket_raw, Key="a.txt"))
    row("get_blob_properties", "head_object",
        lambda: store.get_blob_properties(bucket_xt, "a.txt"),
        lambda: raw.head_object(Bucket=bucket_raw, Key="a.txt"))
    row("get_blob_text", "get_object",
        lambda: store.get_blob_text(bucket_xt, "a.txt"),
        lambda: raw.get_object(Bucket=bucket_raw, Key="a.txt")["Body"].read())
    row("append_blob, small blob, first from this process", "get_object + put_object(IfMatch)",
        lambda: store.append_blob(bucket_xt, "a.txt", "more"),
        lambda: raw_rmw_append("a.txt", b"more"))
    row("append_blob, small blob, again", "get_object + put_object(IfMatch)",
        lambda: store.append_blob(bucket_xt, "a.txt", "more"),
        lambda: raw_rmw_append("a.txt", b"more"))
    store.create_blob(bucket_xt, "big.bin", b"b" * big)
    raw.put_object(Bucket=bucket_raw, Key="big.bin", Body=b"b" * big)
    row("append_blob, 6 MiB blob (compose)", "head + multipart compose (5 calls)",
        lambda: store.append_blob(bucket_xt, "big.bin", "tail"),
        lambda: raw_compose("big.bin", b"tail"))
    row("list_blobs (3 blobs, 1 page)", "list_objects_v2",
        lambda: store.list_blobs(bucket_xt),
        lambda: raw.list_objects_v2(Bucket=bucket_raw))
    row("copy_blob", "copy_object",
        lambda: store.copy_blob(bucket_xt, "a.txt", bucket_xt, "c.txt"),
        lambda: raw.copy_object(Bucket=bucket_raw, Key="c.txt",
                                CopySource={"Bucket": bucket_raw, "Key": "a.txt"}))
    row("set_blob_metadata", "head_object + copy_object(REPLACE)",
        lambda: store.set_blob_metadata(bucket_xt, "c.txt", {"k": "v"}),
        lambda: raw.copy_object(
            Bucket=bucket_raw, Key="c.txt", CopySource={"Bucket": bucket_raw, "Key": "c.txt"},
            Metadata={"k": "v"}, MetadataDirective="REPLACE",
            ContentType=raw.head_object(Bucket=bucket_raw, Key="c.txt")["ContentType"]))
    snapshot: list[str] = []
    row("snapshot_blob", "copy_object",
        lambda: snapshot.append(store.snapshot_blob(bucket_xt, "a.txt").snapshot),
        lambda: raw.copy_object(Bucket=bucket_raw, Key="snap/a.txt",
                                CopySource={"Bucket": bucket_raw, "Key": "a.txt"}))
    row("get_blob_bytes(snapshot=id)", "get_object",
        lambda: store.get_blob_bytes(bucket_xt, "a.txt", snapshot=snapshot[0]),
        lambda: raw.get_object(Bucket=bucket_raw, Key="snap/a.txt")["Body"].read())
    row("delete_blob (1 snapshot)", "delete_object x2",
        lambda: store.delete_blob(bucket_xt, "a.txt"),
        lambda: (raw.delete_object(Bucket=bucket_raw, Key="a.txt"),
                 raw.delete_object(Bucket=bucket_raw, Key="snap/a.txt")))
    row("delete_blob (no snapshot)", "delete_object",
        lambda: store.delete_blob(bucket_xt, "c.txt"),
        lambda: raw.delete_object(Bucket=bucket_raw, Key="c.txt"))
    row("create_blob_from_path (12 MiB, 5 MiB parts)", "upload_file",
        lambda: store.create_blob_from_path(bucket_xt, "up.bin", str(upload)),
        lambda: raw.upload_file(str(upload), bucket_raw, "up.bin", Config=tc))
    row("get_blob_to_path (12 MiB, 5 MiB ranges)", "download_file",
        lambda: store.get_blob_to_path(bucket_xt, "up.bin", str(work / "down-xt.bin")),
        lambda: raw.download_file(bucket_raw, "up.bin", str(work / "down-raw.bin"), Config=tc))
    row("delete_container (4 objects)", "list + delete_objects + delete_bucket",
        lambda: store.delete_container(bucket_xt), lambda: raw_empty_and_delete(bucket_raw))

    lines = ["| interface call | xtstore requests | raw boto3 | raw requests |",
             "|---|---|---|---|"]
    for call, raw_call, mine, theirs in rows:
        lines.append(f"| `{call}` | {describe(mine)} | `{raw_call}` | {describe(theirs)} |")
    return lines


def describe(counts: Counter[str]) -> str:
    detail = ", ".join(f"{name} {number}" if number > 1 else name
                       for name, number in counts.items())
    return f"**{sum(counts.values())}** ({detail})"


def fresh_raw_client(server: MotoServer, endpoint: str | None = None) -> Any:
    """A plain boto3 client with the same botocore Config (retries off, same pool), but
    botocore's parameter validation on, as boto3 has it by default (xtstore's client turns it
    off: its Store checks every argument before any request)."""
    import boto3
    from botocore.config import Config

    from xtstore.providers.s3.config import S3Settings

    settings = S3Settings.from_config(server.service_config())
    config = settings.botocore_config().merge(Config(parameter_validation=True))
    return boto3.client("s3", endpoint_url=endpoint or server.endpoint_url,
                        region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=config)


# ---- 2. bytes moved by an append to a 64 MiB blob ----


def append_bytes_table(server: MotoServer, work: Path) -> list[str]:
    target_port = int(server.endpoint_url.rsplit(":", 1)[1])
    proxy = CountingProxy(target_port)
    try:
        proxied = f"http://127.0.0.1:{proxy.port}"
        store = Store(S3Provider(server.service_config(**{"endpoint-url": proxied})), "bench")
        raw = fresh_raw_client(server, proxied)
        bucket = "bench-append-" + uuid.uuid4().hex[:8]
        store.create_container(bucket)
        source = work / "sixty-four.bin"
        source.write_bytes(os.urandom(64 * MiB))
        store.create_blob_from_path(bucket, "log.bin", str(source))
        provider = store.provider
        assert isinstance(provider, S3Provider)
        raw.upload_file(str(source), bucket, "naive.bin", Config=provider.transfer_config)
        lines = ["| operation on a 64 MiB blob | appended | sent to server | received | requests |",
                 "|---|---|---|---|---|"]
        for size in (1024, MiB):
            data = os.urandom(size)
            proxy.reset()
            with requests_of(provider.client) as counts:
                store.append_blob(bucket, "log.bin", data)
            lines.append(f"| xtstore `append_blob` (compose) | {size:,} B | {proxy.sent:,} B | "
                         f"{proxy.received:,} B | {sum(counts.values())} |")
            proxy.reset()
            with requests_of(raw) as counts:
                current = raw.get_object(Bucket=bucket, Key="naive.bin")
                raw.put_object(Bucket=bucket, Key="naive.bin", Body=current["Body"].read() + data,
                               IfMatch=current["ETag"])
            lines.append(f"| naive get + put(IfMatch) | {size:,} B | {proxy.sent:,} B | "
                         f"{proxy.received:,} B | {sum(counts.values())} |")
        expected = source.read_bytes()
        assert store.get_blob_bytes(bucket, "log.bin")[: 64 * MiB] == expected
        store.delete_container(bucket)
        return lines
    finally:
        proxy.close()


# ---- 3. client CPU for a large upload and download ----


def measure(operation: Callable[[], Any]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    operation()
    return time.process_time() - cpu, time.perf_counter() - wall


def cpu_table(server: MotoServer, work: Path, size_mib: int, reps: int) -> list[str]:
    store = Store(S3Provider(server.service_config(**{
        "multipart-threshold": 8 * MiB, "multipart-chunksize": 8 * MiB,
        "max-concurrency": 10})), "bench")
    provider = store.provider
    assert isinstance(provider, S3Provider)
    tc = provider.transfer_config
    raw = fresh_raw_client(server)
    bucket = "bench-cpu-" + uuid.uuid4().hex[:8]
    store.create_container(bucket)
    source = work / "large.bin"
    with open(source, "wb") as sink:
        for _ in range(size_mib):
            sink.write(os.urandom(MiB))
    results: dict[str, list[tuple[float, float]]] = {
        key: [] for key in ("up-xt", "up-raw", "down-xt", "down-raw")}
    for _ in range(reps):
        # Interleaved so that load from other processes hits both sides alike.
        results["up-raw"].append(measure(
            lambda: raw.upload_file(str(source), bucket, "raw.bin", Config=tc)))
        results["up-xt"].append(measure(
            lambda: store.create_blob_from_path(bucket, "xt.bin", str(source))))
        results["down-raw"].append(measure(
            lambda: raw.download_file(bucket, "raw.bin", str(work / "raw.out"), Config=tc)))
        results["down-xt"].append(measure(
            lambda: store.get_blob_to_path(bucket, "xt.bin", str(work / "xt.out"))))
    store.delete_container(bucket)
    lines = [f"| {size_mib} MiB, 8 MiB parts, 10 threads | xtstore CPU s | boto3 CPU s | "
             "CPU ratio | xtstore wall s | boto3 wall s |", "|---|---|---|---|---|---|"]
    for label, key in (("upload (`create_blob_from_path` / `upload_file`)", "up"),
                       ("download (`get_blob_to_path` / `download_file`)", "down")):
        mine = results[f"{key}-xt"]
        theirs = results[f"{key}-raw"]
        cpu_xt = statistics.median(c for c, _ in mine)
        cpu_raw = statistics.median(c for c, _ in theirs)
        wall_xt = statistics.median(w for _, w in mine)
        wall_raw = statistics.median(w for _, w in theirs)
        lines.append(f"| {label} | {cpu_xt:.2f} | {cpu_raw:.2f} | {cpu_xt / cpu_raw:.2f}x | "
                     f"{wall_xt:.1f} | {wall_raw:.1f} |")
    return lines


# ---- 4. many small files ----


def small_files_table(server: MotoServer, work: Path, count: int, reps: int) -> list[str]:
    """``count`` x 4 KiB up and down on 8 threads: xtstore's batch (what ``xtstore upload`` /
    ``download`` run: :func:`xtstore.transfer.run_transfers`) against boto3's
    ``upload_file`` / ``download_file`` and the floor of one ``put_object`` / ``get_object``
    each, on the same thread pool; client CPU of the whole process, wall, requests per file."""
    from concurrent.futures import ThreadPoolExecutor

    from xtstore.transfer import download_transfer, run_transfers, upload_transfer

    store = Store(S3Provider(server.service_config(name="bench")), "bench")
    provider = store.provider
    assert isinstance(provider, S3Provider)
    raw = fresh_raw_client(server)
    tc = provider.transfer_config
    bucket = "bench-small-" + uuid.uuid4().hex[:8]
    store.create_container(bucket)
    source = work / "small"
    source.mkdir(exist_ok=True)
    names = [f"f{index:05d}.bin" for index in range(count)]
    for name in names:
        (source / name).write_bytes(os.urandom(4096))

    def pooled(work_item: Callable[[str], Any]) -> None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(work_item, names))

    def out(tag: str, name: str) -> str:
        return str(work / f"out-{tag}" / name)

    (work / "out-xt").mkdir(exist_ok=True)
    (work / "out-file").mkdir(exist_ok=True)
    (work / "out-get").mkdir(exist_ok=True)

    def raw_get(name: str) -> None:
        body = raw.get_object(Bucket=bucket, Key="raw/" + name)["Body"]
        with open(out("get", name), "wb") as sink:
            sink.write(body.read())

    cases: dict[str, tuple[Any, Callable[[], Any]]] = {
        "up xtstore": (provider.client, lambda: run_transfers(
            [upload_transfer(store, bucket, "xt/" + name, str(source / name), 4096)
             for name in names], workers=8)),
        "up boto3 upload_file": (raw, lambda: pooled(lambda name: raw.upload_file(
            str(source / name), bucket, "file/" + name, Config=tc))),
        "up boto3 put_object": (raw, lambda: pooled(lambda name: raw.put_object(
            Bucket=bucket, Key="raw/" + name, Body=(source / name).read_bytes()))),
        "down xtstore": (provider.client, lambda: run_transfers(
            [download_transfer(store, bucket, "xt/" + name, out("xt", name), 4096)
             for name in names], workers=8)),
        "down boto3 download_file": (raw, lambda: pooled(lambda name: raw.download_file(
            bucket, "file/" + name, out("file", name), Config=tc))),
        "down boto3 get_object": (raw, lambda: pooled(raw_get)),
    }
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
    requests: dict[str, float] = {}
    for _ in range(reps):
        for label, (client, operation) in cases.items():  # interleaved
            with requests_of(client) as counts:
                results[label].append(measure(operation))
            requests[label] = sum(counts.values()) / count
    # Emptying 6,000 objects through moto's ListObjectVersions paging can leave some behind
    # (BucketNotEmpty after three sweeps): the server goes away with the run anyway.
    with suppress(StoreError):
        store.delete_container(bucket)
    floor = {"up": "up boto3 put_object", "down": "down boto3 get_object"}
    lines = [f"| {count:,} x 4 KiB, 8 threads | client CPU s | CPU vs floor | wall s |"
             " requests per file | load |", "|---|---|---|---|---|---|"]
    for label, runs in results.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        base = statistics.median(c for c, _ in results[floor[label.split()[0]]])
        lines.append(f"| {label} | {cpu:.2f} | {cpu / base:.2f}x | {wall:.1f} |"
                     f" {requests[label]:g} | {load()} |")
    return lines


# ---- 5. one GET or parallel ranges ----


def crossover_table(server: MotoServer, work: Path, sizes: list[int], reps: int) -> list[str]:
    """``get_blob_to_path`` of each size as one streamed GET and as parallel 8 MiB ranges on
    10 threads (``max-streamed-get-size`` above and below it), interleaved."""
    configs = {"one GET": 2**62, "ranges": 0}
    stores = {label: Store(S3Provider(server.service_config(**{
        "multipart-threshold": 8 * MiB, "multipart-chunksize": 8 * MiB, "max-concurrency": 10,
        "max-streamed-get-size": limit})), "bench") for label, limit in configs.items()}
    first = stores["one GET"]
    bucket = "bench-cross-" + uuid.uuid4().hex[:8]
    first.create_container(bucket)
    lines = ["| size | one GET wall s | ranges wall s | one GET CPU s | ranges CPU s | load |",
             "|---|---|---|---|---|---|"]
    for size in sizes:
        source = work / "cross.bin"
        with open(source, "wb") as sink:
            for _ in range(size):
                sink.write(os.urandom(MiB))
        first.create_blob_from_path(bucket, "cross.bin", str(source))
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in stores}
        for _ in range(reps):
            for label, store in stores.items():
                runs[label].append(measure(lambda store=store: store.get_blob_to_path(
                    bucket, "cross.bin", str(work / "cross.out"))))
        one, ranged = runs["one GET"], runs["ranges"]
        lines.append(
            f"| {size} MiB | {statistics.median(w for _, w in one):.2f} |"
            f" {statistics.median(w for _, w in ranged):.2f} |"
            f" {statistics.median(c for c, _ in one):.2f} |"
            f" {statistics.median(c for c, _ in ranged):.2f} | {load()} |")
    first.delete_container(bucket)
    return lines


# ---- 6. a 64 MiB download, each in its own process ----

_XT_PROCESS = """
import sys, xtstore
store = xtstore.get_storage("s3", config={"external-services": {"s3": {
    "type": "storage", "provider": "store-s3", "endpoint-url": sys.argv[1],
    "region": "us-east-1", "access-key-id": "test", "secret-access-key": "test",
    "addressing-style": "path"}}})
store.get_blob_to_path(sys.argv[2], "big.bin", sys.argv[3])
"""
_BOTO3_PROCESS = """
import sys, boto3
from boto3.s3.transfer import TransferConfig
client = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
client.download_file(sys.argv[2], "big.bin", sys.argv[3], Config=TransferConfig())
"""
_BOTO3_GET_PROCESS = """
import sys, shutil, boto3
client = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
body = client.get_object(Bucket=sys.argv[2], Key="big.bin")["Body"]
with open(sys.argv[3], "wb") as sink:
    shutil.copyfileobj(body, sink, 1 << 20)
"""


def process_table(server: MotoServer, work: Path, size_mib: int, reps: int) -> list[str]:
    """A whole process each (start-up, imports, client, download): client CPU from
    ``getrusage(RUSAGE_CHILDREN)``, with the default settings of each, xtstore's bytecode
    compiled first (without it, compiling xtstore's sources costs each process ~0.1 s)."""
    import resource
    import subprocess

    store = Store(S3Provider(server.service_config()), "bench")
    bucket = "bench-proc-" + uuid.uuid4().hex[:8]
    store.create_container(bucket)
    source = work / "proc.bin"
    with open(source, "wb") as sink:
        for _ in range(size_mib):
            sink.write(os.urandom(MiB))
    store.create_blob_from_path(bucket, "big.bin", str(source))
    scripts = {"xtstore `get_blob_to_path` (one GET)": _XT_PROCESS,
               "boto3 `download_file` (8 MiB ranges)": _BOTO3_PROCESS,
               "boto3 `get_object`, streamed": _BOTO3_GET_PROCESS}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "AWS_EC2_METADATA_DISABLED": "true"}
    # As a normal install runs it: with compiled bytecode (boto3's is compiled already).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "xtstore")],
                   check=True)
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in scripts}
    for _ in range(reps):
        for label, script in scripts.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.perf_counter()
            subprocess.run([sys.executable, "-c", script, server.endpoint_url, bucket,
                            str(work / "proc.out")], check=True, env=env)
            wall = time.perf_counter() - wall
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            runs[label].append((cpu, wall))
    store.delete_container(bucket)
    reference = statistics.median(c for c, _ in runs["boto3 `download_file` (8 MiB ranges)"])
    lines = [f"| {size_mib} MiB download, own process | client CPU s | vs download_file |"
             " wall s | load |", "|---|---|---|---|---|"]
    for label, measured in runs.items():
        cpu = statistics.median(c for c, _ in measured)
        lines.append(f"| {label} | {cpu:.2f} | {cpu / reference:.2f}x |"
                     f" {statistics.median(w for _, w in measured):.2f} | {load()} |")
    return lines


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--files", type=int, default=2000, help="small files (4 KiB each)")
    parser.add_argument("--crossover", default="1,4,16,64,256",
                        help="sizes in MiB for the one-GET-or-ranges table")
    parser.add_argument("--only", choices=("all", "small", "crossover", "process"),
                        default="all", help="run one of the 2.6 tables alone")
    args = parser.parse_args()
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as folder:
        work = Path(folder)
        with start_moto(work / "moto.log") as server:
            if args.only in ("all", "small"):
                print(f"### {args.files:,} x 4 KiB up and down (median of {args.reps})\n")
                print("\n".join(small_files_table(server, work, args.files, args.reps)))
            if args.only in ("all", "crossover"):
                print(f"\n### One GET or parallel ranges (median of {args.reps})\n")
                sizes = [int(size) for size in args.crossover.split(",")]
                print("\n".join(crossover_table(server, work, sizes, args.reps)))
            if args.only in ("all", "process"):
                print(f"\n### 64 MiB download, each in its own process (median of"
                      f" {max(3, args.reps)})\n")
                print("\n".join(process_table(server, work, 64, max(3, args.reps))))
            if args.only != "all":
                return
            print("\n### Requests per interface call\n")
            print("\n".join(request_table(server, work)))
            print("\n### Bytes moved by an append to a 64 MiB blob\n")
            print("\n".join(append_bytes_table(server, work)))
            print(f"\n### Client CPU, {args.size_mib} MiB transfer (median of {args.reps})\n")
            print("\n".join(cpu_table(server, work, args.size_mib, args.reps)))


if __name__ == "__main__":
    main()
