"""Habits rclone and aws users bring: global options after the command, ``-h`` free for
human sizes, ``append -n``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tests.cli.conftest import Runner, Services, write_config
from tests.cli.helpers import ok, one_error_line, subcommands
from xtstore.cli.main import cli


def test_json_quiet_and_service_after_the_command(xt: Runner, services: Services) -> None:
    # Before 2.5 these were accepted only before the command.
    ok(xt("containers", "create", "runs", "other:backup"))
    (services.work / "f.txt").write_bytes(b"abc")
    upload = xt("upload", "f.txt", "runs/f.txt", "-q")
    assert ok(upload) == "" and upload.stderr == b""
    assert json.loads(ok(xt("ls", "runs", "--json"))) [0]["name"] == "f.txt"
    assert json.loads(ok(xt("props", "runs/f.txt", "--json")))["size"] == 3
    assert json.loads(ok(xt("containers", "list", "--json"))) == ["runs"]
    assert ok(xt("ls", "--service", "other")).split() == ["backup"]
    assert json.loads(ok(xt("ls", "--service", "other", "--json"))) == ["backup"]
    ok(xt("append", "backup/log.txt", "x", "--service", "other"))
    assert ok(xt("cat", "backup/log.txt", "--service", "other")) == "x"
    # Given both before and after, the one after the command wins.
    assert ok(xt("--service", "local", "ls", "--service", "other")).split() == ["backup"]


def test_config_after_the_command_selects_that_file(xt: Runner, services: Services,
                                                    tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    write_config(elsewhere, tmp_path / "elsewhere-local", tmp_path / "elsewhere-other")
    ok(xt("containers", "create", "only-in-elsewhere", "--config", str(elsewhere)))
    assert ok(xt("ls", "--config", str(elsewhere))).split() == ["only-in-elsewhere"]
    assert ok(xt("ls")).split() == []  # $XTSTORE_CONFIG's store was not touched
    assert (tmp_path / "elsewhere-local" / "only-in-elsewhere").is_dir()
    line = one_error_line(xt("ls", "--config", str(tmp_path / "absent.yaml")))
    assert "absent.yaml" in line


def test_debug_after_the_command_shows_the_traceback(xt: Runner) -> None:
    result = xt("cat", "nosuch/a.txt", "--debug")
    assert result.returncode == 1
    assert b"Traceback" in result.stderr and b"ContainerNotFound" in result.stderr
    # Without it: one line, no traceback.
    assert b"Traceback" not in xt("cat", "nosuch/a.txt").stderr


def test_append_n_adds_a_newline(xt: Runner) -> None:
    ok(xt("containers", "create", "runs"))
    ok(xt("append", "-n", "runs/log.txt", "epoch 1"))
    ok(xt("append", "--newline", "runs/log.txt", "epoch 2"))
    ok(xt("append", "runs/log.txt", "-n", "-", input=b"epoch 3"))
    ok(xt("append", "runs/log.txt", "no newline"))
    assert xt("cat", "runs/log.txt").stdout == b"epoch 1\nepoch 2\nepoch 3\nno newline"


def _commands(group: click.Group, path: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in subcommands(group).items():
        found[f"{path}{name}"] = command
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{path}{name} "))
    return found


def test_h_means_human_sizes_on_ls_and_du_and_help_nowhere_else(xt: Runner) -> None:
    with_h = sorted(name for name, command in _commands(cli).items()
                    if any("-h" in getattr(param, "opts", ()) for param in command.params))
    assert with_h == ["du", "ls"]
    for name, command in _commands(cli).items():
        assert command.get_help_option_names(click.Context(command)) == ["--help"], name
    top = xt("-h")
    assert top.returncode == 0 and ok(top).startswith("Usage: xtstore [OPTIONS] COMMAND")
    assert "Commands:" in ok(top)
    line = one_error_line(xt("rm", "-h"), code=2)
    assert "No such option" in line and "-h" in line
