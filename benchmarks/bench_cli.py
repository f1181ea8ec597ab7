"""Benchmark: the ``xtstore`` command line against ``cp -r`` and ``rclone`` on the same disk.

Two sections, each the real console script in a subprocess (so interpreter start-up is
included) against a ``store-file`` service in a temporary folder, with every baseline run in
the same run, rounds interleaved, ``sync`` (the system call) before each timed command and the
1-minute load average (``os.getloadavg``) recorded beside every figure:

* ``transfers``: ``xtstore upload`` / ``download`` against ``cp -r``, for 2,000 files of 4 KiB
  and 20 files of 50 MiB (best of ``--repeat``; target within 1.5x of ``cp -r``).
* ``rclone``: a run folder of 200 files (366 MiB: four checkpoints, event files, many small
  logs and metrics; seeded random content) and 2,000 files of 4 KiB, against ``rclone``
  (plain local paths, a throwaway config file) and ``cp -r``: (a) a first copy local ->
  store-file (``xtstore upload``, ``xtstore sync``, ``rclone copy`` with and without
  ``--ignore-checksum``, ``cp -r``); (b) a no-change re-sync local -> store-file (``xtstore
  sync`` against ``rclone sync`` and ``rclone copy``); (c) both again store-file -> local
  (``rclone`` and ``cp -r`` read the store's container folder, which holds the blobs as plain
  files). Medians of ``--repeat`` rounds; each ratio is the median of the per-round ratios.
  Targets: a no-change re-sync within 2x of rclone's time; a first copy of the run folder at
  least as fast as ``rclone copy`` with its defaults. Every ``xtstore sync`` is checked to
  have copied everything (first copy) or nothing (re-sync) by its ``--json`` summary.
* ``startup``: ``python -c pass`` (the baseline), ``xtstore --version``, ``--help`` and ``ls``
  of a small store-file container (20 blobs; the default service with no config file, and
  again with ``--config``), ``rclone version`` and ``rclone lsf`` of the container's folder:
  wall and client CPU, medians of 7 x ``--repeat`` interleaved rounds, each as the median
  of its per-round ratios to ``python -c pass``. Targets: ``--version`` within 4x, ``ls``
  within 6x, in wall time and CPU. Run it with each interpreter of interest (a venv's
  ``python benchmarks/bench_cli.py --section startup`` times that venv's ``xtstore``).

xtstore runs from bytecode compiled before any timing, as an installed copy does (see
:func:`compiled_env`).

    python benchmarks/bench_cli.py                      # both sections, full size
    python benchmarks/bench_cli.py --section rclone     # only the rclone section
    python benchmarks/bench_cli.py --tiny               # seconds-sized (or XTSTORE_BENCH_TINY=1)
    python benchmarks/bench_cli.py [--repeat 3] [--workers 8] [--keep DIR]

Exit status 1 when a target is missed at full size (never in ``--tiny`` mode, whose figures
are start-up alone).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

TARGET = 1.5
RESYNC_TARGET = 2.0
FIRST_COPY_TARGET = 1.0
SEED = 20261201
MIB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    """Every size the benchmark uses: the full one, or the tiny one of ``--tiny``."""

    small_files: int
    small_size: int
    large_files: int
    large_size: int
    run_checkpoints: int
    run_checkpoint_size: int
    run_events: int
    run_event_size: int
    run_small_files: int
    run_total: int

    @property
    def run_files(self) -> int:
        return self.run_checkpoints + self.run_events + self.run_small_files


FULL = Sizes(small_files=2000, small_size=4 * 1024, large_files=20, large_size=50 * MIB,
             run_checkpoints=4, run_checkpoint_size=80 * MIB, run_events=4,
             run_event_size=6 * MIB, run_small_files=192, run_total=366 * MIB)
TINY = Sizes(small_files=50, small_size=4 * 1024, large_files=2, large_size=MIB,
             run_checkpoints=2, run_checkpoint_size=640 * 1024, run_events=2,
             run_event_size=64 * 1024, run_small_files=16, run_total=2 * MIB)


def xtstore_command() -> list[str]:
    script = Path(sys.executable).with_name("xtstore")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xtstore"]


def compiled_env(env: dict[str, str], pycache: Path) -> dict[str, str]:
    """``env`` for commands that load xtstore as an installed copy would: from bytecode.

    An installed package has its ``.pyc`` files (pip compiles them); a source tree run with
    PYTHONDONTWRITEBYTECODE=1 compiles every module at every start, some 100 ms here. So the
    bytecode is written once, before any timing, under ``pycache`` (not into the tree)."""
    env = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    import xtstore

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(xtstore.__file__).parent)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def write_random(path: Path, size: int, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        left = size
        while left:
            chunk = min(left, 8 * MIB)
            out.write(rng.randbytes(chunk))
            left -= chunk


def make_small(folder: Path, sizes: Sizes) -> None:
    rng = random.Random(SEED)
    for index in range(sizes.small_files):
        write_random(folder / f"d{index % 20:02}" / f"f{index:04}.txt", sizes.small_size, rng)


def make_large(folder: Path, sizes: Sizes) -> None:
    folder.mkdir(parents=True)
    block = os.urandom(MIB)
    for index in range(sizes.large_files):
        with open(folder / f"part{index:02}.bin", "wb") as out:
            for _ in range(sizes.large_size // len(block)):
                out.write(block)


def make_run_folder(folder: Path, sizes: Sizes) -> None:
    """A training run's folder: a few big checkpoints, some event files, and many small logs
    and metrics (a log-normal spread, 1.5 KiB to 1 MiB at full size), ``sizes.run_total`` bytes in
    ``sizes.run_files`` files, the same bytes every run (seeded)."""
    rng = random.Random(SEED)
    files: list[tuple[str, int]] = []
    files += [(f"checkpoints/epoch{index + 1:02}.pt", sizes.run_checkpoint_size)
              for index in range(sizes.run_checkpoints)]
    files += [(f"events/events.out.tfevents.{1764633600 + index}.node0", sizes.run_event_size)
              for index in range(sizes.run_events)]
    small_budget = sizes.run_total - sum(size for _, size in files)
    names = ["config.yaml", "args.json"]
    names += [f"metrics/{kind}-{index:03}.csv" for kind in ("train", "eval")
              for index in range((sizes.run_small_files - 2) * 3 // 8)]
    names += [f"logs/rank{index % 4}/step{index:04}.log"
              for index in range(sizes.run_small_files - len(names))]
    weights = [rng.lognormvariate(0, 1.2) for _ in names]
    scale = small_budget / sum(weights)
    small = [max(1024, int(weight * scale)) for weight in weights]
    small[-1] += small_budget - sum(small)
    files += list(zip(names, small, strict=True))
    assert len(files) == sizes.run_files and sum(size for _, size in files) == sizes.run_total
    for name, size in files:
        write_random(folder / name, size, rng)


def timed(action: Callable[[], None], reset: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        reset()
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)


def measure(source: Path, base: Path, xt: list[str], env: dict[str, str], workers: list[str],
            repeat: int) -> tuple[float, float, float]:
    """Best times of ``cp -r``, ``xtstore upload`` and ``xtstore download`` of ``source``.

    Every round writes to new destinations (a new container, new local folders) and nothing
    is deleted until all rounds are done. This disk's ext4 has no journal, and there creating
    a file soon after many deletions costs up to a millisecond in the kernel, whoever does it
    (inodes freed in the last minute are skipped one by one): deleting the previous round's
    2,000 files right before the next one made the timings depend on inode placement."""
    outputs = base / "outputs"
    outputs.mkdir()
    run([*xt, "containers", "create", "bench"], env)
    run([*xt, "upload", str(source), "bench/download-source"], env)

    def cp_case(number: int) -> None:
        run(["cp", "-r", str(source), str(outputs / f"cp-{number}")], env)

    def upload_case(number: int) -> None:
        run([*xt, "upload", *workers, str(source), f"bench/up-{number}"], env)

    def download_case(number: int) -> None:
        run([*xt, "download", *workers, "bench/download-source",
             str(outputs / f"down-{number}")], env)

    # Interleaved rounds, so that a burst of load from elsewhere hits all three alike.
    best = [float("inf")] * 3
    for number in range(repeat):
        times = [timed(partial(case, number), os.sync, 1)
                 for case in (cp_case, upload_case, download_case)]
        best = [min(old, new) for old, new in zip(best, times, strict=True)]
    shutil.rmtree(outputs, ignore_errors=True)
    subprocess.run([*xt, "rm", "-r", "--yes", "bench"], env=env, capture_output=True,
                   check=False)
    return best[0], best[1], best[2]


def transfers_section(base: Path, xt: list[str], env: dict[str, str], workers: list[str],
                      repeat: int, sizes: Sizes) -> bool:
    """The ``upload`` / ``download`` against ``cp -r`` table; True if within the target."""
    rows = []
    for label, maker in ((f"{sizes.small_files} x {sizes.small_size // 1024} KiB", make_small),
                         (f"{sizes.large_files} x {sizes.large_size // MIB} MiB", make_large)):
        source = base / "source"
        maker(source, sizes)
        rows.append((label, *measure(source, base, xt, env, workers, repeat)))
        shutil.rmtree(source)
    startup = timed(lambda: run([*xt, "--version"], env), lambda: None, 5)

    print("| folder | `cp -r` | `xtstore upload` | ratio | `xtstore download` | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    worst = 0.0
    for label, cp_time, up_time, down_time in rows:
        up_ratio, down_ratio = up_time / cp_time, down_time / cp_time
        worst = max(worst, up_ratio, down_ratio)
        print(f"| {label} | {cp_time:.2f} s | {up_time:.2f} s | {up_ratio:.2f}x | "
              f"{down_time:.2f} s | {down_ratio:.2f}x |")
    print(f"\nbest of {repeat} interleaved rounds; worst ratio {worst:.2f}x "
          f"(target {TARGET}x); start-up alone (`xtstore --version`, best of 5): {startup:.2f} s; "
          f"load (1 min) {os.getloadavg()[0]:.1f}\n")
    return worst <= TARGET


# --- the rclone section -----------------------------------------------------------------


@dataclass
class Case:
    """One command of a table: ``argv(round)`` is what runs; ``check(stdout)`` raises if the
    command did not do what the row claims (an ``xtstore sync`` that copied the wrong count)."""

    label: str
    argv: Callable[[int], list[str]]
    check: Callable[[str], None] | None = None
    times: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)


def run_rounds(cases: Sequence[Case], env: dict[str, str], cwd: Path, rounds: int) -> None:
    """Every case once per round, in turn, so a burst of load from elsewhere hits all alike."""
    for number in range(rounds):
        for case in cases:
            argv = case.argv(number)
            os.sync()
            load = os.getloadavg()[0]
            started = time.perf_counter()
            done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                                  check=False)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr}")
            if case.check is not None:
                case.check(done.stdout)
            case.times.append(elapsed)
            case.loads.append(load)


def expect_sync(copied: int, skipped: int) -> Callable[[str], None]:
    def check(stdout: str) -> None:
        summary = json.loads(stdout)
        if (summary["copied"], summary["skipped"]) != (copied, skipped) or summary["failed"]:
            raise SystemExit(f"xtstore sync: expected {copied} copied and {skipped} skipped, "
                             f"got {summary}")

    return check


def ratio(case: Case, baseline: Case) -> float:
    return statistics.median(mine / theirs
                             for mine, theirs in zip(case.times, baseline.times, strict=True))


def print_table(title: str, folder: str, cases: Sequence[Case], baselines: Sequence[Case]
                ) -> None:
    print(f"**{title}**, {folder}:\n")
    heads = "".join(f" vs {baseline.label} |" for baseline in baselines)
    print(f"| command | median | min-max | load (1 min) |{heads}")
    print("|---|---:|---:|---:|" + "---:|" * len(baselines))
    for case in cases:
        cells = "".join(" - |" if case is baseline else f" {ratio(case, baseline):.2f}x |"
                        for baseline in baselines)
        print(f"| {case.label} | {statistics.median(case.times):.3f} s | "
              f"{min(case.times):.3f}-{max(case.times):.3f} s | "
              f"{min(case.loads):.1f}-{max(case.loads):.1f} |{cells}")
    print()


@dataclass
class Verdict:
    """A target's outcome, for the closing lines."""

    text: str
    value: float
    limit: float

    @property
    def met(self) -> bool:
        return self.value <= self.limit


