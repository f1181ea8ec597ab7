"""Benchmark of the azure-blob provider against Azurite, next to the raw SDK.

    python benchmarks/bench_azure.py [--size-mib 256] [--list-blobs 12000] [--repeats 3]
    python benchmarks/bench_azure.py --checksums [--repeats 5]
    python benchmarks/bench_azure.py --issue-2-6 [--repeats 5] [--files 2000] [--tables ...]

Prints two Markdown tables (with ``--checksums``, the third only):

1. HTTP requests per interface call, xtstore vs the raw azure-storage-blob SDK doing the same
   operation, counted with the clients' ``raw_request_hook`` (called for every request sent);
2. client CPU time (this process's user+system time, all threads; Azurite runs in another
   process) and wall time for uploading and downloading one large file, both with the same
   concurrency and block sizes; the median of ``--repeats`` runs each, alternating which
   goes first, each starting after ``os.sync()`` with no earlier output file to free;
3. the cost of upload checksums: client CPU and wall time of ``create_blob`` (bytes in
   memory) and ``create_blob_from_path`` of 1 MiB, 64 MiB (one Put Blob at the SDK's
   default 64 MiB ``max_single_put_size``) and 128 MiB (32 blocks of 4 MiB), next to the raw
   SDK doing the same work (the whole MD5 computed for ``content_settings.content_md5``, and
   ``upload_blob(validate_content=True)``) and the raw SDK without any checksum.

With ``--issue-2-6``, the tables of issue 2.6 instead, each row xtstore next to the raw SDK
in the same process, client CPU (``time.process_time``) as the median of ``--repeats`` runs
alternating which goes first, and the load average beside each table:

4. names-only listing of 2,000 and 20,000 blobs (``Store.list_blobs``, names) against
   ``ContainerClient.list_blob_names``, and the full listing (``return_names=False``, with
   metadata) against the SDK's ``list_blobs`` with and without ``include=["metadata"]``;
5. ``--files`` x 4 KiB uploaded and downloaded one by one through the Store
   (``create_blob_from_path`` with metadata, ``get_blob_to_path``) and by the raw SDK
   (``BlobClient.upload_blob`` / ``download_blob``), CPU and requests per file, and the same
   folder through ``xtstore upload`` / ``xtstore download`` (the command's own CPU, from
   ``os.times`` of its process);
6. one download of 1, 4, 16, 64 and 256 MiB: ``get_blob_to_path`` (one streamed GET up to
   ``max-streamed-get-size``), the same forced to parallel ranges, and the SDK's
   ``download_blob(max_concurrency=4).readinto``;
7. deleting ``--files`` blobs: ``Store.delete_blobs`` (Blob Batch) against a
   ``delete_blob`` per name.

It starts and stops its own Azurite (see tests/servers/azurite.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from azure.storage.blob import BlobServiceClient, ContentSettings  # noqa: E402
from tests.providers.azure.counting import RequestCounter  # noqa: E402
from tests.servers.azurite import Azurite, running_azurite  # noqa: E402

import xtstore  # noqa: E402

CONCURRENCY = 4


def _store(azurite: Azurite, counter: RequestCounter | None = None) -> Any:
    service: dict[str, Any] = {"type": "storage", "provider": "azure-blob",
                               "connection-string": azurite.connection_string,
                               "max-concurrency": CONCURRENCY}
    if counter is not None:
        service["client-options"] = {"raw_request_hook": counter}
    return xtstore.get_storage("az", config={"external-services": {"az": service}})


def _raw(azurite: Azurite, counter: RequestCounter | None = None) -> Any:
    options: dict[str, Any] = {"retry_total": 0}
    if counter is not None:
        options["raw_request_hook"] = counter
    return BlobServiceClient.from_connection_string(azurite.connection_string, **options)


def _count(counter: RequestCounter, action: Callable[[], object]) -> int:
    counter.reset()
    action()
    return counter.count


def request_table(azurite: Azurite, list_size: int, work: Path) -> list[tuple[str, int, int]]:
    ours_counter, raw_counter = RequestCounter(), RequestCounter()
    store, service = _store(azurite, ours_counter), _raw(azurite, raw_counter)
    c = "bench-requests"
    store.create_container(c)
    cc = service.get_container_client(c)
    blob = service.get_blob_client
    small = work / "small.txt"
    small.write_text("hello\n")
    rows: list[tuple[str, Callable[[], object], Callable[[], object]]] = []

    def row(name: str, ours: Callable[[], object], raw: Callable[[], object]) -> None:
        rows.append((name, ours, raw))

    def raw_rewrite_append(name: str, text: bytes) -> None:
        client = blob(c, name)
        downloader = client.download_blob()
        from azure.core import MatchConditions

        client.upload_blob(downloader.readall() + text, overwrite=True,
                           etag=downloader.properties.etag,
                           match_condition=MatchConditions.IfNotModified)

    def raw_new_append(name: str) -> None:
        blob(c, name).create_append_blob()
        blob(c, name).append_block(b"x\n")

    def raw_copy() -> None:
        blob(c, "raw-copy.txt").start_copy_from_url(blob(c, "raw.txt").url)

    snaps: dict[str, str] = {}

    row("create_blob (small)", lambda: store.create_blob(c, "ours.txt", "hello\n"),
        lambda: blob(c, "raw.txt").upload_blob(b"hello\n", overwrite=True))
    row("create_blob(fail_if_exists=True)",
        lambda: store.create_blob(c, "ours-once.txt", "x", fail_if_exists=True),
        lambda: blob(c, "raw-once.txt").upload_blob(b"x", overwrite=False))
    row("create_blob_from_path (small)",
        lambda: store.create_blob_from_path(c, "ours-f.txt", str(small)),
        lambda: blob(c, "raw-f.txt").upload_blob(small.read_bytes(), overwrite=True))
    row("get_blob_text", lambda: store.get_blob_text(c, "ours.txt"),
        lambda: blob(c, "raw.txt").download_blob().readall().decode())
    row("get_blob_to_path (small)",
        lambda: store.get_blob_to_path(c, "ours.txt", str(work / "o.txt")),
        lambda: (work / "r.txt").write_bytes(blob(c, "raw.txt").download_blob().readall()))
    row("does_blob_exist (exists)", lambda: store.does_blob_exist(c, "ours.txt"),
        lambda: blob(c, "raw.txt").exists())
    row("does_blob_exist (missing)", lambda: store.does_blob_exist(c, "nope.txt"),
        lambda: blob(c, "nope.txt").exists())
    row("get_blob_properties", lambda: store.get_blob_properties(c, "ours.txt"),
        lambda: blob(c, "raw.txt").get_blob_properties())
    row("get_blob_metadata", lambda: store.get_blob_metadata(c, "ours.txt"),
        lambda: blob(c, "raw.txt").get_blob_properties().metadata)
    row("set_blob_metadata", lambda: store.set_blob_metadata(c, "ours.txt", {"k": "v"}),
        lambda: blob(c, "raw.txt").set_blob_metadata({"k": "v"}))
    row("append_blob (new blob)", lambda: store.append_blob(c, "ours.log", "x\n"),
        lambda: raw_new_append("raw.log"))
    row("append_blob (append blob)", lambda: store.append_blob(c, "ours.log", "y\n"),
        lambda: blob(c, "raw.log").append_block(b"y\n"))
    row("append_blob (block blob from create_blob, first append)",
        lambda: store.append_blob(c, "ours.txt", "z\n"),
        lambda: raw_rewrite_append("raw.txt", b"z\n"))
    row("append_blob (block blob, later appends)",
        lambda: store.append_blob(c, "ours.txt", "v\n"),
        lambda: raw_rewrite_append("raw.txt", b"v\n"))
    row("append_blob(append_with_rewrite=True)",
        lambda: store.append_blob(c, "ours.txt", "w\n", append_with_rewrite=True),
        lambda: raw_rewrite_append("raw.txt", b"w\n"))
    row("snapshot_blob",
        lambda: snaps.__setitem__("ours", store.snapshot_blob(c, "ours.txt").snapshot),
        lambda: snaps.__setitem__("raw", blob(c, "raw.txt").create_snapshot()["snapshot"]))
    row("get_blob_to_path (snapshot)",
        lambda: store.get_blob_to_path(c, "ours.txt", str(work / "s.txt"),
                                       snapshot=snaps["ours"]),
        lambda: service.get_blob_client(c, "raw.txt", snapshot=snaps["raw"])
        .download_blob().readall())
    row("delete_blob (one snapshot)",
        lambda: store.delete_blob(c, "ours.txt", snapshot=snaps["ours"]),
        lambda: service.get_blob_client(c, "raw.txt", snapshot=snaps["raw"]).delete_blob())
    row("copy_blob (server-side)", lambda: store.copy_blob(c, "ours.txt", c, "ours-copy.txt"),
        raw_copy)
    row("delete_blob (with its snapshots)", lambda: store.delete_blob(c, "ours-copy.txt"),
        lambda: blob(c, "raw-copy.txt").delete_blob(delete_snapshots="include"))
    row("list_blobs (folder, recursive=False)",
        lambda: store.list_blobs(c, recursive=False),
        lambda: list(cc.walk_blobs(delimiter="/", results_per_page=5000)))
    row("does_container_exist", lambda: store.does_container_exist(c), lambda: cc.exists())
    row("get_container_properties", lambda: store.get_container_properties(c),
        lambda: cc.get_container_properties())
    row("list_containers", lambda: store.list_containers(),
        lambda: list(service.list_containers(results_per_page=5000)))
    row("create_container", lambda: store.create_container("bench-ours"),
        lambda: service.create_container("bench-raw"))
    row("delete_container", lambda: store.delete_container("bench-ours"),
        lambda: service.delete_container("bench-raw"))

    results = [(name, _count(ours_counter, ours), _count(raw_counter, raw))
               for name, ours, raw in rows]

    listed = "bench-listing"
    store.create_container(listed)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: service.get_blob_client(listed, f"d/{i:06}").upload_blob(b""),
                      range(list_size)))
    lc = service.get_container_client(listed)
    results.append((
        f"list_blobs ({list_size:,} blobs)",
        _count(ours_counter, lambda: store.list_blobs(listed)),
        _count(raw_counter, lambda: list(lc.list_blobs(results_per_page=5000))),
    ))
    store.delete_container(listed)
    store.delete_container(c)
    return results


def _settle(work: Path) -> None:
    """Start each timed run from the same state: no earlier output to free and no dirty pages
    to write back (the kernel charges that to whichever process is writing at the time)."""
    for output in work.glob("*.out"):
        output.unlink()
    os.sync()


def cpu_table(azurite: Azurite, size_mib: int, repeats: int, work: Path) -> list[tuple[str, ...]]:
    store, service = _store(azurite), _raw(azurite)
    c = "bench-transfer"
    store.create_container(c)
    source = work / "big.bin"
    with open(source, "wb") as out:
        chunk = os.urandom(1024 * 1024)
        for _ in range(size_mib):
            out.write(chunk)
    size = source.stat().st_size

    def raw_upload() -> None:
        with open(source, "rb") as data:
            service.get_blob_client(c, "raw.bin").upload_blob(
                data, length=size, overwrite=True, max_concurrency=CONCURRENCY)

    def raw_download() -> None:
        with open(work / "raw.out", "wb") as out:
            service.get_blob_client(c, "raw.bin").download_blob(
                max_concurrency=CONCURRENCY).readinto(out)

    cases = {
        "upload": (lambda: store.create_blob_from_path(c, "ours.bin", str(source)), raw_upload),
        "download": (lambda: store.get_blob_to_path(c, "ours.bin", str(work / "ours.out")),
                     raw_download),
    }
    try:
        return _time_cases(cases, size_mib, repeats, work)
    finally:
        _check_and_drop(store, c, source, work)


def _time_cases(cases: dict[str, tuple[Callable[[], object], Callable[[], object]]],
                size_mib: int, repeats: int, work: Path) -> list[tuple[str, ...]]:
    rows = []
    for name, (ours, raw) in cases.items():
        timings: dict[str, list[tuple[float, float]]] = {"xtstore": [], "raw": []}
        for round_number in range(repeats):
            order = [("xtstore", ours), ("raw", raw)]
            for label, action in order if round_number % 2 == 0 else order[::-1]:
                _settle(work)
                cpu, wall = time.process_time(), time.perf_counter()
                action()
                timings[label].append((time.process_time() - cpu, time.perf_counter() - wall))
        ours_cpu = [t[0] for t in timings["xtstore"]]
        raw_cpu = [t[0] for t in timings["raw"]]
        ours_wall = statistics.median(t[1] for t in timings["xtstore"])
        raw_wall = statistics.median(t[1] for t in timings["raw"])
        median_ratio = statistics.median(ours_cpu) / statistics.median(raw_cpu)
        rows.append((
            f"{name} {size_mib} MiB",
            f"{statistics.median(ours_cpu):.2f} / {min(ours_cpu):.2f}",
            f"{statistics.median(raw_cpu):.2f} / {min(raw_cpu):.2f}",
            f"{median_ratio:.2f}x / {min(ours_cpu) / min(raw_cpu):.2f}x",
            f"{ours_wall:.1f}", f"{raw_wall:.1f}",
        ))
    return rows


def _check_and_drop(store: Any, c: str, source: Path, work: Path) -> None:
    store.get_blob_to_path(c, "ours.bin", str(work / "ours.out"))
    assert (work / "ours.out").read_bytes() == source.read_bytes()
    store.delete_container(c)


CHECKSUM_SIZES_MIB = (1, 64, 128)


def checksum_table(azurite: Azurite, repeats: int, work: Path) -> list[tuple[str, ...]]:
    """CPU and wall seconds (medians of ``repeats``, the three runs of a round in rotating
    order) of xtstore's uploads against the raw SDK with and without checksums."""
    store = _store(azurite)
    # The SDK's own retries on (they cost nothing unless a request fails): Azurite closes
    # connections left idle during os.sync(), and the store's retry layer repeats those too.
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    c = "bench-checksums"
    store.create_container(c)

    def raw(name: str, data: bytes | Any, length: int, md5: bytes | None) -> None:
        extra: dict[str, Any] = {}
        if md5 is not None:
            extra = {"validate_content": True,
                     "content_settings": ContentSettings(content_md5=bytearray(md5))}
        service.get_blob_client(c, name).upload_blob(
            data, length=length, overwrite=True, max_concurrency=CONCURRENCY, **extra)

    def file_md5(path: Path) -> bytes:
        digest = hashlib.md5()
        with open(path, "rb") as source:
            while chunk := source.read(4 * 1024 * 1024):
                digest.update(chunk)
        return digest.digest()

    def raw_file(path: Path, checked: bool) -> None:
        md5 = file_md5(path) if checked else None
        with open(path, "rb") as source:
            raw("raw.bin", source, path.stat().st_size, md5)

    def cases_for(data: bytes, path: Path) -> dict[str, dict[str, Callable[[], object]]]:
        return {
            "create_blob": {
                "xtstore": lambda: store.create_blob(c, "ours.bin", data),
                "checked": lambda: raw("raw.bin", data, len(data), hashlib.md5(data).digest()),
                "unchecked": lambda: raw("raw.bin", data, len(data), None),
            },
            "create_blob_from_path": {
                "xtstore": lambda: store.create_blob_from_path(c, "ours.bin", str(path)),
                "checked": lambda: raw_file(path, True),
                "unchecked": lambda: raw_file(path, False),
            },
        }

    rows = []
    try:
        for size_mib in CHECKSUM_SIZES_MIB:
            data = os.urandom(size_mib * 1024 * 1024)
            path = work / f"source-{size_mib}.bin"
            path.write_bytes(data)
            cases = cases_for(data, path)
            for name, runs in cases.items():
                timings: dict[str, list[tuple[float, float]]] = {label: [] for label in runs}
                labels = list(runs)
                for round_number in range(repeats):
                    shift = round_number % len(labels)
                    for label in labels[shift:] + labels[:shift]:
                        _settle(work)
                        cpu, wall = time.process_time(), time.perf_counter()
                        runs[label]()
                        timings[label].append(
                            (time.process_time() - cpu, time.perf_counter() - wall))
                cpu_of = {label: statistics.median(t[0] for t in timings[label])
                          for label in labels}
                wall_of = {label: statistics.median(t[1] for t in timings[label])
                           for label in labels}
                rows.append((
                    f"{name} {size_mib} MiB",
                    f"{cpu_of['xtstore']:.3f}", f"{cpu_of['checked']:.3f}",
                    f"{cpu_of['unchecked']:.3f}",
                    f"{cpu_of['xtstore'] / cpu_of['checked']:.2f}x",
                    f"{cpu_of['xtstore'] / cpu_of['unchecked']:.2f}x",
                    f"{wall_of['xtstore']:.2f}", f"{wall_of['checked']:.2f}",
                    f"{wall_of['unchecked']:.2f}",
                ))
            assert store.get_blob_bytes(c, "ours.bin") == data
            path.unlink()
    finally:
        store.delete_container(c)
    return rows


