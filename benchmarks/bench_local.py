"""Benchmark of store-file against the raw standard library, ``cp`` and fsspec's local
filesystem (issue 2's performance targets). One run prints a Markdown table.

    python benchmarks/bench_local.py            # full run: 1 GiB transfers, 20,000-blob listing
    python benchmarks/bench_local.py --quick    # smaller sizes, a few seconds

Everything happens in a temporary folder (``--dir``, default the system's temp folder) that is
removed at the end. Timings are wall-clock and the best of ``--repeat`` runs; the page cache is
warm (nothing is dropped), so large transfers measure copy throughput, not the disk.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

import xtstore
from xtstore.store import Store

MiB = 1024 * 1024


@dataclass
class Row:
    operation: str
    store: str
    baselines: str
    ratio: str


def best_of(repeat: int, action: Callable[[], object], before: Callable[[], object] | None = None
            ) -> float:
    """The shortest wall time of ``repeat`` runs of ``action`` (``before`` runs untimed)."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def interleaved(repeat: int, cases: dict[str, tuple[Callable[[], object],
                                                     Callable[[], object] | None]]
                ) -> dict[str, float]:
    """Best wall time per case, running the cases round-robin so that a burst of load on the
    shared machine (or the kernel writing back an earlier case's dirty pages) hits all alike.
    Each case is ``(action, before)``; ``before`` runs untimed."""
    best = {label: float("inf") for label in cases}
    for _ in range(repeat):
        for label, (action, before) in cases.items():
            best[label] = min(best[label], best_of(1, action, before))
    return best


def settled(action: Callable[[], object] | None = None, *,
            recycle: tuple[Path, Path] | None = None) -> Callable[[], object]:
    """``action`` (untimed set-up), then flush dirty pages so each large transfer starts from
    the same state instead of paying for the previous one's writeback.

    ``recycle=(source, scratch)`` first copies ``source`` to ``scratch`` and deletes it, so
    that every case starts right after as much page cache as it will write was freed. On
    this virtual machine, writing into memory that has not been touched for a while is up to
    six times slower (the host backs it lazily), and without this step whichever case ran
    right after ``cp`` over an existing file (which frees and reuses its own pages) got such
    memory: the same upload took 0.45 s placed after a download and 2 s placed after cp."""
    def run() -> None:
        if action is not None:
            action()
        if recycle is not None:
            source, scratch = recycle
            shutil.copyfile(source, scratch)
            scratch.unlink()
        os.sync()
    return run


class PeakRss:
    """Samples this process's resident size every millisecond while in use."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.start = 0
        self.peak = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(0.001)

    @contextmanager
    def measure(self) -> Iterator[PeakRss]:
        gc.collect()
        self.start = self.peak = self._process.memory_info().rss
        self._stop.clear()
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        try:
            yield self
        finally:
            self._stop.set()
            sampler.join()
            self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / MiB


def file_store(root: Path) -> Store:
    config = {"external-services": {"bench": {"type": "storage", "provider": "store-file",
                                              "path": str(root)}}}
    store: Store = xtstore.get_storage("bench", config=config)
    return store


def fsspec_fs() -> Any:
    """fsspec's local filesystem, or None if fsspec is not installed."""
    try:
        from fsspec.implementations.local import LocalFileSystem
    except ImportError:
        return None
    return LocalFileSystem()


def us(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:.1f} µs/op"


def ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x"


# ---- the benchmarks ----


def new_folder_per_round(base: Path) -> tuple[Callable[[], str], Callable[[], None]]:
    """``(folder, reset)``: ``reset`` makes a new empty folder under ``base`` for the next
    round (and syncs), ``folder`` names the current one."""
    rounds = [0]

    def folder() -> str:
        return f"{base}/{rounds[0]}/d"

    def reset() -> None:
        rounds[0] += 1
        os.makedirs(folder())
        os.sync()

    return folder, reset