@dataclass(frozen=True)
class Bench:
    """What every table of the rclone section runs with."""

    base: Path
    xt: list[str]
    xsync: list[str]
    rclone: list[str]
    workers: list[str]
    env: dict[str, str]
    repeat: int

    @property
    def out(self) -> Path:
        return self.base / "out"

    @property
    def container(self) -> Path:
        return self.base / "store" / "bench"

    def first_sync(self, source: str, dest: str, count: int) -> None:
        done = subprocess.run([*self.xsync, source, dest], env=self.env, cwd=self.base,
                              capture_output=True, text=True, check=True)
        expect_sync(count, 0)(done.stdout)

    def rounds(self, cases: Sequence[Case]) -> None:
        run_rounds(cases, self.env, self.base, self.repeat)


def folder_tables(bench: Bench, name: str, key: str, source: Path, count: int
                  ) -> list[Verdict]:
    """Tables (a) to (c) for one source folder, printed; the verdicts of the targets."""
    xt, xsync, rc, workers, out = bench.xt, bench.xsync, bench.rclone, bench.workers, bench.out
    verdicts: list[Verdict] = []

    # (a) first copy, local -> store-file: new destinations every round.
    first = [
        Case("`xtstore upload`", lambda n: [*xt, "upload", *workers, str(source),
                                            f"bench/a-up-{key}-{n}"]),
        Case("`xtstore sync`", lambda n: [*xsync, str(source), f"bench/a-sync-{key}-{n}"],
             expect_sync(count, 0)),
        Case("`rclone copy`", lambda n: [*rc, "copy", str(source), str(out / f"a-rc-{key}-{n}")]),
        Case("`rclone copy --ignore-checksum`",
             lambda n: [*rc, "copy", "--ignore-checksum", str(source),
                        str(out / f"a-rcnosum-{key}-{n}")]),
        Case("`cp -r`", lambda n: ["cp", "-r", str(source), str(out / f"a-cp-{key}-{n}")]),
    ]
    bench.rounds(first)
    print_table("(a) first copy, local -> store-file", name, first, [first[2], first[4]])
    if key == "run":
        verdicts += [Verdict(f"first copy up, {name}: {case.label} / `rclone copy`",
                             ratio(case, first[2]), FIRST_COPY_TARGET) for case in first[:2]]

    # (b) no-change re-sync, local -> store-file: the same destinations every round.
    synced, mirrored = f"bench/b-{key}", str(out / f"b-rc-{key}")
    bench.first_sync(str(source), synced, count)
    subprocess.run([*rc, "copy", str(source), mirrored], env=bench.env, check=True)
    again = [
        Case("`xtstore sync`", lambda n: [*xsync, str(source), synced], expect_sync(0, count)),
        Case("`rclone sync`", lambda n: [*rc, "sync", str(source), mirrored]),
        Case("`rclone copy`", lambda n: [*rc, "copy", str(source), mirrored]),
    ]
    bench.rounds(again)
    print_table("(b) no-change re-sync, local -> store-file", name, again, again[1:])
    verdicts += [Verdict(f"no-change re-sync up, {name}: `xtstore sync` / {baseline.label}",
                         ratio(again[0], baseline), RESYNC_TARGET) for baseline in again[1:]]

    # (c) the same, store-file -> local; rclone and cp read the container's folder, where
    # store-file keeps the blobs as plain files.
    blobs = str(bench.container / f"b-{key}")
    down = [
        Case("`xtstore download`", lambda n: [*xt, "download", *workers, synced,
                                              str(out / f"c-dl-{key}-{n}")]),
        Case("`xtstore sync`", lambda n: [*xsync, synced, str(out / f"c-sync-{key}-{n}")],
             expect_sync(count, 0)),
        Case("`rclone copy`", lambda n: [*rc, "copy", blobs, str(out / f"c-rc-{key}-{n}")]),
        Case("`cp -r`", lambda n: ["cp", "-r", blobs, str(out / f"c-cp-{key}-{n}")]),
    ]
    bench.rounds(down)
    print_table("(c) first copy, store-file -> local", name, down, [down[2], down[3]])
    if key == "run":
        verdicts += [Verdict(f"first copy down, {name}: {case.label} / `rclone copy`",
                             ratio(case, down[2]), FIRST_COPY_TARGET) for case in down[:2]]

    local, local_mirror = str(out / f"c-resync-{key}"), str(out / f"c-rc-resync-{key}")
    bench.first_sync(synced, local, count)
    subprocess.run([*rc, "copy", blobs, local_mirror], env=bench.env, check=True)
    down_again = [
        Case("`xtstore sync`", lambda n: [*xsync, synced, local], expect_sync(0, count)),
        Case("`rclone sync`", lambda n: [*rc, "sync", blobs, local_mirror]),
        Case("`rclone copy`", lambda n: [*rc, "copy", blobs, local_mirror]),
    ]
    bench.rounds(down_again)
    print_table("(c) no-change re-sync, store-file -> local", name, down_again,
                down_again[1:])
    verdicts += [Verdict(f"no-change re-sync down, {name}: `xtstore sync` / {baseline.label}",
                         ratio(down_again[0], baseline), RESYNC_TARGET)
                 for baseline in down_again[1:]]
    return verdicts