def print_checksum_table(rows: list[tuple[str, ...]], repeats: int) -> None:
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Concurrency {CONCURRENCY}, SDK default sizes (64 MiB single put, 4 MiB blocks), "
          f"median of {repeats} runs each, rotating which goes first, each after os.sync(); "
          f"load average after the runs {load}.")
    print()
    print("| upload | xtstore CPU s | raw SDK, same checks, CPU s | raw SDK, no checks, CPU s "
          "| CPU vs same checks | CPU vs no checks | xtstore wall s | same checks wall s "
          "| no checks wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _cpu_medians(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median client CPU seconds of each case, the order rotating every round."""
    times: dict[str, list[float]] = {label: [] for label in cases}
    labels = list(cases)
    for round_number in range(repeats):
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            cpu = time.process_time()
            cases[label]()
            times[label].append(time.process_time() - cpu)
    return {label: statistics.median(values) for label, values in times.items()}


def _fill(azurite: Azurite, container: str, count: int) -> None:
    # The SDK's own retries on: a loaded Azurite stalls now and then while it fills.
    client = BlobServiceClient.from_connection_string(
        azurite.connection_string).get_container_client(container)
    client.create_container()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: client.get_blob_client(f"d{i % 20:02}/{i:06}").upload_blob(
            b"x", metadata={"mtime": "1700000000000000000"}), range(count)))