def small_blobs(work: Path, store: Store, count: int, repeat: int) -> list[Row]:
    """Each round writes into a new folder (a new container for the store) and nothing is
    deleted until the end. This disk's ext4 has no journal, and there creating a file right
    after many deletions costs up to a millisecond in the kernel, whoever does it (it skips
    inodes freed in the last minute, one by one), which made these numbers swing 10-fold."""
    data = os.urandom(1024)
    fs = fsspec_fs()
    rounds = {"store": 0}

    def container() -> str:
        return f"small{rounds['store']}"

    def store_reset() -> None:
        rounds["store"] += 1
        store.create_container(container())
        store.create_blob(container(), "d/warm", data)  # the folder exists, as for the others
        os.sync()

    def store_create() -> None:
        name = container()
        for i in range(count):
            store.create_blob(name, f"d/{i:05d}", data)

    def store_read() -> None:
        name = container()
        for i in range(count):
            store.get_blob_bytes(name, f"d/{i:05d}")

    raw_folder, raw_reset = new_folder_per_round(work / "raw-small")

    def raw_create() -> None:
        folder = raw_folder()
        for i in range(count):
            with open(f"{folder}/{i:05d}", "wb") as handle:
                handle.write(data)

    def raw_read() -> None:
        folder = raw_folder()
        for i in range(count):
            with open(f"{folder}/{i:05d}", "rb") as handle:
                handle.read()

    fs_folder, fs_reset = new_folder_per_round(work / "fsspec-small")

    def fs_create() -> None:
        folder = fs_folder()
        for i in range(count):
            fs.pipe_file(f"{folder}/{i:05d}", data)

    fs_atomic_folder, fs_atomic_reset = new_folder_per_round(work / "fsspec-atomic-small")

    def fs_atomic_create() -> None:
        # fsspec's own whole-or-nothing write: a temporary file, moved into place on commit.
        folder = fs_atomic_folder()
        for i in range(count):
            handle = fs.open(f"{folder}/{i:05d}", "wb", autocommit=False)
            handle.write(data)
            handle.close()
            handle.commit()

    def fs_read() -> None:
        folder = fs_folder()
        for i in range(count):
            fs.cat_file(f"{folder}/{i:05d}")

    creates: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
        "ours": (store_create, store_reset), "raw": (raw_create, raw_reset)}
    reads: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
        "ours": (store_read, None), "raw": (raw_read, None)}
    if fs is not None:
        creates["fsspec"] = (fs_create, fs_reset)
        creates["fsspec atomic"] = (fs_atomic_create, fs_atomic_reset)
        reads["fsspec"] = (fs_read, None)
    rows = []
    for label, cases in ((f"{count:,} x 1 KiB create_blob", creates),
                         (f"{count:,} x 1 KiB get_blob_bytes", reads)):
        best = interleaved(repeat, cases)
        ours, raw = best["ours"], best["raw"]
        baselines = f"raw open/write/read {us(raw, count)}"
        extra = ""
        if "fsspec" in best:
            baselines += f"; fsspec {us(best['fsspec'], count)}"
            extra = f" (fsspec {ratio(ours, best['fsspec'])})"
        if "fsspec atomic" in best:
            baselines += f"; fsspec atomic (autocommit=False) {us(best['fsspec atomic'], count)}"
            extra += f" (fsspec atomic {ratio(ours, best['fsspec atomic'])})"
        rows.append(Row(label, us(ours, count), baselines, f"{ratio(ours, raw)} raw{extra}"))
    for name in ("raw-small", "fsspec-small", "fsspec-atomic-small"):
        shutil.rmtree(work / name, ignore_errors=True)
    for number in range(1, rounds["store"] + 1):
        store.delete_container(f"small{number}")
    return rows