def rclone_section(base: Path, xt: list[str], env: dict[str, str], workers: list[str],
                   repeat: int, sizes: Sizes) -> list[Verdict]:
    rclone_config = base / "rclone.conf"
    rclone_config.write_text("", encoding="utf-8")
    bench = Bench(base=base, xt=xt, xsync=[*xt[:-1], "--json", "sync", *workers],
                  rclone=["rclone", "--config", str(rclone_config), "-q"], workers=workers,
                  env=env, repeat=repeat)
    bench.out.mkdir()
    subprocess.run([*xt, "containers", "create", "--exist-ok", "bench"], env=env, check=True)
    verdicts: list[Verdict] = []
    run_label = f"run folder ({sizes.run_files} files, {sizes.run_total // MIB} MiB)"
    source = base / "src" / "run"
    make_run_folder(source, sizes)
    verdicts += folder_tables(bench, run_label, "run", source, sizes.run_files)
    # The run folder's copies go now (a few hundred inodes); the small files' stay to the
    # end, for the freed-inode reason given in measure().
    for path in (*bench.out.glob("*-run*"), *bench.container.glob("*-run*")):
        shutil.rmtree(path)
    small_label = f"small files ({sizes.small_files} x {sizes.small_size // 1024} KiB)"
    source = base / "src" / "small"
    make_small(source, sizes)
    verdicts += folder_tables(bench, small_label, "small", source, sizes.small_files)
    return verdicts