def listing_table(azurite: Azurite, repeats: int) -> None:
    store, service = _store(azurite), _raw(azurite)
    print(f"Listing CPU ms (median of {repeats}), blobs with one metadata key each.")
    print()
    print("| blobs | xtstore names | SDK list_blob_names | ratio | xtstore objects "
          "(with metadata) | SDK list_blobs | SDK list_blobs + metadata | objects vs SDK "
          "list_blobs | load |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for count in (2_000, 20_000):
        c = f"bench-list-{count}"
        _fill(azurite, c, count)
        client = service.get_container_client(c)
        assert store.list_blobs(c) == list(client.list_blob_names())
        cpu = _cpu_medians({
            "names": lambda c=c: store.list_blobs(c),
            "sdk names": lambda cl=client: list(cl.list_blob_names(results_per_page=5000)),
            "objects": lambda c=c: store.list_blobs(c, return_names=False),
            "sdk objects": lambda cl=client: list(cl.list_blobs(results_per_page=5000)),
            "sdk objects+metadata": lambda cl=client: list(cl.list_blobs(
                results_per_page=5000, include=["metadata"])),
        }, repeats)
        print(f"| {count:,} | {cpu['names'] * 1e3:.1f} | {cpu['sdk names'] * 1e3:.1f} | "
              f"{cpu['names'] / cpu['sdk names']:.2f}x | {cpu['objects'] * 1e3:.1f} | "
              f"{cpu['sdk objects'] * 1e3:.1f} | {cpu['sdk objects+metadata'] * 1e3:.1f} | "
              f"{cpu['objects'] / cpu['sdk objects']:.2f}x | {_load()} |")
        store.delete_container(c)
    print()


def small_files_table(azurite: Azurite, files: int, repeats: int, work: Path) -> None:
    ours_counter, raw_counter = RequestCounter(), RequestCounter()
    store = _store(azurite, ours_counter)
    # The SDK's own retries on, as xtstore's are (they cost nothing unless a request fails).
    service = BlobServiceClient.from_connection_string(azurite.connection_string,
                                                      raw_request_hook=raw_counter)
    c = "bench-small"
    store.create_container(c)
    source = work / "small"
    source.mkdir()
    for index in range(files):
        (source / f"f{index:05}.bin").write_bytes(os.urandom(4096))
    paths = sorted(source.iterdir())
    down = work / "small-down"
    down.mkdir()

    def ours_up() -> None:
        for path in paths:
            store.create_blob_from_path(c, f"o/{path.name}", str(path),
                                        metadata={"mtime": "1700000000000000000"})

    def raw_up() -> None:
        for path in paths:
            service.get_blob_client(c, f"r/{path.name}").upload_blob(
                path.read_bytes(), overwrite=True, metadata={"mtime": "1700000000000000000"})

    def ours_down() -> None:
        for path in paths:
            store.get_blob_to_path(c, f"o/{path.name}", str(down / path.name))

    def raw_down() -> None:
        for path in paths:
            with open(down / f"r-{path.name}", "wb") as out:
                service.get_blob_client(c, f"r/{path.name}").download_blob().readinto(out)

    print(f"{files:,} x 4 KiB one by one in this process: CPU ms per file (median of "
          f"{repeats}) and requests per file.")
    print()
    print("| direction | xtstore CPU ms/file | raw SDK CPU ms/file | ratio | xtstore requests/file "
          "| raw SDK requests/file | load |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, ours, raw in (("upload", ours_up, raw_up), ("download", ours_down, raw_down)):
        ours(), raw()  # warm: containers, connections, blobs to download
        cpu = _cpu_medians({"ours": ours, "raw": raw}, repeats)
        ours_counter.reset(), raw_counter.reset()
        ours(), raw()
        print(f"| {name} | {cpu['ours'] / files * 1e3:.3f} | {cpu['raw'] / files * 1e3:.3f} | "
              f"{cpu['ours'] / cpu['raw']:.2f}x | {ours_counter.count / files:.2f} | "
              f"{raw_counter.count / files:.2f} | {_load()} |")
    print()
    config = work / "cli-config.json"
    config.write_text(json.dumps({"external-services": {"az": {
        "type": "storage", "provider": "azure-blob",
        "connection-string": azurite.connection_string}}}))
    env = {**os.environ, "XTSTORE_CONFIG": str(config)}
    script = Path(sys.executable).with_name("xtstore")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "xtstore"]
    runs: dict[str, list[tuple[float, float]]] = {"upload": [], "download": []}
    for round_number in range(repeats):
        target = f"cli{round_number}"
        for name, args in (("upload", ["upload", str(source), f"az:{c}/{target}"]),
                           ("download", ["download", f"az:{c}/{target}",
                                         str(work / f"cli-down-{round_number}")])):
            before, wall = os.times(), time.perf_counter()
            subprocess.run([*command, *args], env=env, check=True, capture_output=True)
            after = os.times()
            runs[name].append((after.children_user + after.children_system
                               - before.children_user - before.children_system,
                               time.perf_counter() - wall))
    print(f"The CLI, {files:,} x 4 KiB (a new folder each run; median of {repeats}).")
    print()
    print("| command | client CPU s | wall s | load |")
    print("|---|---:|---:|---|")
    for name, values in runs.items():
        print(f"| xtstore {name} | {statistics.median(v[0] for v in values):.2f} | "
              f"{statistics.median(v[1] for v in values):.2f} | {_load()} |")
    print()
    store.delete_container(c)


CROSSOVER_SIZES_MIB = (1, 4, 16, 64, 256)


def crossover_table(azurite: Azurite, repeats: int, work: Path) -> None:
    store, service = _store(azurite), _raw(azurite)
    ranged = xtstore.get_storage("az", config={"external-services": {"az": {
        "type": "storage", "provider": "azure-blob", "max-concurrency": CONCURRENCY,
        "connection-string": azurite.connection_string, "max-streamed-get-size": 1}}})
    c = "bench-crossover"
    store.create_container(c)
    print(f"One download, CPU s and wall s (medians of {repeats}, rotating order, each "
          f"after os.sync()); concurrency {CONCURRENCY}, 4 MiB ranges.")
    print()
    print("| size | streamed GET CPU | wall | xtstore ranged CPU | wall | SDK parallel CPU "
          "| wall | streamed vs SDK wall | load |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for size_mib in CROSSOVER_SIZES_MIB:
        data = os.urandom(1024 * 1024) * size_mib
        store.create_blob(c, "b.bin", data)
        del data
        client = service.get_blob_client(c, "b.bin")

        def sdk(client: Any = client) -> None:
            with open(work / "sdk.out", "wb") as out:
                client.download_blob(max_concurrency=CONCURRENCY).readinto(out)

        cases = {
            "streamed": lambda: store.get_blob_to_path(c, "b.bin", str(work / "s.out")),
            "ranged": lambda: ranged.get_blob_to_path(c, "b.bin", str(work / "r.out")),
            "sdk": sdk,
        }
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
        labels = list(cases)
        for round_number in range(repeats):
            shift = round_number % len(labels)
            for label in labels[shift:] + labels[:shift]:
                _settle(work)
                cpu, wall = time.process_time(), time.perf_counter()
                cases[label]()
                times[label].append((time.process_time() - cpu, time.perf_counter() - wall))
        med = {label: (statistics.median(t[0] for t in values),
                       statistics.median(t[1] for t in values))
               for label, values in times.items()}
        for label in ("streamed", "ranged"):
            cases[label]()
        assert (work / "s.out").read_bytes() == (work / "r.out").read_bytes()
        assert (work / "s.out").stat().st_size == size_mib * 1024 * 1024
        print(f"| {size_mib} MiB | {med['streamed'][0]:.3f} | {med['streamed'][1]:.3f} | "
              f"{med['ranged'][0]:.3f} | {med['ranged'][1]:.3f} | {med['sdk'][0]:.3f} | "
              f"{med['sdk'][1]:.3f} | {med['streamed'][1] / med['sdk'][1]:.2f}x | {_load()} |")
    print()
    store.delete_container(c)


def batch_delete_table(azurite: Azurite, files: int) -> None:
    counter = RequestCounter()
    store = _store(azurite, counter)
    print(f"Deleting {files:,} blobs (one run each).")
    print()
    print("| how | requests | CPU s | wall s | load |")
    print("|---|---:|---:|---:|---|")
    for how in ("Store.delete_blobs (Blob Batch)", "delete_blob per name"):
        c = "bench-delete"
        _fill(azurite, c, files)
        names = store.list_blobs(c)
        counter.reset()
        cpu, wall = time.process_time(), time.perf_counter()
        if how.startswith("Store"):
            assert not any(store.delete_blobs(c, names).values())
        else:
            for name in names:
                store.delete_blob(c, name)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert store.list_blobs(c) == []
        print(f"| {how} | {counter.count} | {cpu:.2f} | {wall:.2f} | {_load()} |")
        store.delete_container(c)
    print()


ISSUE_TABLES = ("crossover", "small", "delete", "listing")


def issue_tables(azurite: Azurite, files: int, repeats: int, work: Path,
                 tables: list[str]) -> None:
    print("Machine: 2 cores shared with other work; Azurite in memory on 127.0.0.1.")
    print()
    if "crossover" in tables:
        crossover_table(azurite, repeats, work)
    if "small" in tables:
        small_files_table(azurite, files, repeats, work)
    if "delete" in tables:
        batch_delete_table(azurite, files)
    if "listing" in tables:
        listing_table(azurite, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--list-blobs", type=int, default=12_000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--checksums", action="store_true",
                        help="only the table of upload checksum costs")
    parser.add_argument("--issue-2-6", action="store_true",
                        help="only the tables of issue 2.6 (listings, small files, large "
                        "downloads, batch delete)")
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--tables", default=",".join(ISSUE_TABLES),
                        help="with --issue-2-6, which of its tables (comma-separated: "
                        + ", ".join(ISSUE_TABLES) + ")")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-azure-") as temp:
        work = Path(temp)
        with running_azurite(work / "azurite") as azurite:
            if args.checksums:
                print_checksum_table(checksum_table(azurite, args.repeats, work), args.repeats)
                return
            if args.issue_2_6:
                issue_tables(azurite, args.files, args.repeats, work, args.tables.split(","))
                return
            requests = request_table(azurite, args.list_blobs, work)
            transfers = cpu_table(azurite, args.size_mib, args.repeats, work)
    print("| interface call | xtstore requests | raw SDK requests |")
    print("|---|---:|---:|")
    for name, ours, raw in requests:
        print(f"| {name} | {ours} | {raw} |")
    print()
    print(f"Concurrency {CONCURRENCY}, SDK default block/range sizes, median of "
          f"{args.repeats} runs each, alternating which goes first, each after os.sync().")
    print()
    print("| transfer | xtstore CPU s (median / min) | raw SDK CPU s (median / min) | "
          "CPU ratio (median / min) | xtstore wall s | raw SDK wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in transfers:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
