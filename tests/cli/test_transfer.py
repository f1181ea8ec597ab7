"""upload / download / cp through the console script: files, folders, wildcards, byte-identical
round trips, parallel workers, server-side and cross-service copies."""

from __future__ import annotations

import json
import os

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok, read_tree

TREE = {
    "log.txt": b"epoch 1 loss 0.5\n",
    "metrics/acc.csv": b"step,acc\n1,0.9\n",
    "metrics/deep/x.bin": bytes(range(256)) * 40,
    "model.pt": os.urandom(300_000),
    "notes.md": b"# notes\n",
}


def _blobs(xt: Runner, address: str) -> list[str]:
    return ok(xt("ls", "-r", address)).split()


def test_upload_folder_list_and_download_are_byte_identical(
    xt: Runner, services: Services
) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "--workers", "4", "run1", "runs/exp1/"))
    assert _blobs(xt, "runs") == sorted(f"exp1/run1/{name}" for name in TREE)
    ok(xt("download", "runs/exp1/run1", "copy"))
    assert read_tree(services.work / "copy") == TREE


def test_cp_r_naming_rules(xt: Runner, services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    # DEST missing: the folder becomes DEST; DEST existing: the folder goes inside it.
    ok(xt("upload", "run1", "runs/a"))
    assert _blobs(xt, "runs/a") == sorted(f"a/{name}" for name in TREE)
    ok(xt("upload", "run1", "runs/a"))
    assert f"a/run1/{'log.txt'}" in _blobs(xt, "runs/a")
    # One file to a new name, and several files into a folder.
    ok(xt("upload", "run1/log.txt", "runs/single.txt"))
    ok(xt("upload", "run1/log.txt", "run1/notes.md", "runs/two"))
    assert _blobs(xt, "runs/two") == ["two/log.txt", "two/notes.md"]
    assert ok(xt("cat", "runs/single.txt")) == TREE["log.txt"].decode()
    # download: into an existing folder by name, or as a new name.
    (services.work / "dl").mkdir()
    ok(xt("download", "runs/single.txt", "dl"))
    ok(xt("download", "runs/single.txt", "dl/renamed.txt"))
    ok(xt("download", "runs/a", "dl"))
    tree = read_tree(services.work / "dl")
    assert tree["single.txt"] == tree["renamed.txt"] == TREE["log.txt"]
    assert tree["a/model.pt"] == TREE["model.pt"]


def test_upload_wildcards(xt: Runner, services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "run1/*.txt", "runs/star"))
    assert _blobs(xt, "runs/star") == ["star/log.txt"]
    ok(xt("upload", "run1/note?.md", "runs/question"))
    assert _blobs(xt, "runs/question") == ["question/notes.md"]
    ok(xt("upload", "run1/**/*.csv", "runs/globstar"))
    assert _blobs(xt, "runs/globstar") == ["globstar/metrics/acc.csv"]
    ok(xt("upload", "run1/**", "runs/all"))
    assert _blobs(xt, "runs/all") == sorted(f"all/{name}" for name in TREE)
    # '*' stays within one folder: it matches the folder 'metrics', uploaded whole.
    ok(xt("upload", "run1/m*", "runs/folders"))
    assert _blobs(xt, "runs/folders") == sorted(
        f"folders/{name}" for name in TREE if name.startswith(("metrics/", "model"))
    )


def test_download_wildcards(xt: Runner, services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "run1", "runs/r"))
    ok(xt("download", "runs/r/**/*.bin", "out1"))
    assert read_tree(services.work / "out1") == {"metrics/deep/x.bin": TREE["metrics/deep/x.bin"]}
    ok(xt("download", "runs/r/*.??", "out2"))
    assert read_tree(services.work / "out2") == {
        "model.pt": TREE["model.pt"], "notes.md": TREE["notes.md"]}
    ok(xt("download", "runs", "whole"))
    assert read_tree(services.work / "whole") == {f"r/{k}": v for k, v in TREE.items()}


def test_many_files_in_parallel_with_plain_progress_and_json_summary(
    xt: Runner, services: Services
) -> None:
    files = {f"d{i % 7}/f{i:03}.txt": f"file {i}\n".encode() for i in range(150)}
    make_tree(services.work / "many", files)
    ok(xt("containers", "create", "runs"))
    result = xt("upload", "-w", "16", "-P", "many", "runs/m")
    ok(result)
    lines = result.stderr.decode().splitlines()
    # -P in a pipe: a start line, one line per finished file, the summary.
    assert lines[0] == "xtstore: uploading 150 files (1.2 KiB)"
    assert sum(1 for line in lines if line.startswith("xtstore: ") and "/150 files" in line
               and line.endswith(".txt")) == 150
    assert lines[-1].startswith("xtstore: uploaded: 150 copied (1.2 KiB) in ")
    summary = json.loads(ok(xt("--json", "download", "runs/m", "back")))
    assert summary["copied"] == 150 and summary["failed"] == []
    assert summary["bytes"] == sum(len(data) for data in files.values())
    assert read_tree(services.work / "back") == files
    quiet = xt("-q", "upload", "many", "runs/q")
    assert ok(quiet) == "" and quiet.stderr == b""


def test_cp_within_a_service_and_between_services(xt: Runner, services: Services) -> None:
    make_tree(services.work / "run1", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("containers", "create", "other:backup"))
    ok(xt("upload", "run1", "runs/exp1"))
    ok(xt("cp", "runs/exp1/model.pt", "runs/copy/model.pt"))
    assert ok(xt("ls", "runs/copy")).split() == ["copy/model.pt"]
    ok(xt("cp", "runs/exp1", "other:backup/exp1"))
    assert _blobs(xt, "other:backup") == sorted(f"exp1/{name}" for name in TREE)
    ok(xt("download", "other:backup/exp1", "from-other"))
    assert read_tree(services.work / "from-other") == TREE
    # The second service really is another folder on disk.
    assert (services.other_root / "backup").is_dir() or any(services.other_root.rglob("*.pt"))
    ok(xt("cp", "other:backup/exp1/log.txt", "local:runs/back.txt"))
    assert ok(xt("cat", "runs/back.txt")) == TREE["log.txt"].decode()
