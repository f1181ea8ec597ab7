"""The top ``xtstore`` group (docs/contract.md §5) and the run of one command line.

A command's module is imported only when that command runs (or for ``xtstore --help``, which
shows every summary), and cloud SDKs only when a command opens a store, so start-up is fast.
The console script's entry point is :func:`xtstore.cli.main.main`, which answers
``xtstore --version`` before this module (and click) loads.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from xtstore import __version__
from xtstore.cli import errors
from xtstore.cli.context import CliState, CommandGroup, require_utf8, start_debug_logging
from xtstore.cli.options import add_global_options
from xtstore.secrets import redact

__all__ = ["COMMAND_MODULES", "cli", "run"]


# Every command with the module of xtstore.cli that defines it (in its COMMANDS), in the order
# 'xtstore --help' lists them. tests/cli/test_help.py checks this against the modules.
COMMAND_MODULES: dict[str, str] = {
    "config": "cmd_config", "services": "cmd_config", "providers": "cmd_config",
    "containers": "cmd_containers", "ls": "cmd_ls", "du": "cmd_du",
    "cat": "cmd_blobs", "append": "cmd_blobs", "rm": "cmd_blobs", "snapshot": "cmd_blobs",
    "props": "cmd_blobs", "meta": "cmd_blobs",
    "upload": "cmd_transfer", "download": "cmd_transfer", "cp": "cmd_transfer",
    "mv": "cmd_transfer",
    "check-provider": "cmd_check", "sync": "cmd_sync", "check": "cmd_sync",
}


def _prepared(command: click.Command) -> click.Command:
    """``command`` as the group runs it: global options added, text parameters UTF-8."""
    # '-h' is help for 'xtstore' only: on a command it may mean something else (ls -lh).
    command.context_settings.setdefault("help_option_names", ["--help"])
    add_global_options(command)
    require_utf8(command)
    return command


class _Group(CommandGroup):
    """The top group: loads a command's module when the command is named (click's lazy group
    pattern), and turns Ctrl-C inside a command into exit code 130."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f"xtstore.cli.{COMMAND_MODULES[cmd_name]}")
            for command in module.COMMANDS:
                if command.name not in self.commands:
                    self.add_command(_prepared(command))
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        # click would turn Ctrl-C into a generic Abort; keep it distinct (exit code 130).
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted() from None


class _Interrupted(Exception):
    """Ctrl-C inside a command, after the command cleaned up."""


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Config file merged over the defaults (else $XTSTORE_CONFIG).")
@click.option("--service", metavar="NAME", help="Service for addresses without 'service:'.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summaries.")
# The version given, not looked up: importlib.metadata would cost some 15 ms at each --version.
@click.version_option(__version__, prog_name="xtstore")
@click.pass_context
def cli(
    ctx: click.Context,
    config_file: str | None,
    service: str | None,
    debug: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Containers and blobs on any configured store, XT's storage commands.

    ADDRESS is [service:]container[/path]; wildcards * and ? match within a folder, **
    across folders.
    """
    # main() made the state, so that its error path can read the stores this command opened.
    state = ctx.ensure_object(CliState)
    state.config_file, state.service, state.debug = config_file, service, debug
    state.json, state.quiet = as_json, quiet
    state.settle()  # the command's module is imported by now
    if debug:
        start_debug_logging()


require_utf8(cli)


_VALUED_OPTIONS = frozenset({"--config", "--service"})


def _debug_requested(args: Sequence[str]) -> bool:
    # Read from argv too: an error while parsing happens before any callback runs. The global
    # options may come before or after the command; '--' ends the options.
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--":
            return False
        elif arg == "--debug":
            return True
        elif arg in _VALUED_OPTIONS:
            skip = True
    return False


def run(args: Sequence[str], *, own_process: bool = False) -> int:
    """Run the command line ``args`` (without the program name) and return the exit code;
    ``own_process``: it is the process's own (:attr:`CliState.own_process`)."""
    args = list(args)
    debug = _debug_requested(args)
    state = CliState(own_process=own_process)
    code: Any
    try:
        code = cli.main(args, prog_name="xtstore", standalone_mode=False, obj=state)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.exceptions.Abort as abort:
        if isinstance(abort.__context__, KeyboardInterrupt):
            return errors.interrupted()
        errors.report("aborted")
        return errors.EXIT_ERROR
    except (KeyboardInterrupt, _Interrupted):
        return errors.interrupted()
    except Exception as error:
        if debug and not isinstance(error, click.ClickException):
            import traceback  # --debug only

            # The traceback, as Python would print it, with every secret redacted: a chained
            # SDK exception may quote a signed URL or a header.
            sys.stderr.write(redact("".join(traceback.format_exception(error))))
            sys.stderr.flush()
            return errors.EXIT_ERROR
        return errors.exit_for(error, state)
    return code if isinstance(code, int) else 0

