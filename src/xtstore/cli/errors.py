"""The one place errors become a message and an exit code.

Store and config errors, missing local files and usage mistakes each print one line on stderr
(``xtstore: error: ...``) with a hint of what to do; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from xtstore.cli.context import CliState
    from xtstore.store import Store

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "FolderNotBlob",
    "close_match",
    "describe",
    "exit_for",
    "hint_for",
    "interrupted",
    "missing_path",
    "not_a_blob",
    "report",
]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C

# click >= 8.2 raises this for a group called without a command (older versions exit 0).
_NO_ARGS_IS_HELP: tuple[type[click.UsageError], ...] = tuple(
    cls for cls in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if cls is not None
)


MISSING_REASON = "no blob or folder by this name"
"""The one wording for a path that names nothing, whichever command was given it."""

FOLDER_REASON = "it is a folder: use ls or download -r"
"""The one wording for a folder given where a blob is needed (cat, props, snapshot, append)."""


class FolderNotBlob(BlobNotFound):
    """A command that reads or writes one blob was given a folder."""


def missing_path(service: str | None, container: str, path: str) -> BlobNotFound:
    """The error for ``path`` naming neither a blob nor a folder (its hint shows where to
    look: ``see 'xtstore ls service:container/parent'``)."""
    return BlobNotFound(MISSING_REASON, service=service, container=container, blob=path)


def not_a_blob(store: Store, container: str, path: str) -> BlobNotFound:
    """What to say when a one-blob command found no blob at ``path``: :class:`FolderNotBlob`
    if blobs lie below it, else :func:`missing_path`. Costs one listing, so call it on the
    error path only."""
    service = store.get_service_name()
    below = store.iter_blobs(container, path + "/", recursive=False)
    if any(True for _ in below):
        return FolderNotBlob(FOLDER_REASON, service=service, container=container, blob=path)
    return missing_path(service, container, path)


def close_match(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to a mistyped ``name`` ("did you mean ...?"), or None."""
    import difflib

    candidates = [candidate for candidate in known if candidate != name]
    matches = difflib.get_close_matches(name, candidates, n=1)
    return matches[0] if matches else None


def _look_in(error: StoreError) -> str:
    """``see 'xtstore ls service:container/parent'`` for a path that names nothing."""
    service = f"{error.service}:" if error.service else ""
    parent = error.blob.rstrip("/").rpartition("/")[0] if error.blob else ""
    where = f"{service}{error.container}" + (f"/{parent}" if parent else "")
    return f"see 'xtstore ls {where}'"


# The first type that matches gives the hint; None where the reason already says what to do.
_HINTS: tuple[tuple[type[StoreError], str | None], ...] = (
    (ContainerNotFound, "see 'xtstore containers' for the containers that exist"),
    (FolderNotBlob, None),
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
    if isinstance(error, BlobNotFound) and not isinstance(error, FolderNotBlob) \
            and error.container is not None:
        return _look_in(error)
    for error_type, hint in _HINTS:
        if isinstance(error, error_type):
            return hint
    return None


def _suggestion(error: BaseException, state: CliState | None) -> str | None:
    """"did you mean 'runs'?" for a container that does not exist, from one listing of the
    store the command had already opened (never a new connection on the way out)."""
    if state is None or not isinstance(error, ContainerNotFound) or error.container is None:
        return None
    store = state.opened_store(error.service)
    if store is None:
        return None
    try:
        match = close_match(error.container, store.list_containers())
    except Exception:  # the listing is a courtesy: any failure just means no suggestion
        return None
    return f"did you mean {match!r}?" if match else None


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


def exit_for(error: BaseException, state: CliState | None = None) -> int:
    """Print ``error`` the CLI way and return the exit code (``state``: the command's, for a
    "did you mean" from the store it opened)."""
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
    hint = hint_for(error)
    suggestion = _suggestion(error, state)
    if suggestion is not None:
        hint = f"{suggestion} {hint}" if hint else suggestion
    report(describe(error), hint)
    return EXIT_ERROR


def interrupted() -> int:
    sys.stderr.write("xtstore: interrupted\n")
    sys.stderr.flush()
    return EXIT_INTERRUPTED
