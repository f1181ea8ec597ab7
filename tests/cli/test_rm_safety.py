"""``rm`` in a script: it says what it deleted, a whole container needs ``--yes``,
``--dry-run`` shows first, filters choose blobs, and one failed deletion does not stop the
rest (docs/cli.md "rm")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import make_tree, ok, one_error_line

TREE = {
    "exp1/log.txt": b"1",
    "exp1/ckpt/e1.pt": b"22",
    "exp1/ckpt/e2.pt": b"333",
    "exp2/log.txt": b"4444",
}

# A user's provider (XT's extensions/ folder): store-file whose 'locked*' blobs refuse deletion.
STUBBORN_STORE = '''
from xtstore.errors import AccessDenied
from xtstore.providers.file.store import FileProvider


class StubbornStore(FileProvider):
    def delete_blob(self, container, blob_path, snapshot=None):
        if blob_path.rsplit("/", 1)[-1].startswith("locked"):
            raise AccessDenied("this blob is locked", container=container, blob=blob_path)
        return super().delete_blob(container, blob_path, snapshot)
'''


@pytest.fixture
def runs(xt: Runner, services: Services) -> str:
    make_tree(services.work / "src", TREE)
    ok(xt("containers", "create", "runs"))
    ok(xt("-q", "upload", "src/exp1", "src/exp2", "runs"))
    return "runs"


def _blobs(xt: Runner, address: str = "runs") -> list[str]:
    return ok(xt("ls", "-r", address)).split()


def test_rm_r_of_a_whole_container_off_a_terminal_needs_yes(xt: Runner, runs: str) -> None:
    # Before 2.5, 'rm -r runs' in a script deleted the container and printed nothing.
    line = one_error_line(xt("rm", "-r", "runs"))
    assert line == ("xtstore: error: 'runs' is a whole container (4 blobs): add --yes to "
                    "delete it, or --dry-run to list what would go")
    assert len(_blobs(xt)) == 4
    result = xt("rm", "-r", "--yes", "runs")
    assert sorted(ok(result).splitlines()) == [
        "runs/exp1/ckpt/e1.pt", "runs/exp1/ckpt/e2.pt", "runs/exp1/log.txt",
        "runs/exp2/log.txt"]
    assert "4 deleted" in result.stderr.decode()
    assert ok(xt("containers")) == ""


def test_rm_r_prints_each_deleted_blob_and_a_summary(xt: Runner, runs: str) -> None:
    result = xt("rm", "-r", "runs/exp1")
    assert sorted(ok(result).splitlines()) == [
        "runs/exp1/ckpt/e1.pt", "runs/exp1/ckpt/e2.pt", "runs/exp1/log.txt"]
    stderr = result.stderr.decode().splitlines()
    assert len(stderr) == 1 and stderr[0].startswith("xtstore: deleted: "), stderr
    assert "3 deleted" in stderr[0]
    assert _blobs(xt) == ["exp2/log.txt"]
    # -q: nothing on either stream; the service prefix given is kept on each line.
    ok(xt("containers", "create", "other:keep"))
    ok(xt("append", "other:keep/a.txt", "a"))
    ok(xt("append", "other:keep/b.txt", "b"))
    quiet = xt("rm", "-q", "other:keep/a.txt")
    assert ok(quiet) == "" and quiet.stderr == b""
    assert ok(xt("rm", "other:keep/b.txt")) == "other:keep/b.txt\n"


def test_rm_dry_run_lists_and_deletes_nothing(xt: Runner, runs: str) -> None:
    result = xt("rm", "-r", "--dry-run", "runs")  # no --yes needed to look
    assert ok(result).splitlines() == [
        "delete runs/exp1/ckpt/e1.pt", "delete runs/exp1/ckpt/e2.pt",
        "delete runs/exp1/log.txt", "delete runs/exp2/log.txt"]
    assert "would delete" in result.stderr.decode() and "4 deleted" in result.stderr.decode()
    assert ok(xt("rm", "-n", "-r", "runs/exp1/ckpt")).splitlines() == [
        "delete runs/exp1/ckpt/e1.pt", "delete runs/exp1/ckpt/e2.pt"]
    planned = json.loads(ok(xt("rm", "-r", "-n", "--json", "runs/exp2")))
    assert planned == [{"action": "delete", "path": "runs/exp2/log.txt"}]
    assert len(_blobs(xt)) == 4
    # The folder rule holds in a dry run too.
    one_error_line(xt("rm", "-n", "runs/exp1"), code=2)


def test_rm_filters_choose_blobs_below_the_source(xt: Runner, runs: str) -> None:
    assert sorted(ok(xt("rm", "-r", "runs/exp1", "--include", "ckpt/*")).splitlines()) == [
        "runs/exp1/ckpt/e1.pt", "runs/exp1/ckpt/e2.pt"]
    # A filtered container is not the whole container: only what the filter takes goes.
    assert ok(xt("rm", "-r", "runs", "--exclude", "exp1/**")).splitlines() == [
        "runs/exp2/log.txt"]
    assert _blobs(xt) == ["exp1/log.txt"]
    assert ok(xt("containers")).split() == ["runs"]


def test_rm_of_overlapping_addresses_deletes_each_blob_once(xt: Runner, runs: str) -> None:
    result = xt("rm", "-r", "runs/exp1", "runs/exp1/**/*.pt", "runs/exp1/log.txt")
    assert sorted(ok(result).splitlines()) == [
        "runs/exp1/ckpt/e1.pt", "runs/exp1/ckpt/e2.pt", "runs/exp1/log.txt"]
    assert "3 deleted" in result.stderr.decode() and "failed" not in result.stderr.decode()


def test_rm_resolves_every_address_before_deleting(xt: Runner, runs: str) -> None:
    line = one_error_line(xt("rm", "-r", "runs/exp2", "runs/exp3"))
    assert "blob 'exp3': no blob or folder by this name" in line
    assert len(_blobs(xt)) == 4


def test_rm_json_reports_the_count(xt: Runner, runs: str) -> None:
    report = json.loads(ok(xt("rm", "-r", "--json", "runs/exp1")))
    assert report["deleted"] == 3 and report["failed"] == []


@pytest.fixture
def stubborn(xt: Runner, services: Services, tmp_path: Path) -> Path:
    """A config whose default service refuses to delete blobs named 'locked*'."""
    (services.work / "extensions").mkdir()
    (services.work / "extensions" / "stubborn_store.py").write_text(STUBBORN_STORE,
                                                                   encoding="utf-8")
    config = tmp_path / "stubborn.yaml"
    config.write_text(
        "external-services:\n"
        "    stubborn: {type: storage, provider: extensions.stubborn_store.StubbornStore, "
        f"path: '{tmp_path / 'stubborn-root'}'}}\n"
        "xt-services:\n"
        "    storage: stubborn\n", encoding="utf-8")
    ok(xt("containers", "create", "runs", "--config", str(config)))
    for name in ("a.txt", "locked1.txt", "m.txt", "locked2.txt", "z.txt"):
        ok(xt("append", f"runs/box/{name}", name, "--config", str(config)))
    return config


def test_rm_keeps_going_past_a_failed_deletion(xt: Runner, stubborn: Path) -> None:
    result = xt("rm", "-r", "runs/box", "--config", str(stubborn))
    assert result.returncode == 1
    assert sorted(result.stdout.decode().splitlines()) == [
        "runs/box/a.txt", "runs/box/m.txt", "runs/box/z.txt"]
    stderr = result.stderr.decode().splitlines()
    failures = sorted(line for line in stderr if line.startswith("xtstore: error: "))
    assert len(failures) == 2, stderr
    assert failures[0].startswith("xtstore: error: runs/box/locked1.txt: ")
    assert failures[1].startswith("xtstore: error: runs/box/locked2.txt: ")
    assert all("this blob is locked" in line for line in failures)
    assert any("3 deleted" in line and "2 failed" in line for line in stderr), stderr
    assert ok(xt("ls", "-r", "runs", "--config", str(stubborn))).split() == [
        "box/locked1.txt", "box/locked2.txt"]


def test_rm_fail_fast_stops_at_the_first_failure(xt: Runner, stubborn: Path) -> None:
    ok(xt("rm", "runs/box/a.txt", "--config", str(stubborn)))
    line = one_error_line(xt("rm", "-r", "--fail-fast", "-q", "runs/box",
                             "--config", str(stubborn)))
    assert "this blob is locked" in line
    assert "box/locked1.txt" in ok(xt("ls", "-r", "runs", "--config", str(stubborn)))
