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


def appends(work: Path, store: Store, count: int, repeat: int) -> list[Row]:
    line = b"step 000123: loss=0.123456 accuracy=0.987654 lr=0.000300 elapsed=12.3s\n"
    raw_file = work / "raw.log"
    store.create_container("logs")

    def ours(rewrite: bool) -> Callable[[], object]:
        def run() -> None:
            for _ in range(count):
                store.append_blob("logs", "train.log", line, append_with_rewrite=rewrite)
        return run

    def reset() -> None:
        if store.does_blob_exist("logs", "train.log"):
            store.delete_blob("logs", "train.log")

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

    raw_time = best_of(repeat, raw, lambda: raw_file.unlink(missing_ok=True))
    baseline = f"raw open('ab').write {us(raw_time, count)}"
    fs_time = None
    if fs is not None:
        fs_time = best_of(repeat, fs_append, lambda: fs_file.unlink(missing_ok=True))
        baseline += f"; fsspec open('ab') {us(fs_time, count)}"
    rows = []
    for label, rewrite in (("append_blob", False), ("append_blob(append_with_rewrite=True)", True)):
        took = best_of(repeat, ours(rewrite), reset)
        assert len(store.get_blob_bytes("logs", "train.log")) == count * len(line)
        fs_note = f" (fsspec {ratio(took, fs_time)})" if fs_time else ""
        rows.append(Row(f"{count:,} x {len(line)} B {label}", us(took, count), baseline,
                        f"{ratio(took, raw_time)} raw{fs_note}"))
    raw_file.unlink(missing_ok=True)
    fs_file.unlink(missing_ok=True)
    store.delete_container("logs")
    return rows


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
    args = parser.parse_args(argv)
    quick = args.quick
    repeat = args.repeat or (2 if quick else 3)
    small = 500 if quick else 2000
    listed = 2000 if quick else 20000
    big = (64 if quick else 1024) * MiB
    model = (64 if quick else 256) * MiB
    appended = 1000 if quick else 5000

    work = Path(tempfile.mkdtemp(prefix="xtstore-bench-", dir=args.dir))
    rows: list[Row] = []
    try:
        store = file_store(work / "store")
        rows += small_blobs(work, store, small, repeat)
        rows += listing(work, store, listed, repeat)
        rows += transfers(work, store, big, repeat)
        rows += appends(work, store, appended, repeat)
        rows += copies(work, store, model, repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"store-file benchmark ({'quick' if quick else 'full'}, best of {repeat}), "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print()
    print("| operation | store-file | baseline(s) | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row.operation} | {row.store} | {row.baselines} | {row.ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
