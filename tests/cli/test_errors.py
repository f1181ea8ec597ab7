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
