"""check-provider CODE.PATH: XT's example provider passes; a broken one lists the failing
clauses and exits 1."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import Runner, Services

REPO = Path(__file__).resolve().parents[2]
XT_EXAMPLE = REPO / "examples" / "xt_provider" / "extensions" / "my_cloud_storage.py"

BROKEN = '''
from xtstore.providers.file.store import FileProvider


class LeakyStore(FileProvider):
    """Two deliberate bugs: a folder path also matches siblings with a longer name, and
    fail_if_exists is ignored."""

    def list_blobs(self, container, path=None, return_names=True, recursive=True):
        if path and path.endswith("/"):
            path = path[:-1] + "*"
        return super().list_blobs(container, path, return_names, recursive)

    def iter_blobs(self, container, path=None, recursive=True):
        if path and path.endswith("/"):
            path = path[:-1] + "*"
        return super().iter_blobs(container, path, recursive)

    def create_blob(self, container, blob_path, text, fail_if_exists=False):
        return super().create_blob(container, blob_path, text, fail_if_exists=False)
'''


def test_broken_provider_lists_failing_clauses(xt: Runner, services: Services) -> None:
    package = services.work / "extensions"
    package.mkdir()
    (package / "leaky_store.py").write_text(BROKEN, encoding="utf-8")
    store = services.work / "leaky-root"
    args = ("check-provider", "extensions.leaky_store.LeakyStore", "-o", f"path={store}",
            "-k", "list_blobs or fail_if_exists")
    result = xt(*args)
    text = result.stdout.decode()
    assert result.returncode == 1, result.stderr.decode()
    assert "failed" in text and "passed" in text
    report = json.loads(xt("--json", *args).stdout)
    assert report["ok"] is False
    failed = {row["clause"] for row in report["results"] if row["outcome"] == "failed"}
    assert any("sibling" in clause for clause in failed), failed
    assert any("fail_if_exists" in clause for clause in failed), failed
    for clause in failed:  # the table names each failing clause
        assert clause[:40] in text.replace("\n", "").replace("│", "") or clause[:20] in text


def test_unloadable_class_is_one_error_line(xt: Runner) -> None:
    result = xt("check-provider", "nowhere.module.Missing")
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 1 and len(lines) == 1
    assert "nowhere.module.Missing" in lines[0]


@pytest.mark.skipif(not XT_EXAMPLE.exists(), reason="XT's example provider is not in the tree")
def test_xt_example_provider_passes(xt: Runner, services: Services) -> None:
    # XT's layout: the provider package is a direct subdirectory of the working directory.
    shutil.copytree(XT_EXAMPLE.parent, services.work / "extensions")
    env = {**services.env, "MYCLOUD_ROOT": str(services.work / "cloud")}
    result = xt("--json", "check-provider", "extensions.my_cloud_storage.MyCloudStorage",
                "-o", "account=https://johnsmith@mycoudstorage.com/myservice",
                "--large-blob-mib", "8", env=env)
    report = json.loads(result.stdout)
    failed = [row for row in report["results"] if row["outcome"] == "failed"]
    assert result.returncode == 0 and report["ok"], failed
    assert len(report["results"]) > 40


def test_class_missing_methods_is_named_in_one_line(xt: Runner, services: Services) -> None:
    package = services.work / "halfdone"
    package.mkdir()
    (package / "store.py").write_text(
        "class HalfStore:\n"
        "    def __init__(self, config):\n        self.config = config\n"
        "    def list_containers(self):\n        return []\n",
        encoding="utf-8",
    )
    result = xt("check-provider", "halfdone.store.HalfStore")
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 1 and len(lines) == 1, lines
    assert "HalfStore" in lines[0] and "create_blob" in lines[0]


def test_table_prints_brackets_in_messages_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    from xtstore.cli.cmd_check import _print_table
    from xtstore.testing import ClauseResult

    result = ClauseResult("list_blobs_sorted", "failed", "expected ['a-b', '[x]'], got []")
    _print_table("pkg.Store", [result], "1 failed")
    assert "expected ['a-b', '[x]'], got []" in capsys.readouterr().out


XT_STYLE_NEEDS_PATH = '''
from xtstore.providers.file.store import FileProvider


class RootedStore(FileProvider):
    """Reads its folder the XT way: storage_creds["path"]."""

    def __init__(self, storage_creds):
        super().__init__({"path": storage_creds["root"]})
'''


@pytest.mark.parametrize("code_path, key", [
    ("xtstore.providers.file.FileStore", "path"),
    ("xtstyle.rooted.RootedStore", "root"),
])
def test_missing_constructor_key_is_one_line_naming_the_option(
    xt: Runner, services: Services, code_path: str, key: str
) -> None:
    package = services.work / "xtstyle"
    package.mkdir()
    (package / "rooted.py").write_text(XT_STYLE_NEEDS_PATH, encoding="utf-8")
    result = xt("check-provider", code_path, "-k", "list_blobs")
    assert result.returncode == 1
    assert result.stdout == b""  # no clause ran: the store was built once, before them
    assert result.stderr.decode().splitlines() == [
        f"xtstore: error: {code_path} needs the config key {key!r}: add -o {key}=VALUE"
    ]


def test_memory_limit_option_reaches_the_bounded_memory_clause(
    xt: Runner, services: Services
) -> None:
    # MemoryHungryUpload reads the whole 24 MiB source: within the default 64 MiB, over 8 MiB.
    args = ("--json", "check-provider", "tests.testing.broken_providers.MemoryHungryUpload",
            "-o", f"path={services.work / 'store'}", "-k", "bounded_memory",
            "--large-blob-mib", "24")
    env = {**services.env, "PYTHONPATH": f"{REPO}{os.pathsep}{services.env.get('PYTHONPATH', '')}"}
    within = json.loads(xt(*args, env=env).stdout)
    assert within["ok"] is True, within
    over = json.loads(xt(*args, "--memory-limit-mib", "8", env=env).stdout)
    [row] = over["results"]
    assert row["outcome"] == "failed"
    assert "upload of 25165824 bytes grew the Python heap by" in row["message"]
    assert "(limit 8388608)" in row["message"]


PASSWORD_STORE = '''
from xtstore.providers.file.store import FileProvider


class PasswordStore(FileProvider):
    """Opens only with its password, which check-provider is given with -o."""

    def __init__(self, creds):
        if creds.get("password") != "s3cret-7f1d":
            raise ValueError("wrong password")
        super().__init__({"path": creds["path"]})
'''


def test_a_secret_option_reaches_the_worker_processes_without_being_pickled(
    xt: Runner, services: Services
) -> None:
    # The race clause hands the store to spawned processes; a dict config with an inline
    # password would refuse to pickle, so check-provider opens the service from a file.
    package = services.work / "xtsecret"
    package.mkdir()
    (package / "password_store.py").write_text(PASSWORD_STORE, encoding="utf-8")
    result = xt("--json", "check-provider", "xtsecret.password_store.PasswordStore",
                "-o", f"path={services.work / 'store'}", "-o", "password=s3cret-7f1d",
                "-k", "fail_if_exists_race")
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert [row["outcome"] for row in report["results"]] == ["passed"]
    assert b"s3cret-7f1d" not in result.stdout + result.stderr
