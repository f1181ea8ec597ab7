"""Command-line arguments that are not UTF-8 (docs/reliability.md, "Hostile input"): Python
decodes such argv bytes to lone surrogates, which no store can hold. Every command that takes
a name or text refuses them while parsing: exit code 2, one line naming the argument and the
byte, within 5 s, before any I/O. Local paths keep any bytes the file system allows."""

from __future__ import annotations

import os

import click
import pytest

from tests.cli.bounded import one_line, run_bounded
from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok, read_tree, subcommands
from xtstore.cli.context import Utf8Text
from xtstore.cli.main import cli

BAD = b"caf\xe9"  # Latin-1, as a shell in a Latin-1 locale passes "café"
REASON = "is not valid UTF-8 (byte 0xe9)"

# (id, the arguments, how the message names the argument)
CASES: list[tuple[str, list[bytes], str]] = [
    ("append-address", [b"append", b"box/" + BAD, b"x"], "'[SERVICE:]CONTAINER/PATH'"),
    ("append-text", [b"append", b"box/a.txt", BAD], "'[TEXT]'"),
    ("append-text-rewrite", [b"append", b"--rewrite", b"box/a.txt", b"ok " + BAD],
     "'[TEXT]'"),
    ("cat", [b"cat", b"box/" + BAD], "'[SERVICE:]CONTAINER/PATH'"),
    ("cat-snapshot", [b"cat", b"--snapshot", BAD, b"box/a.txt"], "'--snapshot'"),
    ("rm", [b"rm", b"box/a.txt", b"box/" + BAD], "'ADDRESS...'"),
    ("rm-snapshot", [b"rm", b"--snapshot", BAD, b"box/a.txt"], "'--snapshot'"),
    ("snapshot", [b"snapshot", b"box/" + BAD], "'[SERVICE:]CONTAINER/PATH'"),
    ("props", [b"props", b"box/" + BAD], "'[SERVICE:]CONTAINER[/PATH]'"),
    ("meta-address", [b"meta", b"box/" + BAD], "'[SERVICE:]CONTAINER[/PATH]'"),
    ("meta-value", [b"meta", b"box/a.txt", b"key=" + BAD], "'[KEY=VALUE]...'"),
    ("meta-key", [b"meta", b"box/a.txt", BAD + b"=v"], "'[KEY=VALUE]...'"),
    ("meta-delete", [b"meta", b"--delete", BAD, b"box/a.txt"], "'--delete'"),
    ("ls", [b"ls", b"box/" + BAD + b"*"], "'[[SERVICE:]CONTAINER[/PATH]]'"),
    ("containers-create", [b"containers", b"create", BAD], "'[SERVICE:]CONTAINER...'"),
    ("containers-delete", [b"containers", b"delete", b"-y", BAD], "'[SERVICE:]CONTAINER...'"),
    ("containers-props", [b"containers", b"props", BAD], "'[SERVICE:]CONTAINER'"),
    ("containers-list", [b"containers", b"list", BAD], "'[SERVICE]'"),
    ("upload-dest", [b"upload", b"local.txt", b"box/" + BAD], "'DEST'"),
    ("download-source", [b"download", b"box/" + BAD, b"out"], "'SOURCE...'"),
    ("cp-source", [b"cp", b"box/" + BAD, b"box/b.txt"], "'SOURCE...'"),
    ("cp-dest", [b"cp", b"box/a.txt", b"box/" + BAD], "'DEST'"),
    ("service-option", [b"--service", BAD, b"ls"], "'--service'"),
    ("service-in-address", [b"ls", BAD + b":box"], "'[[SERVICE:]CONTAINER[/PATH]]'"),
    ("providers-keys", [b"providers", b"--keys", BAD], "'--keys'"),
    ("check-provider-option", [b"check-provider", b"-o", b"k=" + BAD, b"a.b.C"], "'--option'"),
]


@pytest.fixture
def filled(services: Services) -> Services:
    """A local file ``local.txt`` to upload; the store stays empty, as nothing may reach
    it."""
    (services.work / "local.txt").write_bytes(b"local\n")
    return services


@pytest.mark.parametrize("args, names", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_non_utf8_argument_is_a_usage_error(args: list[bytes], names: str,
                                            filled: Services) -> None:
    before = read_tree(filled.local_root)
    line = one_line(run_bounded(args, filled.env, filled.work), code=2)
    assert f"Invalid value for {names}" in line, line
    assert "caf\\xe9" in line and REASON in line, line
    assert read_tree(filled.local_root) == before  # refused before any I/O
    assert not (filled.work / "out").exists()


def test_every_text_parameter_requires_utf8() -> None:
    """No command keeps click's plain string type, which lets surrogates through: a name or
    text is :class:`Utf8Text`, a local path ``click.Path``."""

    def parameters(command: click.Command, path: str) -> list[tuple[str, click.Parameter]]:
        found = [(f"{path} {param.name}", param) for param in command.params]
        if isinstance(command, click.Group):
            for name, sub in subcommands(command).items():
                found += parameters(sub, f"{path} {name}")
        return found

    plain = [where for where, param in parameters(cli, "xtstore")
             if type(param.type) is click.types.StringParamType]
    assert plain == []
    checked = [where for where, param in parameters(cli, "xtstore")
               if isinstance(param.type, Utf8Text)]
    assert {"xtstore service", "xtstore append text", "xtstore meta pairs"} <= set(checked)


def test_local_paths_keep_their_bytes(xt: Runner, filled: Services) -> None:
    """A local file whose name is not UTF-8 still uploads to a blob given a UTF-8 name, and
    downloads to such a name."""
    ok(xt("containers", "create", "box"))
    (filled.work / os.fsdecode(b"data-" + BAD)).write_bytes(b"payload")
    run = run_bounded([b"upload", b"data-" + BAD, b"box/data.bin"], filled.env, filled.work)
    assert run.returncode == 0, run.stderr.decode("utf-8", "backslashreplace")
    assert (filled.local_root / "box" / "data.bin").read_bytes() == b"payload"
    run = run_bounded([b"download", b"box/data.bin", b"back-" + BAD], filled.env,
                      filled.work)
    assert run.returncode == 0, run.stderr.decode("utf-8", "backslashreplace")
    assert (filled.work / os.fsdecode(b"back-" + BAD)).read_bytes() == b"payload"
