"""``xtstore://`` against s3fs and adlfs on the same emulator: moto and Azurite, started on
127.0.0.1 by this script, each filesystem asked for the same work in the same run.

Work: ``pipe_file`` of ``--files`` small files, ``find`` of them, ``cat_file`` of them,
``cat_file`` of a ``--size-mib`` blob whole, ``--reads`` random ``cat_file`` ranges of 64 KiB,
the same ranges through one ``open`` file (seek + read), and pandas ``to_parquet`` /
``read_parquet`` of a frame of ``--rows`` rows. Figures: wall time and this process's CPU,
the best of ``--rounds``, and xtstore's as a ratio of the peer's.

s3fs cannot be installed beside the test pins (its aiobotocore pins an older botocore), so
this runs in a venv of its own, from the repository root:

    python -m venv .bench-venv
    .bench-venv/bin/pip install -e '.[all]' s3fs adlfs pandas pyarrow 'moto[server]'
    .bench-venv/bin/python benchmarks/bench_fsspec.py [--size-mib 32] [--files 200]

The machine is shared: read the load printed beside the figures.
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

import yaml  # noqa: E402
from tests.servers.azurite import running_azurite  # noqa: E402
from tests.servers.s3_server import start_moto  # noqa: E402

READ_SIZE = 64 << 10


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _best(run: Callable[[], None], rounds: int) -> tuple[float, float]:
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), _cpu()
        run()
        best = min(best, (time.perf_counter() - wall, _cpu() - cpu))
    return best


def _work(fs: Any, root: str, data: bytes, offsets: list[int], files: int,
          frame: Any) -> dict[str, Callable[[], None]]:
    """The named steps, each checking what it read; ``root`` is ``container/prefix``."""
    small = {f"{root}/small/{index:05d}.txt": f"file {index}\n".encode() * 64
             for index in range(files)}
    big = f"{root}/big.bin"

    def pipe() -> None:
        for path, content in small.items():
            fs.pipe_file(path, content)

    def find() -> None:
        found = fs.find(f"{root}/small")
        assert sorted(name.split("small/")[-1] for name in found) == sorted(
            name.split("small/")[-1] for name in small), len(found)

    def cat_small() -> None:
        for path, content in small.items():
            assert fs.cat_file(path) == content

    def cat_big() -> None:
        assert fs.cat_file(big) == data

    def ranges() -> None:
        for offset in offsets:
            assert fs.cat_file(big, start=offset, end=offset + READ_SIZE) == \
                data[offset:offset + READ_SIZE]

    def seeks() -> None:
        with fs.open(big, "rb") as stream:
            for offset in offsets:
                stream.seek(offset)
                assert stream.read(READ_SIZE) == data[offset:offset + READ_SIZE]

    def parquet() -> None:
        import pandas

        with fs.open(f"{root}/frame.parquet", "wb") as out:
            frame.to_parquet(out)
        with fs.open(f"{root}/frame.parquet", "rb") as source:
            assert pandas.read_parquet(source).equals(frame)

    fs.pipe_file(big, data)
    return {"pipe_file small": pipe, "find": find, "cat_file small": cat_small,
            "cat_file big": cat_big, "cat_file ranges": ranges, "open seek+read": seeks,
            "parquet write+read": parquet}


def _compare(label: str, ours: dict[str, Callable[[], None]],
             theirs: dict[str, Callable[[], None]], rounds: int) -> None:
    for name in ours:
        peer = _best(theirs[name], rounds)
        mine = _best(ours[name], rounds)
        print(f"| {label} | {name} | {mine[0]:.3f} | {peer[0]:.3f} | {mine[0] / peer[0]:.2f} |"
              f" {mine[1]:.3f} | {peer[1]:.3f} | {mine[1] / peer[1]:.2f} |", flush=True)


def _xtstore_fs(entry: dict[str, Any], scratch: Path, service: str) -> Any:
    import fsspec

    config = scratch / f"{service}.yaml"
    config.write_text(yaml.safe_dump({"external-services": {service: entry}}))
    return fsspec.filesystem("xtstore", service=service, config=str(config))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=32)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import adlfs
    import numpy
    import pandas
    import s3fs

    os.environ.update(AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID="test",
                      AWS_SECRET_ACCESS_KEY="test")
    seeded = random.Random(1)
    size = args.size_mib << 20
    data = seeded.randbytes(size)
    offsets = [seeded.randrange(size - READ_SIZE) for _ in range(args.reads)]
    frame = pandas.DataFrame({"step": numpy.arange(args.rows),
                              "loss": numpy.random.default_rng(1).random(args.rows)})
    print(f"load average {os.getloadavg()[0]:.1f}; {args.files} small files, "
          f"{args.size_mib} MiB blob, {args.reads} ranges of 64 KiB, {args.rows} rows")
    print("| store | work | xtstore:// s | peer s | ratio | xtstore:// CPU s | peer CPU s |"
          " ratio |\n|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        with start_moto(scratch / "moto.log") as moto:
            entry = moto.service_config()
            ours = _xtstore_fs(entry, scratch, "s3")
            ours.mkdir("bench-x")
            peer = s3fs.S3FileSystem(key="test", secret="test", client_kwargs={
                "endpoint_url": moto.endpoint_url, "region_name": entry["region"]})
            ours.mkdir("bench-p")  # s3fs sends a location constraint moto refuses for us-east-1
            _compare("s3 (moto) vs s3fs",
                     _work(ours, "bench-x/run", data, offsets, args.files, frame),
                     _work(peer, "bench-p/run", data, offsets, args.files, frame), args.rounds)
        with running_azurite(scratch) as azurite:
            entry = {"type": "storage", "provider": "azure-blob",
                     "connection-string": azurite.connection_string}
            ours = _xtstore_fs(entry, scratch, "az")
            ours.mkdir("bench-x")
            peer = adlfs.AzureBlobFileSystem(connection_string=azurite.connection_string)
            peer.mkdir("bench-p")
            _compare("azure (Azurite) vs adlfs",
                     _work(ours, "bench-x/run", data, offsets, args.files, frame),
                     _work(peer, "bench-p/run", data, offsets, args.files, frame), args.rounds)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