# --- the startup section ----------------------------------------------------------------

STARTUP_TARGETS = {"xtstore --version": 4.0, "xtstore ls": 6.0}
"""Each target as a ratio to ``python -c pass`` on the same interpreter (issue 2.6)."""


@dataclass
class Probe:
    """One start-up command: its wall and client CPU (user + system of the child) per round,
    and the number of lines it must print (a check that it listed the container)."""

    label: str
    argv: list[str]
    env: dict[str, str]
    lines: int | None = None
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def run(self, cwd: Path) -> None:
        import resource  # Unix only, like the rest of this benchmark; here alone

        load = os.getloadavg()[0]
        # The child's CPU: what this process's reaped children gained (microseconds, where
        # os.times counts 10 ms ticks).
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(self.argv, env=self.env, cwd=cwd, capture_output=True,
                              check=False)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(self.argv)} exited {done.returncode}:\n"
                             f"{done.stderr.decode(errors='replace')}")
        printed = len(done.stdout.splitlines())
        if self.lines is not None and printed != self.lines:
            raise SystemExit(f"{' '.join(self.argv)} printed {printed} lines, not "
                             f"{self.lines}:\n{done.stdout.decode(errors='replace')}")
        self.wall.append(elapsed)
        self.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        self.loads.append(load)


