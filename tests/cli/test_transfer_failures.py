"""Fail early, keep going (docs/cli.md "upload, download, cp, mv"): a missing destination
container and every bad destination name are reported before anything moves, in one error;
a file that fails does not stop the others unless --fail-fast; the summary lists each failure
and the exit code is 1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok, one_error_line, read_tree
from tests.servers.s3_server import MotoServer

GOOD = {f"f{index:02}.txt": f"file {index}\n".encode() for index in range(6)}
BAD = {"a\\b.txt": b"backslash\n", "sub/c\x01d.txt": b"control\n"}


def _stderr_lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    return stderr.splitlines()


def test_a_missing_destination_container_is_one_error_before_anything_moves(
    xt: Runner, services: Services
) -> None:
    make_tree(services.work / "run1", GOOD)
    line = one_error_line(xt("upload", "run1", "nosuch/run1"))
    assert line == ("xtstore: error: service 'local', container 'nosuch': container not found "
                    "(create it with 'xtstore containers create nosuch')")
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "run1", "runs/run1"))
    line = one_error_line(xt("cp", "runs/run1", "other:nosuch/run1"))
    assert line.endswith("(create it with 'xtstore containers create other:nosuch')")
    line = one_error_line(xt("mv", "runs/run1", "nosuch"))
    assert "container 'nosuch': container not found" in line
    assert len(ok(xt("ls", "-r", "runs")).split()) == len(GOOD)


def test_every_invalid_local_name_is_listed_in_one_error_and_nothing_moves(
    xt: Runner, services: Services
) -> None:
    make_tree(services.work / "run1", {**GOOD, **BAD})
    ok(xt("containers", "create", "runs"))
    result = xt("upload", "run1", "runs/run1")
    assert result.returncode == 1
    assert _stderr_lines(result) == [
        "xtstore: error: 2 names cannot be blob names (leave them out with --exclude PATTERN, "
        "or skip them with --skip-invalid):",
        "xtstore:   run1/a\\b.txt: invalid blob path: it contains a backslash (use '/' to "
        "separate folders)",
        "xtstore:   run1/sub/c\\x01d.txt: invalid blob path: it contains a control character "
        "(U+0001), which listings cannot carry",
    ]
    assert ok(xt("ls", "-r", "runs")) == ""
    # The ways forward: skip them (a warning each), or leave them out.
    result = xt("upload", "--skip-invalid", "run1", "runs/run1")
    ok(result)
    lines = _stderr_lines(result)
    assert [line for line in lines if "warning" in line] == [
        "xtstore: warning: skipped run1/a\\b.txt: invalid blob path: it contains a backslash "
        "(use '/' to separate folders)",
        "xtstore: warning: skipped run1/sub/c\\x01d.txt: invalid blob path: it contains a "
        "control character (U+0001), which listings cannot carry",
    ]
    assert lines[-1].startswith("xtstore: uploaded: 6 copied (42 B) in ")
    ok(xt("upload", "--exclude", "a\\\\b.txt", "--exclude", "sub/", "run1", "runs/again"))
    assert len(ok(xt("ls", "-r", "runs/again")).split()) == len(GOOD)


def test_a_failed_download_does_not_stop_the_others(xt: Runner, services: Services) -> None:
    tree = {**GOOD, "sub/x.txt": b"x\n", "sub/y.txt": b"y\n"}
    make_tree(services.work / "run1", tree)
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "run1", "runs/run1"))
    # 'sub' is a file where the download needs a folder: the two files below it fail.
    make_tree(services.work / "dl", {"run1/sub": b"in the way\n"})
    result = xt("download", "-w", "1", "runs/run1", "dl")
    assert result.returncode == 1
    lines = _stderr_lines(result)
    failed = [line for line in lines if line.startswith("xtstore: error: ")]
    assert len(failed) == 2 and all("run1/sub/" in line for line in failed), lines
    assert lines[-1].startswith(f"xtstore: downloaded: {len(GOOD)} copied (42 B), 2 failed in ")
    assert read_tree(services.work / "dl" / "run1") == {**GOOD, "sub": b"in the way\n"}
    # --fail-fast stops at the first: one error line, exit 1.
    make_tree(services.work / "ff", {"run1": b"a file where the copy goes\n"})
    result = xt("download", "--fail-fast", "-w", "1", "runs/run1", "ff/run1/")
    assert result.returncode == 1
    assert sum(1 for line in _stderr_lines(result) if line.startswith("xtstore: error:")) == 1


def test_a_failed_upload_is_listed_and_the_json_summary_counts_it(
    xt: Runner, services: Services
) -> None:
    make_tree(services.work / "run1", {**GOOD, "y/z.txt": b"z\n"})
    ok(xt("containers", "create", "runs"))
    ok(xt("upload", "run1/f00.txt", "runs/dest/y"))  # a blob where a folder must go
    result = xt("--json", "upload", "-w", "1", "run1/y", *(f"run1/{n}" for n in GOOD),
                "runs/dest")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["copied"] == len(GOOD) and summary["interrupted"] is False
    assert [failure["path"] for failure in summary["failed"]] == ["dest/y/z.txt"]
    assert "blob 'dest/y/z.txt'" in summary["failed"][0]["error"]
    errors = _stderr_lines(result)
    assert len(errors) == 1 and errors[0].startswith("xtstore: error: dest/y/z.txt: ")


def _s3_config(services: Services, moto_server: MotoServer) -> Path:
    config = services.work.parent / "s3.yaml"
    s3 = json.dumps(moto_server.service_config())
    local = json.dumps({"type": "storage", "provider": "store-file",
                        "path": str(services.local_root)})
    config.write_text(f"external-services:\n    s3: {s3}\n    local: {local}\n"
                      "xt-services:\n    storage: local\n", encoding="utf-8")
    return config


def test_fail_early_and_keep_going_on_s3(xt: Runner, services: Services,
                                         moto_server: MotoServer) -> None:
    config = _s3_config(services, moto_server)
    env = {**services.env, "XTSTORE_CONFIG": str(config)}
    make_tree(services.work / "run1", {**GOOD, "sub/x.txt": b"x\n"})
    line = one_error_line(xt("upload", "run1", "s3:transfers-nosuch/run1", env=env))
    assert line.endswith("container not found (create it with 'xtstore containers create "
                         "s3:transfers-nosuch')")
    ok(xt("containers", "create", "s3:transfers-fail", env=env))
    ok(xt("upload", "run1", "s3:transfers-fail/run1", env=env))
    make_tree(services.work / "dl", {"run1/sub": b"in the way\n"})
    result = xt("download", "s3:transfers-fail/run1", "dl", env=env)
    assert result.returncode == 1
    lines = _stderr_lines(result)
    assert sum(1 for line in lines if line.startswith("xtstore: error: run1/sub/x.txt: ")) == 1
    assert lines[-1].startswith(f"xtstore: downloaded: {len(GOOD)} copied (42 B), 1 failed")
    assert read_tree(services.work / "dl" / "run1") == {**GOOD, "sub": b"in the way\n"}
