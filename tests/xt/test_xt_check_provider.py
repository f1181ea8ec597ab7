"""Must show 3: ``xtstore check-provider`` on XT's own ``FileStore`` (xtlib 1.0.0, as shipped)
names its three real flaws, each by the clause it breaks and without raw-exception noise:
non-atomic writes, the check-then-write create race, and whole-file downloads."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.xt.conftest import source_first

CODE_PATH = "xtlib.storage.store_file.FileStore"
# Small enough for CI, large enough that reading the whole blob at once is plain to see.
LARGE_BLOB_MIB = 32
MEMORY_LIMIT_MIB = 8

FLAWS = {
    # clause -> what its message must say
    "reader_never_sees_a_partly_written_blob":
        "Whole or nothing: a reader never sees a partly written blob — read ",
    "upload_failing_part_way_leaves_the_old_blob":
        "Whole or nothing: a reader never sees a partly written blob — after an upload that "
        "failed part-way",
    "fail_if_exists_race_exactly_one_creator_wins":
        "fail_if_exists: create_blob(fail_if_exists=True) is atomic: of N concurrent creators "
        "exactly one succeeds (8 threads) — round ",
    "streaming_uses_bounded_memory":
        f"Streaming: memory bounded independently of the blob's size — download of "
        f"{LARGE_BLOB_MIB * 2**20} bytes grew the Python heap by ",
}
RAW = ("Traceback", "raised", "Error:", "could not run", "error in setup")


def run_check(xtlib_python: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = source_first({key: value for key, value in os.environ.items()
                        if not key.startswith("XTSTORE")})
    return subprocess.run(
        [str(xtlib_python), "-m", "xtstore", "--json", "check-provider", CODE_PATH,
         "-o", f"path={tmp_path / 'xt-store'}", "--large-blob-mib", str(LARGE_BLOB_MIB),
         "--memory-limit-mib", str(MEMORY_LIMIT_MIB)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def test_check_provider_names_xt_file_stores_three_flaws(
    xtlib_python: Path, tmp_path: Path
) -> None:
    done = run_check(xtlib_python, tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)  # nothing XT prints gets into the report
    assert report["provider"] == CODE_PATH and report["ok"] is False
    results = {row["clause"]: row for row in report["results"]}
    assert len(results) > 60
    for clause, says in FLAWS.items():
        row = results[clause]
        assert row["outcome"] == "failed", row
        assert row["message"].startswith(says), row
        assert not any(noise in row["message"] for noise in RAW), row
    assert "creators succeeded" in results["fail_if_exists_race_exactly_one_creator_wins"][
        "message"]
    # What XT's FileStore does right is reported as passing; so are its downloads cut off
    # part-way, which the adapter writes to a temporary file and renames into place.
    for clause in ("str_is_stored_as_utf8", "delete_blob_removes_it",
                   "failed_download_of_missing_blob_leaves_nothing",
                   "download_failing_part_way_leaves_no_partial_file"):
        assert results[clause]["outcome"] == "passed", results[clause]