def _per_round_ratio(values: list[float], baseline: list[float]) -> float:
    return statistics.median(mine / theirs for mine, theirs in zip(values, baseline, strict=True))


def startup_section(base: Path, env: dict[str, str], rounds: int) -> bool:
    """Start-up: ``python -c pass``, ``xtstore --version``, ``--help`` and ``ls`` of a small
    local container (the default service, no config file; and again with ``--config``),
    against ``rclone version`` and ``rclone lsf`` of the same folder. Every command runs once
    untimed (so that its bytecode is written), then ``rounds`` interleaved rounds; medians
    and the median of per-round ratios to ``python -c pass``. True if both targets are met
    (in wall time and in client CPU)."""
    home = base / "startup-home"
    home.mkdir()
    plain = {key: value for key, value in env.items() if key != "XTSTORE_CONFIG"}
    plain["HOME"] = str(home)
    xtstore = xtstore_command()
    folder = home / ".xtstore" / "store" / "small"
    source = base / "startup-source"
    for index in range(20):  # 10 blobs at the root, 10 in logs/: 11 entries
        name = f"blob{index:02}.txt" if index < 10 else f"logs/step{index:02}.log"
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(b"x" * 1024)
    subprocess.run([*xtstore, "-q", "containers", "create", "small"], env=plain, check=True)
    for entry in sorted(source.iterdir()):
        subprocess.run([*xtstore, "-q", "upload", str(entry), "small/"], env=plain, check=True)
    config = base / "startup.yaml"
    config.write_text(
        "external-services:\n"
        f"    local: {{type: storage, provider: store-file, path: '{folder.parent}'}}\n"
        "xt-services:\n    storage: local\n", encoding="utf-8")
    rclone = ["rclone", "--config", str(base / "startup-rclone.conf")]
    probes = [
        Probe("python -c pass", [sys.executable, "-c", "pass"], plain),
        Probe("xtstore --version", [*xtstore, "--version"], plain, 1),
        Probe("xtstore --help", [*xtstore, "--help"], plain),
        Probe("xtstore ls", [*xtstore, "ls", "small"], plain, 11),
        Probe("xtstore ls (config file)", [*xtstore, "--config", str(config), "ls", "small"],
              plain, 11),
        Probe("rclone version", [*rclone, "version"], plain),
        Probe("rclone lsf", [*rclone, "lsf", str(folder)], plain, 11),
    ]
    for probe in probes:  # untimed: bytecode written, files cached
        probe.run(base)
        probe.wall.clear(), probe.cpu.clear(), probe.loads.clear()
    for _ in range(rounds):
        for probe in probes:
            probe.run(base)
    baseline = probes[0]
    venv = "a venv" if sys.prefix != sys.base_prefix else "no venv"
    print(f"**Start-up**, {sys.executable} ({venv}), compiled bytecode, median of {rounds} "
          "interleaved rounds:\n")
    print("| command | wall | CPU | load (1 min) | wall / `python -c pass` | "
          "CPU / `python -c pass` |")
    print("|---|---:|---:|---:|---:|---:|")
    for probe in probes:
        print(f"| `{probe.label}` | {statistics.median(probe.wall) * 1000:.1f} ms | "
              f"{statistics.median(probe.cpu) * 1000:.1f} ms | "
              f"{min(probe.loads):.1f}-{max(probe.loads):.1f} | "
              f"{_per_round_ratio(probe.wall, baseline.wall):.2f}x | "
              f"{_per_round_ratio(probe.cpu, baseline.cpu):.2f}x |")
    met = True
    for label, limit in STARTUP_TARGETS.items():
        probe = next(probe for probe in probes if probe.label == label)
        wall = _per_round_ratio(probe.wall, baseline.wall)
        cpu = _per_round_ratio(probe.cpu, baseline.cpu)
        verdict = wall <= limit and cpu <= limit
        met = met and verdict
        print(f"- `{label}`: {wall:.2f}x wall, {cpu:.2f}x CPU of `python -c pass` "
              f"(target <= {limit}x): {'met' if verdict else 'MISSED'}")
    print()
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", default="all",
                        choices=("all", "transfers", "rclone", "startup"))
    parser.add_argument("--tiny", action="store_true",
                        default=os.environ.get("XTSTORE_BENCH_TINY") == "1",
                        help="seconds-sized folders, one round (also XTSTORE_BENCH_TINY=1)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds (default 3; 1 with --tiny)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    options = parser.parse_args()
    sizes = TINY if options.tiny else FULL
    repeat = options.repeat or (1 if options.tiny else 3)
    if options.section != "transfers" and shutil.which("rclone") is None:
        parser.error("the rclone section needs rclone on PATH (Debian: apt-get install rclone)")

    base = Path(options.keep or tempfile.mkdtemp(prefix="xtstore-bench-cli-"))
    base.mkdir(parents=True, exist_ok=True)
    config = base / "bench.yaml"
    config.write_text(
        "external-services:\n"
        f"    bench: {{type: storage, provider: store-file, path: '{base / 'store'}'}}\n"
        "xt-services:\n    storage: bench\n",
        encoding="utf-8",
    )
    env = compiled_env({**os.environ, "XTSTORE_CONFIG": str(config)}, base / "pycache")
    xt = [*xtstore_command(), "-q"]
    workers = ["--workers", str(options.workers)] if options.workers else []
    print(f"{os.cpu_count()} cores; load (1, 5, 15 min) at start "
          f"{', '.join(f'{value:.1f}' for value in os.getloadavg())}; "
          f"{'tiny' if options.tiny else 'full'} size, {repeat} round(s)\n")
    met = True
    try:
        if options.section in ("all", "transfers"):
            met = transfers_section(base, xt, env, workers, repeat, sizes) and met
        if options.section in ("all", "rclone"):
            verdicts = rclone_section(base, xt, env, workers, repeat, sizes)
            for verdict in verdicts:
                print(f"- {verdict.text}: {verdict.value:.2f}x (target <= {verdict.limit}x): "
                      f"{'met' if verdict.met else 'MISSED'}")
            met = all(verdict.met for verdict in verdicts) and met
        if options.section in ("all", "startup"):
            met = startup_section(base, env, 7 * repeat) and met
    finally:
        if not options.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\nload (1 min) at the end {os.getloadavg()[0]:.1f}")
    return 0 if met or options.tiny else 1


if __name__ == "__main__":
    sys.exit(main())