def listing(work: Path, store: Store, count: int, repeat: int) -> list[Row]:
    folders = 20
    store.create_container("many")
    for i in range(count):
        store.create_blob("many", f"run{i % folders:02d}/logs/{i:06d}.txt", b"x")
    top = work / "store/many"
    fs = fsspec_fs()

    def raw_names() -> list[str]:
        names: list[str] = []
        for folder, _, files in os.walk(top):
            rel = os.path.relpath(folder, top)
            names.extend(f"{rel}/{name}" for name in files)
        names.sort()
        return names

    def raw_stats() -> list[tuple[str, int, int]]:
        found = []
        stack = [(str(top), "")]
        while stack:
            folder, rel = stack.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, f"{rel}{entry.name}/"))
                    else:
                        st = entry.stat(follow_symlinks=False)
                        found.append((rel + entry.name, st.st_size, st.st_mtime_ns))
        found.sort()
        return found

    def walk_and_stat() -> list[tuple[str, int, int]]:
        found = []
        for folder, _, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                st = os.stat(path)
                found.append((os.path.relpath(path, top), st.st_size, st.st_mtime_ns))
        found.sort()
        return found

    def raw_children() -> list[str]:
        return sorted(entry.name for entry in os.scandir(top))

    cases: list[tuple[str, Callable[[], object], Callable[[], object], Callable[[], object] | None]]
    cases = [
        ("list_blobs recursive, names", lambda: store.list_blobs("many"), raw_names,
         (lambda: fs.find(str(top))) if fs else None),
        ("list_blobs recursive, properties",
         lambda: store.list_blobs("many", return_names=False), raw_stats,
         (lambda: fs.find(str(top), detail=True)) if fs else None),
        ("list_blobs non-recursive (root)", lambda: store.list_blobs("many", recursive=False),
         raw_children, (lambda: fs.ls(str(top))) if fs else None),
    ]
    raw_label: dict[Callable[[], object], str] = {
        raw_names: "os.walk", raw_stats: "scandir + entry.stat", raw_children: "scandir"}
    assert len(store.list_blobs("many")) == count
    rows = []
    for label, ours_action, raw_action, fs_action in cases:
        runs: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
            "ours": (ours_action, None), "raw": (raw_action, None)}
        if fs_action is not None:
            runs["fsspec"] = (fs_action, None)
        if raw_action is raw_stats:
            runs["walk+stat"] = (walk_and_stat, None)
        best = interleaved(repeat, runs)
        ours, raw = best["ours"], best["raw"]
        baselines = f"{raw_label[raw_action]} {raw * 1e3:.1f} ms"
        extra = ""
        if "walk+stat" in best:
            baselines += f"; os.walk + os.stat {best['walk+stat'] * 1e3:.1f} ms"
            extra += f" (os.walk + os.stat {ratio(ours, best['walk+stat'])})"
        if "fsspec" in best:
            baselines += f"; fsspec {best['fsspec'] * 1e3:.1f} ms"
            extra += f" (fsspec {ratio(ours, best['fsspec'])})"
        rows.append(Row(f"{label}, {count:,} blobs", f"{ours * 1e3:.1f} ms", baselines,
                        f"{ratio(ours, raw)} raw{extra}"))
    store.delete_container("many")
    return rows


