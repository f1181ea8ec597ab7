"""``xtstore --help`` shows each command's summary whole (click cuts it at about 45
characters), at any terminal width, for the top command and its groups."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import subprocess
import sys

import click
import pytest

import xtstore
from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok, subcommands
from xtstore.cli.main import COMMAND_MODULES, cli


def first_sentence(command: click.Command) -> str:
    """The summary a reader needs: the docstring's first sentence (a full stop inside
    parentheses, as in "(e.g. pkg.Class)", does not end it)."""
    if command.short_help:
        return command.short_help
    text = (command.help or "").split("\n\n")[0]
    ends = [match.end() for match in re.finditer(r"\.(\s|$)", text)
            if text[:match.end()].count("(") <= text[:match.end()].count(")")]
    return text[:ends[0]] if ends else text


GROUPS = [([], cli)] + [([name], command) for name, command in subcommands(cli).items()
                        if isinstance(command, click.Group)]


@pytest.mark.parametrize("columns", ["40", "200"])
@pytest.mark.parametrize(("args", "group"), GROUPS,
                         ids=[" ".join(["xtstore", *args]) for args, _ in GROUPS])
def test_help_shows_every_summary_whole(xt: Runner, services: Services, columns: str,
                                        args: list[str], group: click.Group) -> None:
    text = ok(xt(*args, "--help", env={**services.env, "COLUMNS": columns}))
    commands = text[text.index("Commands:"):]
    # Compared without whitespace: a narrow terminal wraps lines and splits a long word.
    flowing = "".join(commands.split())
    assert "..." not in commands
    for name, command in subcommands(group).items():
        summary = first_sentence(command)
        assert len(summary) > 10, name
        assert name + "".join(summary.split()) in flowing, (name, summary, commands)


def test_the_command_table_names_each_modules_commands() -> None:
    """main.COMMAND_MODULES (what lets a command load alone) lists exactly the commands each
    module defines."""
    for module_name in set(COMMAND_MODULES.values()):
        module = importlib.import_module(f"xtstore.cli.{module_name}")
        assert [command.name for command in module.COMMANDS] == [
            name for name, owner in COMMAND_MODULES.items() if owner == module_name]


def test_a_command_loads_only_its_own_module() -> None:
    """Start-up imports only the named command's module (and none for --version)."""
    script = ("import sys; from xtstore.cli.main import main; code = main(sys.argv[1:]); "
              "print(sorted(m for m in sys.modules if m.startswith('xtstore.cli.cmd_')))")
    for args, loaded in [(["--version"], "[]"),
                         (["sync", "--help"], "['xtstore.cli.cmd_sync']")]:
        run = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                             check=True)
        assert run.stdout.decode().splitlines()[-1] == loaded, (args, run.stdout)


def test_version_is_the_installed_distributions(xt: Runner, services: Services) -> None:
    """``--version`` prints ``xtstore.__version__``, which must match the package metadata."""
    assert xtstore.__version__ == importlib.metadata.version("xtstore")
    assert ok(xt("--version", env=services.env)) == f"xtstore, version {xtstore.__version__}\n"
