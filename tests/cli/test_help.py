"""``xtstore --help`` shows each command's summary whole (click cuts it at about 45
characters), at any terminal width, for the top command and its groups."""

from __future__ import annotations

import re

import click
import pytest

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok
from xtstore.cli.main import cli


def first_sentence(command: click.Command) -> str:
    """The summary a reader needs: the docstring's first sentence (a full stop inside
    parentheses, as in "(e.g. pkg.Class)", does not end it)."""
    if command.short_help:
        return command.short_help
    text = (command.help or "").split("\n\n")[0]
    ends = [match.end() for match in re.finditer(r"\.(\s|$)", text)
            if text[:match.end()].count("(") <= text[:match.end()].count(")")]
    return text[:ends[0]] if ends else text


GROUPS = [([], cli)] + [([name], command) for name, command in cli.commands.items()
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
    for name, command in group.commands.items():
        summary = first_sentence(command)
        assert len(summary) > 10, name
        assert name + "".join(summary.split()) in flowing, (name, summary, commands)