def make_source(path: Path, size: int) -> None:
    block = os.urandom(MiB)
    with open(path, "wb") as handle:
        for _ in range(size // MiB):
            handle.write(block)


def transfers(work: Path, store: Store, size: int, repeat: int) -> list[Row]:
    source = work / "source.bin"
    make_source(source, size)
    store.create_container("big")
    rss = PeakRss()
    rows = []
    mb = size / 1e6

    def cp_to(dest: Path) -> Callable[[], object]:
        return lambda: subprocess.run(["cp", str(source), str(dest)], check=True)

    def remove(path: Path) -> Callable[[], object]:
        return lambda: path.unlink(missing_ok=True)

    def upload() -> None:
        store.create_blob_from_path("big", "blob.bin", str(source))

    dest = work / "download" / "blob.bin"

    def download() -> None:
        store.get_blob_to_path("big", "blob.bin", str(dest))

    def drop_blob() -> None:
        if store.does_blob_exist("big", "blob.bin"):
            store.delete_blob("big", "blob.bin")

    copy_dest = work / "copy.bin"
    recycle = (source, work / "scratch.bin")
    # Each round: a new file, then the same again over it (the dest/blob now exists), so
    # both cases of a write are measured: replacing a big file costs freeing the old one.
    fs = fsspec_fs()
    cases: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
        "cp": (cp_to(copy_dest), settled(remove(copy_dest), recycle=recycle)),
        "cp over": (cp_to(copy_dest), settled(recycle=recycle)),
        "shutil": (lambda: shutil.copyfile(source, copy_dest),
                   settled(remove(copy_dest), recycle=recycle)),
        "upload": (upload, settled(drop_blob, recycle=recycle)),
        "upload over": (upload, settled(recycle=recycle)),
        "download": (download, settled(remove(dest), recycle=recycle)),
        "download over": (download, settled(recycle=recycle)),
    }
    if fs is not None:
        cases["fsspec"] = (lambda: fs.put_file(str(source), str(copy_dest)),
                           settled(remove(copy_dest), recycle=recycle))
    best = interleaved(repeat, cases)
    # Memory is measured in runs of their own: the sampling thread and its gc.collect() took
    # several ms, a third of a 64 MiB transfer, when they ran inside the timed ones.
    drop_blob()
    with rss.measure():
        upload()
    up_growth = rss.growth_mib
    dest.unlink(missing_ok=True)
    with rss.measure():
        download()
    down_growth = rss.growth_mib
    cp_time, cp_over, shutil_time = best["cp"], best["cp over"], best["shutil"]
    baselines = f"cp {mb / cp_time:.0f} MB/s; shutil.copyfile {mb / shutil_time:.0f} MB/s"
    fs_note = ""
    if "fsspec" in best:
        baselines += f"; fsspec put_file {mb / best['fsspec']:.0f} MB/s"
        fs_note = f"; {best['fsspec'] / best['upload']:.2f}x fsspec speed"
    rows.append(Row(
        f"upload {size // MiB} MiB, new blob (create_blob_from_path)",
        f"{mb / best['upload']:.0f} MB/s, peak RSS +{up_growth:.1f} MiB", baselines,
        f"{cp_time / best['upload']:.2f}x cp speed{fs_note}",
    ))
    rows.append(Row(
        f"upload {size // MiB} MiB, replacing a blob of that size",
        f"{mb / best['upload over']:.0f} MB/s",
        f"cp over an existing file {mb / cp_over:.0f} MB/s",
        f"{cp_over / best['upload over']:.2f}x cp speed",
    ))
    if "fsspec" in best:
        fs_note = f"; {best['fsspec'] / best['download']:.2f}x fsspec speed"
    rows.append(Row(
        f"download {size // MiB} MiB (get_blob_to_path)",
        f"{mb / best['download']:.0f} MB/s, peak RSS +{down_growth:.1f} MiB", baselines,
        f"{cp_time / best['download']:.2f}x cp speed{fs_note}",
    ))
    rows.append(Row(
        f"download {size // MiB} MiB over an existing file",
        f"{mb / best['download over']:.0f} MB/s",
        f"cp over an existing file {mb / cp_over:.0f} MB/s",
        f"{cp_over / best['download over']:.2f}x cp speed",
    ))
    store.delete_container("big")
    source.unlink()
    dest.unlink(missing_ok=True)
    copy_dest.unlink(missing_ok=True)
    return rows


def interleaved_cpu(repeat: int, cases: dict[str, tuple[Callable[[], object],
                                                         Callable[[], object] | None]]
                    ) -> dict[str, tuple[float, float]]:
    """:func:`interleaved`, keeping for each case its best wall time and its best CPU time
    (``time.process_time``: on this shared machine CPU time is what others' load disturbs
    least)."""
    best = {label: (float("inf"), float("inf")) for label in cases}
    for _ in range(repeat):
        for label, (action, before) in cases.items():
            if before is not None:
                before()
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            action()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[label] = (min(best[label][0], wall), min(best[label][1], cpu))
    return best


def small_op_rows(label: str, best: dict[str, tuple[float, float]], count: int,
                  baselines: list[str]) -> list[Row]:
    """One row for the store and one for its provider alone (no Store layers), each with its
    ratios to every baseline, in CPU time (wall time in brackets)."""
    def per_op(label: str) -> str:
        wall, cpu = best[label]
        return f"{cpu / count * 1e6:.1f} µs CPU ({wall / count * 1e6:.1f} wall)"

    listed = "; ".join(f"{name} {per_op(name)}" for name in baselines)
    rows = []
    for ours, name in (("store", "through the Store"), ("provider", "provider alone")):
        ratios = " ".join(f"{best[ours][1] / best[b][1]:.2f}x {b}" for b in baselines)
        rows.append(Row(f"{label}, {name}", per_op(ours), listed, ratios))
    return rows


