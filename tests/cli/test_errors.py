"""Failures: one clear stderr line naming service, container and blob, exit code 1 (2 for
usage), no traceback unless --debug."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok, one_error_line


def test_missing_blob(xt: Runner) -> None:
    ok(xt("containers", "create", "runs"))
    for args in (("cat", "runs/nope.txt"), ("download", "runs/nope.txt", "x"),
                 ("props", "runs/nope.txt"), ("rm", "runs/nope.txt"),
                 ("cp", "runs/nope.txt", "runs/b.txt")):
        line = one_error_line(xt(*args))
        assert "service 'local'" in line and "container 'runs'" in line, line
        assert "nope.txt" in line and "xtstore ls" in line, line


def test_missing_container(xt: Runner, services: Services) -> None:
    (services.work / "f.txt").write_text("x")
    for args in (("ls", "nosuch"), ("cat", "nosuch/a.txt"), ("upload", "f.txt", "nosuch/f"),
                 ("append", "other:nosuch/log", "x"), ("containers", "delete", "nosuch")):
        line = one_error_line(xt(*args))
        assert "container 'nosuch'" in line and "xtstore containers" in line, line


def test_bad_addresses(xt: Runner) -> None:
    line = one_error_line(xt("ls", "Bad_Name/x"))
    assert "invalid container name" in line and "'Bad_Name'" in line
    line = one_error_line(xt("cat", ":runs/x"), code=2)
    assert "service" in line and "--help" in line
    one_error_line(xt("cat", "runs"), code=2)
    one_error_line(xt("upload", "missing-local-file", "runs/x"))
    line = one_error_line(xt("ls", "nowhere:runs"))
    assert "unknown service 'nowhere'" in line


def test_usage_errors_exit_2_in_one_line(xt: Runner) -> None:
    one_error_line(xt("no-such-command"), code=2)
    one_error_line(xt("ls", "--no-such-option"), code=2)
    one_error_line(xt("upload", "only-one-arg"), code=2)


def test_broken_config(xt: Runner, services: Services, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("xt-services:\n    storage: ghost\n", encoding="utf-8")
    line = one_error_line(xt("--config", str(broken), "ls"))
    assert "ghost" in line and "config --validate" in line
    one_error_line(xt("--config", str(tmp_path / "absent.yaml"), "ls"))


def test_debug_shows_the_traceback(xt: Runner, services: Services) -> None:
    for args in (("--debug", "cat", "nosuch/a.txt"),
                 ("--config", str(services.config), "--debug", "cat", "nosuch/a.txt")):
        result = xt(*args)
        assert result.returncode == 1
        assert b"Traceback" in result.stderr and b"ContainerNotFound" in result.stderr


def test_bare_command_prints_help_and_exits_2(xt: Runner) -> None:
    result = xt()
    assert result.returncode == 2
    assert result.stderr.decode().startswith("Usage: xtstore")
    assert b"check-provider" in result.stderr


def test_a_folder_where_a_blob_is_needed_is_one_message(xt: Runner) -> None:
    ok(xt("containers", "create", "runs"))
    ok(xt("append", "runs/exp1/run1/log.txt", "x"))
    # Before 2.5: "blob not found" for cat/props/snapshot, a store-file name clash for append.
    for args in (("cat", "runs/exp1"), ("cat", "runs/exp1/"), ("props", "runs/exp1/run1"),
                 ("snapshot", "runs/exp1"), ("append", "runs/exp1", "more"),
                 ("meta", "runs/exp1"), ("snapshot", "--list", "runs/exp1")):
        line = one_error_line(xt(*args))
        assert line.endswith("blob 'exp1': it is a folder: use ls or download -r") or \
            line.endswith("blob 'exp1/run1': it is a folder: use ls or download -r"), (args, line)
        assert "service 'local', container 'runs'" in line
    assert ok(xt("ls", "-r", "runs")).split() == ["exp1/run1/log.txt"]


def test_a_missing_path_is_one_message_in_every_command(xt: Runner) -> None:
    ok(xt("containers", "create", "runs"))
    ok(xt("append", "runs/exp1/log.txt", "x"))
    expected = ("xtstore: error: service 'local', container 'runs', blob 'exp1/nope': "
                "no blob or folder by this name (see 'xtstore ls local:runs/exp1')")
    # Before 2.5 the same mistake read "blob not found", "no folder by this name" or "no blob
    # or folder by this name", with a hint naming no place to look.
    for args in (("ls", "runs/exp1/nope"), ("ls", "runs/exp1/nope/"), ("cat", "runs/exp1/nope"),
                 ("download", "runs/exp1/nope", "x"), ("rm", "runs/exp1/nope"),
                 ("rm", "-r", "runs/exp1/nope/"), ("props", "runs/exp1/nope"),
                 ("meta", "runs/exp1/nope"), ("snapshot", "runs/exp1/nope"),
                 ("du", "runs/exp1/nope")):
        assert one_error_line(xt(*args)) == expected, args
    line = one_error_line(xt("cat", "other:runs/nope"))
    assert "service 'other', container 'runs', blob 'nope': container not found" in line
    ok(xt("containers", "create", "other:runs"))
    assert one_error_line(xt("cat", "other:runs/nope")).endswith(
        "(see 'xtstore ls other:runs')")


def test_did_you_mean_for_a_container_and_a_service(xt: Runner) -> None:
    ok(xt("containers", "create", "runs", "datasets"))
    for args in (("ls", "rusn"), ("cat", "rnus/log.txt"), ("download", "runss/x", "y"),
                 ("du", "rns")):
        line = one_error_line(xt(*args))
        assert line.endswith("container not found (did you mean 'runs'? see 'xtstore "
                             "containers' for the containers that exist)"), line
    line = one_error_line(xt("ls", "zzzzzz"))
    assert "did you mean" not in line and "see 'xtstore containers'" in line
    line = one_error_line(xt("ls", "lokal:runs"))
    assert "unknown service 'lokal'" in line
    assert line.endswith("(did you mean 'local'? see 'xtstore services' for the services "
                         "configured)"), line
