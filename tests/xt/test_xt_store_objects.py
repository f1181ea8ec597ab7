"""XT's own storage layer on xtstore's providers: ``xtlib.storage.store_objects.StoreBlobObjs``
(xtlib 1.0.0, in its own venv) built with a built-in code path and a service dict, exactly as
XT builds it, then used through its workspace, upload, wildcard-listing, download and snapshot
helpers on a real folder tree.

XT's code runs in a separate process (:func:`tests.xt.conftest.run_xt_script`); the script
prints what each helper returned as one JSON line, and the files it downloaded stay on disk,
so this side checks both the values and the bytes.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.xt.conftest import run_xt_script

SOURCE_TREE = {
    "a.txt": "alpha\n",
    "b.log": "bravo log\n",
    "sub/s.txt": "sierra\n",
    "sub/deep/c.txt": "charlie, two levels down\n",
}
WORKSPACE_BLOBS = ["__ws__/next_run_number.control", "experiments/__make_dir__",
                   "runs/__make_dir__"]
CODE_PATHS = {
    "store-file": "xtstore.providers.file.FileStore",
    "store-memory": "xtstore.providers.memory.MemoryStore",
    "azure-blob": "xtstore.providers.azure_blob.AzureBlobStore",
    "store-s3": "xtstore.providers.s3.S3Store",
}

XT_SCRIPT = r"""
import json, os, sys
from xtlib import errors
from xtlib.storage.store_objects import StoreBlobObjs

with open("job.json") as file:
    job = json.load(file)
ws, plain = job["workspace"], job["plain_container"]
out = {}

store = StoreBlobObjs(job["creds"], job["code_path"])   # sets XT's retry function (10)
out["name"] = store.get_name()
out["retry_is_xt_function"] = store.provider.get_retry().__name__ == "expo_retry"

# workspaces
out["exists_before"] = store.does_workspace_exist(ws)
store.create_workspace(ws)
out["exists_after"] = store.does_workspace_exist(ws)
out["workspace_blobs"] = sorted(store.provider.list_blobs(ws))
try:
    store.create_workspace(ws)
    out["second_create"] = "no error"
except errors.StoreError as error:
    out["second_create"] = str(error)
out["plain_created"] = store.provider.create_container(plain)
out["workspace_names"] = store.get_workspace_names()

# uploads of a real folder tree: the store's own helper and a run's BlobsObject
out["uploaded"] = sorted(store._upload_files(ws, "up", "src"))
run = store.run_files(ws, "run1", use_blobs=True)
out["run_uploaded"] = sorted(run.upload_files("output", "src"))
out["up_blobs"] = sorted(store.list_blobs(ws, "up"))

# wildcard listing: case 1 (a folder), 2 (a pattern in it), 3 ("**", everything below)
wild = {}
for path, target in (("up", ""), ("up", "*.txt"), ("up", "**"), ("up/sub", "")):
    for folders in (False, True):
        key = f"{path}|{target}|{folders}"
        wild[key] = sorted(store._list_wild_blobs(ws, path, target, include_folder_names=folders))
out["wild"] = wild
out["filenames"] = {pattern: [sorted(part) for part in run.get_filenames(pattern)]
                    for pattern in ("output", "output/*.txt", "output/**")}

# downloads
out["downloaded"] = sorted(os.path.relpath(p) for p in
                           store._download_files(ws, "up", "**", os.path.abspath("dl-all")))
out["run_downloaded"] = sorted(os.path.relpath(p) for p in
                               run.download_files("output/*.txt", os.path.abspath("dl-txt")))
run.download_file("output/sub/deep/c.txt", os.path.abspath("dl-one/c.txt"))

# snapshot: XT snapshots, downloads the snapshot, then deletes it
statuses = []
def progress(*args, status=None):
    statuses.append(status if status else "bytes")
run.download_file("output/a.txt", os.path.abspath("dl-snap/a.txt"), use_snapshot=True,
                  progress_callback=progress)
out["snapshot_statuses"] = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
out["snapshots_left"] = len(store.provider.list_snapshots(ws, "runs/run1/output/a.txt"))

# runs, experiments, reads, deletes
out["next_run"] = store.create_next_run_by_name(ws, "run7")
out["run_names"] = sorted(store.get_run_names(ws))
store.create_experiment(ws, "exp1")
for name in ("run1", "run7"):
    store.append_experiment_run_name(ws, "exp1", name)
