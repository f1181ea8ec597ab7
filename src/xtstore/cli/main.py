"""``xtstore``: the command line's entry point (docs/contract.md §5).

``xtstore --version``, the usual probe of an install, is answered here before click, the
commands or the config load (some 50 ms); every other command line runs through the top group
of :mod:`xtstore.cli.group`, which this module names as its own (``cli``, ``COMMAND_MODULES``)
on first use.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING, Any

from xtstore import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

    from xtstore.cli.group import COMMAND_MODULES, cli

__all__ = ["COMMAND_MODULES", "cli", "main"]

# Where click's shell completion is asked for (it reads this variable before any argument).
_COMPLETION_VARIABLE = "_XTSTORE_COMPLETE"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"] and _COMPLETION_VARIABLE not in os.environ:
        return _print_version()
    if argv is None:
        # Until CliState.settle(): the objects start-up makes live as long as the process.
        gc.disable()
    from xtstore.cli.group import run as run_group

    return run_group(args, own_process=argv is None)


def _print_version() -> int:
    """What the group's ``--version`` (click's) prints, with its exit codes: 0 when there is
    no stdout at all, 1 for a closed pipe, and a one-line error for a failed write
    (tests/cli/test_startup.py compares the two)."""
    if sys.stdout is None:
        return 0
    try:
        sys.stdout.write(f"xtstore, version {__version__}\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python's own advice: point stdout at devnull, so that the flush at exit is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:
        from xtstore.cli.errors import exit_for

        return exit_for(error)
    return 0


def run() -> None:
    sys.exit(main())


def __getattr__(name: str) -> Any:
    if name in ("cli", "COMMAND_MODULES"):
        from xtstore.cli import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    run()
