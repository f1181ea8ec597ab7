"""Options shared by several commands, declared once (docs/cli.md "Common options").

The global options (``--config``, ``--service``, ``--json``, ``-q``, ``--debug``) are accepted
before the command and after it: :func:`add_global_options` gives every command its own copy,
which writes into the one :class:`~xtstore.cli.context.CliState`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from xtstore.cli.context import CliState, start_debug_logging
from xtstore.cli.filters import PathFilter

__all__ = [
    "add_global_options",
    "checksum_option",
    "dry_run_option",
    "fail_fast_option",
    "filter_options",
    "global_option_params",
    "path_filter",
    "progress_option",
    "skip_invalid_option",
    "workers_option",
]

F = TypeVar("F", bound=Callable[..., Any])


def _into_state(attribute: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        state = ctx.find_object(CliState)
        if state is None:
            return
        if getattr(state, attribute) == value:
            return
        setattr(state, attribute, value)
        if attribute in ("config_file", "service"):
            state.forget_stores()
        elif attribute == "debug":
            start_debug_logging()

    return callback


def global_option_params() -> list[click.Option]:
    """New ``click.Option`` objects for the global options (one set per command)."""
    return [
        click.Option(["--config", "config_file"], metavar="FILE",
                     type=click.Path(dir_okay=False), expose_value=False,
                     callback=_into_state("config_file"),
                     help="Config file merged over the defaults (else $XTSTORE_CONFIG)."),
        click.Option(["--service"], metavar="NAME", expose_value=False,
                     callback=_into_state("service"),
                     help="Service for addresses without 'service:'."),
        click.Option(["--debug"], is_flag=True, expose_value=False,
                     callback=_into_state("debug"), help="Show tracebacks and debug logs."),
        click.Option(["--json", "json"], is_flag=True, expose_value=False,
                     callback=_into_state("json"), help="Machine-readable output."),
        click.Option(["-q", "--quiet", "quiet"], is_flag=True, expose_value=False,
                     callback=_into_state("quiet"), help="No progress or summaries."),
    ]


def add_global_options(command: click.Command) -> None:
    """Give ``command`` (and each subcommand of a group) the global options, unless it
    declares an option of the same name itself."""
    taken = {name for param in command.params for name in getattr(param, "opts", ())}
    for option in global_option_params():
        if not taken.intersection(option.opts):
            command.params.append(option)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_global_options(sub)


def filter_options(function: F) -> F:
    """``--include PATTERN`` and ``--exclude PATTERN`` (repeatable; :mod:`xtstore.cli.filters`)
    as ``include`` and ``exclude`` tuples: :func:`path_filter` makes them one filter."""
    function = click.option(
        "--exclude", multiple=True, metavar="PATTERN",
        help="Leave out paths matching PATTERN (gitignore-style: *, ?, **, [a-z], {a,b}; "
             "repeatable).")(function)
    return click.option(
        "--include", multiple=True, metavar="PATTERN",
        help="Take only paths matching PATTERN (repeatable).")(function)


def path_filter(include: tuple[str, ...], exclude: tuple[str, ...]) -> PathFilter:
    """The filter of ``--include`` / ``--exclude``; a pattern that matches no name is a usage
    error."""
    try:
        return PathFilter.of(include, exclude)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--include' / '--exclude'") from None


def dry_run_option(function: F) -> F:
    """``--dry-run`` / ``-n`` as ``dry_run: bool``: print the plan, change nothing."""
    return click.option("--dry-run", "-n", "dry_run", is_flag=True,
                        help="Print what would be done; change nothing.")(function)


def fail_fast_option(function: F) -> F:
    """``--fail-fast`` as ``fail_fast: bool``: stop at the first failed file."""
    return click.option("--fail-fast", is_flag=True,
                        help="Stop at the first file that fails (default: do the rest, list "
                             "every failure, exit 1).")(function)


def checksum_option(function: F) -> F:
    """``--checksum`` / ``-c`` as ``checksum: bool``: compare content hashes."""
    return click.option("--checksum", "-c", is_flag=True,
                        help="Compare content hashes, not sizes and times.")(function)


def progress_option(function: F) -> F:
    """``-P`` / ``--progress`` as ``progress: bool``: report progress even in a pipe."""
    return click.option("-P", "--progress", is_flag=True,
                        help="Show progress even when stderr is not a terminal (one line per "
                             "file there).")(function)


def skip_invalid_option(function: F) -> F:
    """``--skip-invalid`` as ``skip_invalid: bool`` (see resolve.checked_blob_names)."""
    return click.option("--skip-invalid", is_flag=True,
                        help="Skip files whose names cannot be blob names (a warning line "
                             "each) instead of refusing the whole command.")(function)


def workers_option(function: F) -> F:
    """``--workers`` / ``-w`` as ``workers: int | None`` (None: :func:`xtstore.transfer.
    workers_for` picks)."""
    # Imported when a command module declares the option, not when main.py loads this one.
    from xtstore.transfer import DEFAULT_WORKERS

    return click.option(
        "--workers", "-w", type=click.IntRange(min=1), default=None,
        help=f"Files transferred at the same time [default: {DEFAULT_WORKERS}; 1 for small "
             "files when every store is local].")(function)
