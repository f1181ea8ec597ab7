"""The main job on the default local store, with no config file at all.

Makes a small experiment run folder (a log, metrics, a checkpoint), uploads it into a
container, lists it, downloads it back into a fresh folder and checks every byte.

    python examples/quickstart.py [--keep]

With no config, ``xtstore.get_storage()`` opens ``filestorage``: a folder under
``~/.xtstore/store``. Point ``XTSTORE_CONFIG`` at a YAML file to run the same job on Azure or
S3 instead.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
from pathlib import Path

import xtstore

CONTAINER = "xtstore-quickstart"
RUN = "runs/run-001"


def make_run_folder(root: Path) -> list[Path]:
    """A run as an ML job leaves it: a text log, a metrics file and a binary checkpoint."""
    rng = random.Random(42)
    files = {
        "log.txt": "".join(f"step {i} loss {1 / (i + 1):.5f}\n" for i in range(500)).encode(),
        "metrics/accuracy.csv": b"epoch,acc\n1,0.71\n2,0.83\n3,0.88\n",
        "checkpoints/model.bin": rng.randbytes(3 * 1024 * 1024),
        "config/params.yaml": b"lr: 0.001\nbatch: 64\n",
    }
    written = []
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the container afterwards")
    args = parser.parse_args()

    store = xtstore.get_storage()
    print(f"service: {store.get_service_name()} ({type(store.provider).__name__})")

    if store.does_container_exist(CONTAINER):
        store.delete_container(CONTAINER)
    store.create_container(CONTAINER)
    print(f"created container {CONTAINER!r}")

    with tempfile.TemporaryDirectory(prefix="xtstore-quickstart-") as work:
        source = Path(work, "run")
        files = make_run_folder(source)
        for path in files:
            relative = path.relative_to(source).as_posix()
            store.create_blob_from_path(CONTAINER, f"{RUN}/{relative}", str(path))
            print(f"uploaded  {relative:28} {path.stat().st_size:>10,} bytes")
        store.append_blob(CONTAINER, f"{RUN}/log.txt", "run finished\n")
        with open(source / "log.txt", "a") as log:
            log.write("run finished\n")
        print("appended  log.txt")

        print(f"listing {RUN} (recursive, with properties):")
        for entry in store.list_blobs(CONTAINER, RUN, return_names=False):
            assert isinstance(entry, xtstore.BlobInfo) and entry.properties is not None
            print(f"  {entry.name:42} {entry.properties.content_length:>10,} bytes")
        print(f"listing {RUN} (one level): {store.list_blobs(CONTAINER, RUN, recursive=False)}")

        target = Path(work, "downloaded")
        mismatches = 0
        for name in store.list_blobs(CONTAINER, RUN):
            assert isinstance(name, str)
            relative = name[len(RUN) + 1 :]
            dest = target / relative
            store.get_blob_to_path(CONTAINER, name, str(dest))
            same = sha256(dest) == sha256(source / relative)
            mismatches += not same
            print(f"downloaded {relative:27} {'identical' if same else 'DIFFERENT'}")

    if not args.keep:
        store.delete_container(CONTAINER)
        print(f"deleted container {CONTAINER!r}")
    if mismatches:
        print(f"FAILED: {mismatches} file(s) differ", file=sys.stderr)
        return 1
    print(f"OK: {len(files)} files uploaded, listed, downloaded and verified byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
