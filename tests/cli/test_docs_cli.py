"""docs/cli.md documents every command and every option of the command line (issue 2.5,
must-show 4): the click command tree is walked, so a command or flag added without docs fails
here, with the list of what is missing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from tests.cli.helpers import subcommands
from xtstore.cli.main import cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def walk(group: click.Group, path: tuple[str, ...] = ()
         ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command below ``group`` with its words (``("containers", "create")``)."""
    for name, command in subcommands(group).items():
        words = (*path, name)
        yield words, command
        if isinstance(command, click.Group):
            yield from walk(command, words)


def option_names(command: click.Command) -> list[str]:
    """The command's option strings (``--include``, ``-n``), without ``--help``."""
    names: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option):
            names += [name for name in (*param.opts, *param.secondary_opts)
                      if name != "--help"]
    return names


def code_spans(text: str) -> list[list[str]]:
    """The words of every `code span` and fenced line, brackets and pipes dropped, a leading
    ``xtstore`` or ``$ xtstore`` removed."""
    spans = re.findall(r"`([^`\n]+)`", text)
    spans += [line for line in re.findall(r"^\$? ?xtstore [^\n]+$", text, flags=re.MULTILINE)]
    words = []
    for span in spans:
        tokens = re.sub(r"[\[\]|]", " ", span).split()
        if tokens[:1] == ["$"]:
            tokens = tokens[1:]
        if tokens[:1] == ["xtstore"]:
            tokens = tokens[1:]
        words.append(tokens)
    return words


def command_documented(words: tuple[str, ...], spans: list[list[str]]) -> bool:
    """Whether some code span starts with the command's first word and holds the others in
    order after it (`containers [list [SERVICE]]` documents `containers list`)."""
    for tokens in spans:
        if tokens[:1] != [words[0]]:
            continue
        rest = iter(tokens[1:])
        if all(word in rest for word in words[1:]):
            return True
    return False


def option_documented(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def missing_from(text: str) -> list[str]:
    spans = code_spans(text)
    missing = []
    for words, command in walk(cli):
        shown = "xtstore " + " ".join(words)
        if not command_documented(words, spans):
            missing.append(f"command '{shown}'")
        missing += [f"option {name} of '{shown}'" for name in option_names(command)
                    if not option_documented(name, text)]
    missing += [f"option {name} of 'xtstore'" for name in option_names(cli)
                if not option_documented(name, text)]
    return missing


def test_cli_md_documents_every_command_and_option() -> None:
    missing = missing_from(DOCS.read_text(encoding="utf-8"))
    assert not missing, "docs/cli.md does not mention:\n  " + "\n  ".join(missing)


def test_the_check_sees_a_missing_command_and_a_missing_flag() -> None:
    text = DOCS.read_text(encoding="utf-8")
    name, command = next((name, command) for name, command in subcommands(cli).items()
                         if option_names(command))
    flag = next(name for name in option_names(command) if name.startswith("--"))
    stripped = re.sub(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", "", text)
    stripped = re.sub(rf"`(\$ )?(xtstore )?{re.escape(name)}\b", "`", stripped)
    stripped = re.sub(rf"^\$? ?xtstore {re.escape(name)}\b.*$", "", stripped,
                      flags=re.MULTILINE)
    missing = missing_from(stripped)
    assert f"command 'xtstore {name}'" in missing
    assert any(item.startswith(f"option {flag} of ") for item in missing)