def existence_checks(work: Path, store: Store, count: int, repeat: int) -> list[Row]:
    """``does_blob_exist`` of blobs that exist and of blobs that do not, against fsspec's
    ``isfile`` (what answers the same question: a folder is not a blob) and ``exists``, and
    ``os.path.isfile`` (which follows symlinks anywhere: the floor, not an equal)."""
    store.create_container("exists")
    for i in range(count):
        store.create_blob("exists", f"d/{i:05d}", b"x")
    provider = store.provider
    top = f"{work}/store/exists"
    fs = fsspec_fs()
    def cases_for(names: list[str]) -> dict[str, tuple[Callable[[], object],
                                                       Callable[[], object] | None]]:
        paths = [f"{top}/{name}" for name in names]
        cases: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
            "store": (lambda: [store.does_blob_exist("exists", n) for n in names], None),
            "provider": (lambda: [provider.does_blob_exist("exists", n) for n in names],
                         None),
            "os.path.isfile": (lambda: [os.path.isfile(p) for p in paths], None),
        }
        if fs is not None:
            cases["fsspec isfile"] = (lambda: [fs.isfile(p) for p in paths], None)
            cases["fsspec exists"] = (lambda: [fs.exists(p) for p in paths], None)
        return cases

    rows = []
    for label, prefix in (("does_blob_exist, blob there", ""), ("does_blob_exist, missing",
                                                                 "missing-")):
        cases = cases_for([f"d/{prefix}{i:05d}" for i in range(count)])
        best = interleaved_cpu(repeat, cases)
        rows += small_op_rows(f"{count:,} x {label}", best, count,
                              [name for name in cases if name not in ("store", "provider")])
    store.delete_container("exists")
    return rows


def new_folder_creates(work: Path, store: Store, count: int, repeat: int) -> list[Row]:
    """``create_blob`` of 1 KiB blobs each in a folder of its own that does not exist yet,
    against fsspec's ``pipe_file`` with ``auto_mkdir`` and the standard library's
    ``os.makedirs`` + ``open``/``write``. Each round writes under a new top folder (see
    :func:`small_blobs` for why nothing is deleted between rounds)."""
    data = os.urandom(1024)
    provider = store.provider
    rounds = [0]
    store.create_container("folders")

    def next_round() -> None:
        rounds[0] += 1
        os.sync()

    def ours(target: Any) -> Callable[[], object]:
        def run() -> None:
            top = f"r{rounds[0]}"
            for i in range(count):
                target.create_blob("folders", f"{top}/{i:05d}/blob", data)
        return run

    def raw() -> None:
        top = f"{work}/raw-folders/r{rounds[0]}"
        for i in range(count):
            folder = f"{top}/{i:05d}"
            os.makedirs(folder, exist_ok=True)
            with open(f"{folder}/blob", "wb") as handle:
                handle.write(data)

    cases: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
        "store": (ours(store), next_round), "provider": (ours(provider), next_round),
        "os.makedirs + open": (raw, next_round)}
    try:
        from fsspec.implementations.local import LocalFileSystem
    except ImportError:
        pass
    else:
        fs = LocalFileSystem(auto_mkdir=True)

        def fs_create() -> None:
            top = f"{work}/fsspec-folders/r{rounds[0]}"
            for i in range(count):
                fs.pipe_file(f"{top}/{i:05d}/blob", data)

        cases["fsspec (auto_mkdir)"] = (fs_create, next_round)
    best = interleaved_cpu(repeat, cases)
    for name in ("raw-folders", "fsspec-folders"):
        shutil.rmtree(work / name, ignore_errors=True)
    store.delete_container("folders")
    return small_op_rows(f"{count:,} x 1 KiB create_blob, each in a new folder", best, count,
                         [name for name in cases if name not in ("store", "provider")])