out["experiment_runs"] = store.get_experiment_run_names(ws, "exp1")
out["read"] = run.read_file("output/sub/s.txt")
out["deleted_logs"] = run.delete_files("output/*.log")
out["after_delete"] = [sorted(part) for part in run.get_filenames("output")]
out["workspace_deleted"] = store.delete_workspace(ws)
out["exists_at_end"] = store.does_workspace_exist(ws)
out["plain_deleted"] = store.provider.delete_container(plain)
print("RESULT " + json.dumps(out))
"""


def _creds(provider: str, request: pytest.FixtureRequest, root: Path) -> dict[str, Any]:
    """XT's ``storage_creds``: the service dict with its ``name``."""
    creds: dict[str, Any] = {"type": "storage", "provider": provider, "name": "xtsandboxstorage"}
    if provider == "store-file":
        creds.update(path=str(root / "filestore"), name="filestorage")
    elif provider == "azure-blob":
        creds["connection-string"] = request.getfixturevalue("azurite").connection_string
    elif provider == "store-s3":
        creds.update(request.getfixturevalue("moto_server").service_config(),
                     name="xtsandboxstorage")
    return creds


@pytest.mark.parametrize("provider", list(CODE_PATHS))
def test_xt_store_blob_objs_on_xtstore(
    provider: str, xtlib_python: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for relative, text in SOURCE_TREE.items():
        (tmp_path / "src" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / relative).write_text(text)
    suffix = uuid.uuid4().hex[:8]
    ws, plain = f"ws-{suffix}", f"plain-{suffix}"
    creds = _creds(provider, request, tmp_path)
    (tmp_path / "job.json").write_text(json.dumps({
        "creds": creds, "code_path": CODE_PATHS[provider], "workspace": ws,
        "plain_container": plain}))

    done = run_xt_script(xtlib_python, XT_SCRIPT, cwd=tmp_path)

    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        pytest.fail(f"XT's script failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    out = json.loads(lines[-1][len("RESULT "):])

    assert out["name"] == creds["name"]
    assert out["retry_is_xt_function"] is True

    assert (out["exists_before"], out["exists_after"]) == (False, True)
    assert out["workspace_blobs"] == WORKSPACE_BLOBS
    assert out["second_create"] == f"workspace already exists: {ws}"
    assert out["plain_created"] is True
    assert ws in out["workspace_names"]
    assert plain not in out["workspace_names"]

    sources = sorted(f"src/{relative}" for relative in SOURCE_TREE)
    assert out["uploaded"] == sources
    assert out["run_uploaded"] == sources
    assert out["up_blobs"] == sorted(f"up/{relative}" for relative in SOURCE_TREE)

    assert out["wild"] == {
        "up||False": ["up/a.txt", "up/b.log"],
        "up||True": ["up/a.txt", "up/b.log", "up/sub/"],
        "up|*.txt|False": ["up/a.txt"],
        "up|*.txt|True": ["up/a.txt"],
        "up|**|False": ["up/a.txt", "up/b.log", "up/sub/deep/c.txt", "up/sub/s.txt"],
        "up|**|True": ["up/a.txt", "up/b.log", "up/sub/deep/c.txt", "up/sub/s.txt"],
        "up/sub||False": ["up/sub/s.txt"],
        "up/sub||True": ["up/sub/deep/", "up/sub/s.txt"],
    }
    assert out["filenames"] == {
        "output": [["sub"], ["a.txt", "b.log"]],
        "output/*.txt": [[], ["a.txt"]],
        "output/**": [[], ["a.txt", "b.log", "sub/deep/c.txt", "sub/s.txt"]],
    }

    assert out["downloaded"] == sorted(f"dl-all/{relative}" for relative in SOURCE_TREE)
    for relative, text in SOURCE_TREE.items():
        assert (tmp_path / "dl-all" / relative).read_text() == text
    assert out["run_downloaded"] == ["dl-txt/a.txt"]
    assert sorted(p.name for p in (tmp_path / "dl-txt").iterdir()) == ["a.txt"]
    assert (tmp_path / "dl-txt" / "a.txt").read_text() == SOURCE_TREE["a.txt"]
    assert (tmp_path / "dl-one" / "c.txt").read_text() == SOURCE_TREE["sub/deep/c.txt"]

    assert (tmp_path / "dl-snap" / "a.txt").read_text() == SOURCE_TREE["a.txt"]
    assert out["snapshot_statuses"] == ["creating-snapshot", "downloading-snapshot", "bytes",
                                        "deleting-snapshot", "deleted-snapshot"]
    assert out["snapshots_left"] == 0

    assert out["next_run"] == "run7"
    assert out["run_names"] == ["run1", "run7"]
    assert out["experiment_runs"] == ["run1", "run7"]
    assert out["read"] == SOURCE_TREE["sub/s.txt"]
    assert out["deleted_logs"] == 1
    assert out["after_delete"] == [["sub"], ["a.txt"]]
    assert (out["workspace_deleted"], out["exists_at_end"]) == (True, False)
    assert out["plain_deleted"] is True
