"""The one place errors become a message and an exit code.

Store and config errors, missing local files and usage mistakes each print one line on stderr
(``xtstore: error: ...``) with a hint of what to do; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import click

from xtstore.errors import (
    AccessDenied,
    BlobNotFound,
    ConfigError,
    ContainerAlreadyExists,
    ContainerNotFound,
    InvalidName,
    ProviderLoadError,
    StoreError,
    TransientError,
    Unsupported,
)
from xtstore.secrets import redact

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "describe",
    "exit_for",
    "hint_for",
    "interrupted",
    "report",
]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C

# click >= 8.2 raises this for a group called without a command (older versions exit 0).
_NO_ARGS_IS_HELP: tuple[type[click.UsageError], ...] = tuple(
    cls for cls in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if cls is not None
)


# The first type that matches gives the hint; None where the reason already says what to do.
_HINTS: tuple[tuple[type[StoreError], str | None], ...] = (
    (ContainerNotFound, "see 'xtstore containers' for the containers that exist"),
    (BlobNotFound, "see 'xtstore ls' for the blobs that exist"),
    (ContainerAlreadyExists, "choose another name or use the existing container"),
    (InvalidName, None),  # the reason states the rule
    (AccessDenied, "check the service's credentials in the config"),
    (TransientError, "the store may be busy or unreachable; try again"),
    (Unsupported, "this service's provider cannot do it; see its capabilities"),
)


def hint_for(error: BaseException) -> str | None:
    """What the user can do about ``error``, or None."""
    if isinstance(error, ConfigError):
        if error.hint is not None:
            return error.hint
        from_file = error.file is not None and not error.file.startswith("<")
        if isinstance(error, ProviderLoadError) and not from_file:
            return None  # a code path given directly: the reason already says what is wrong
        return "fix the file, then check it with 'xtstore config --validate'"
    for error_type, hint in _HINTS:
        if isinstance(error, error_type):
            return hint
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def report(message: str, hint: str | None = None) -> None:
    """Write ``xtstore: error: message (hint)`` on stderr, without a secret (the last net
    for an exception that no provider translated)."""
    line = _one_line(redact(message))
    if hint:
        line = f"{line} ({hint})"
    click.echo(f"xtstore: error: {line}", err=True)


def describe(error: BaseException) -> str:
    """The message for an error that reached the top."""
    if isinstance(error, StoreError):
        return str(error)
    if isinstance(error, OSError) and error.filename is not None:
        reason = error.strerror or type(error).__name__
        return f"{error.filename}: {reason}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def exit_for(error: BaseException) -> int:
    """Print ``error`` the CLI way and return the exit code."""
    if isinstance(error, _NO_ARGS_IS_HELP) and isinstance(error, click.UsageError):
        # A bare 'xtstore' or 'xtstore containers ...' group call: the help is the answer.
        click.echo(error.format_message(), err=True)
        return EXIT_USAGE
    if isinstance(error, click.UsageError):
        command = error.ctx.command_path if error.ctx is not None else "xtstore"
        report(error.format_message(), f"see '{command} --help'")
        return EXIT_USAGE
    if isinstance(error, click.ClickException):
        report(error.format_message())
        return error.exit_code
    report(describe(error), hint_for(error))
    return EXIT_ERROR


def interrupted() -> int:
    sys.stderr.write("xtstore: interrupted\n")
    sys.stderr.flush()
    return EXIT_INTERRUPTED