def appends(work: Path, store: Store, count: int, repeat: int) -> list[Row]:
    line = b"step 000123: loss=0.123456 accuracy=0.987654 lr=0.000300 elapsed=12.3s\n"
    raw_file = work / "raw.log"
    store.create_container("logs")
    provider = store.provider

    def ours(target: Any, blob: str, rewrite: bool = False) -> Callable[[], object]:
        def run() -> None:
            for _ in range(count):
                target.append_blob("logs", blob, line, append_with_rewrite=rewrite)
        return run

    def reset(blob: str) -> Callable[[], object]:
        def run() -> None:
            if store.does_blob_exist("logs", blob):
                store.delete_blob("logs", blob)
        return run

    def raw() -> None:
        for _ in range(count):
            with open(raw_file, "ab") as handle:
                handle.write(line)

    fs = fsspec_fs()
    fs_file = work / "fsspec.log"

    def fs_append() -> None:
        for _ in range(count):
            with fs.open(str(fs_file), "ab") as handle:
                handle.write(line)

    cases: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
        "store": (ours(store, "train.log"), reset("train.log")),
        "provider": (ours(provider, "alone.log"), reset("alone.log")),
        "raw open('ab')": (raw, lambda: raw_file.unlink(missing_ok=True)),
    }
    if fs is not None:
        cases["fsspec open('ab')"] = (fs_append, lambda: fs_file.unlink(missing_ok=True))
    best = interleaved_cpu(repeat, cases)
    for blob in ("train.log", "alone.log"):
        assert len(store.get_blob_bytes("logs", blob)) == count * len(line)
    rows = small_op_rows(f"{count:,} x {len(line)} B append_blob", best, count,
                         [name for name in cases if name not in ("store", "provider")])
    took = best_of(repeat, ours(store, "train.log", rewrite=True), reset("train.log"))
    raw_time = best["raw open('ab')"][0]
    rows.append(Row(f"{count:,} x {len(line)} B append_blob(append_with_rewrite=True)",
                    us(took, count), f"raw open('ab').write {us(raw_time, count)}",
                    f"{ratio(took, raw_time)} raw (copies the blob by design)"))
    raw_file.unlink(missing_ok=True)
    fs_file.unlink(missing_ok=True)
    store.delete_container("logs")
    return rows


def append_after_share(folder: Path, store: Store, size: int, repeat: int,
                       where: str) -> list[Row]:
    """An append to a blob that shares its file with a snapshot (or a copy): a new file with
    the blob's content and the text, a reflink where the file system has them (``where``
    says which file system), else a copy; against ``shutil.copyfile`` of the same size there,
    the copy a tool without snapshots would make."""
    source = folder / "shared-source.bin"
    make_source(source, size)
    store.create_container("shared")
    store.create_blob_from_path("shared", "model.bin", str(source))
    copy_dest = folder / "shared-copy.bin"
    shutil_time = best_of(repeat, lambda: shutil.copyfile(source, copy_dest),
                          settled(lambda: copy_dest.unlink(missing_ok=True)))
    took = best_of(repeat, lambda: store.append_blob("shared", "model.bin", b"line\n"),
                   settled(lambda: store.snapshot_blob("shared", "model.bin")))
    in_place = best_of(repeat, lambda: store.append_blob("shared", "model.bin", b"line\n"))
    store.delete_container("shared")
    source.unlink()
    copy_dest.unlink(missing_ok=True)
    return [Row(f"append_blob after snapshot_blob, {size // MiB} MiB, {where}",
                f"{took * 1e3:.2f} ms", f"shutil.copyfile {shutil_time * 1e3:.1f} ms; the next "
                f"append (in place) {in_place * 1e3:.2f} ms",
                f"{ratio(took, shutil_time)} shutil.copyfile")]


def file_system_of(path: Path) -> str:
    """The type of the file system holding ``path`` (from /proc/mounts)."""
    best, kind = "", "unknown"
    real = os.path.realpath(path)
    with open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            _, point, fs_type = line.split()[:3]
            if (real == point or real.startswith(point.rstrip("/") + "/")) and len(
                    point) > len(best):
                best, kind = point, fs_type
    return kind


def copies(work: Path, store: Store, size: int, repeat: int) -> list[Row]:
    source = work / "copy-source.bin"
    make_source(source, size)
    store.create_container("copies")
    store.create_blob_from_path("copies", "model.bin", str(source))
    copy_dest = work / "copied.bin"
    shutil_time = best_of(repeat, lambda: shutil.copyfile(source, copy_dest),
                          lambda: copy_dest.unlink(missing_ok=True))
    baseline = f"shutil.copyfile {shutil_time * 1e3:.0f} ms"
    fs = fsspec_fs()
    if fs is not None:
        fs_time = best_of(repeat, lambda: fs.copy(str(source), str(copy_dest)),
                          lambda: copy_dest.unlink(missing_ok=True))
        baseline += f"; fsspec copy {fs_time * 1e3:.0f} ms"
    copy_time = best_of(repeat, lambda: store.copy_blob("copies", "model.bin", "copies",
                                                        "backup/model.bin"))
    snap_time = best_of(repeat, lambda: store.snapshot_blob("copies", "model.bin"))
    rows = [
        Row(f"copy_blob {size // MiB} MiB", f"{copy_time * 1e3:.2f} ms", baseline,
            f"{ratio(copy_time, shutil_time)} shutil.copyfile"),
        Row(f"snapshot_blob {size // MiB} MiB", f"{snap_time * 1e3:.2f} ms", baseline,
            f"{ratio(snap_time, shutil_time)} shutil.copyfile"),
    ]
    store.delete_container("copies")
    source.unlink()
    copy_dest.unlink(missing_ok=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few seconds)")
    parser.add_argument("--dir", default=tempfile.gettempdir(),
                        help="where to make the temporary work folder (same disk as the store)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement")
    parser.add_argument("--reflink-dir", default=None,
                        help="also measure the append after a snapshot in a folder there "
                             "(e.g. on XFS with reflink=1 or btrfs)")
    parser.add_argument("--only", default=None,
                        help="comma-separated parts to run: small, listing, transfers, "
                             "exists, folders, appends, shared, copies (default: all)")
    args = parser.parse_args(argv)
    quick = args.quick
    repeat = args.repeat or (2 if quick else 3)
    small = 500 if quick else 2000
    listed = 2000 if quick else 20000
    big = (64 if quick else 1024) * MiB
    model = (64 if quick else 256) * MiB
    appended = 1000 if quick else 5000

    parts = set((args.only or "small,listing,transfers,exists,folders,appends,shared,copies"
                 ).split(","))
    work = Path(tempfile.mkdtemp(prefix="xtstore-bench-", dir=args.dir))
    rows: list[Row] = []
    loads = [os.getloadavg()[0]]
    try:
        store = file_store(work / "store")
        if "small" in parts:
            rows += small_blobs(work, store, small, repeat)
        if "listing" in parts:
            rows += listing(work, store, listed, repeat)
        if "transfers" in parts:
            rows += transfers(work, store, big, repeat)
        if "exists" in parts:
            rows += existence_checks(work, store, small, repeat)
        if "folders" in parts:
            rows += new_folder_creates(work, store, small, repeat)
        if "appends" in parts:
            rows += appends(work, store, appended, repeat)
        if "shared" in parts:
            rows += append_after_share(work, store, model, repeat, file_system_of(work))
            if args.reflink_dir:
                elsewhere = Path(tempfile.mkdtemp(prefix="xtstore-bench-",
                                                  dir=args.reflink_dir))
                try:
                    rows += append_after_share(elsewhere, file_store(elsewhere / "store"),
                                               model, repeat, file_system_of(elsewhere))
                finally:
                    shutil.rmtree(elsewhere, ignore_errors=True)
        if "copies" in parts:
            rows += copies(work, store, model, repeat)
        loads.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"store-file benchmark ({'quick' if quick else 'full'}, best of {repeat}), "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, 1-minute load "
          f"{loads[0]:.2f} at the start, {loads[-1]:.2f} at the end")
    print()
    print("| operation | store-file | baseline(s) | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row.operation} | {row.store} | {row.baselines} | {row.ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
