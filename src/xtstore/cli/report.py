"""The end of a many-file command: one summary, every failed file with its one-line error, and
the exit code (docs/cli.md "Summaries and exit codes").

``upload``, ``download``, ``cp``, ``mv``, ``sync`` and ``rm`` all end here, so they count and word
their results alike: ``synced: 3 copied (1.2 MiB), 197 skipped, 2 deleted, 1 failed in
0.4s``, then ``xtstore: error: <path>: <reason> (<hint>)`` for each failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import click

from xtstore.cli.errors import EXIT_ERROR, describe, hint_for, interrupted, report
from xtstore.cli.output import emit_json, human_bytes, human_duration
from xtstore.transfer import Failure, TransferSummary

__all__ = ["Outcome", "Planned", "finish", "show_plan"]

SYNC_RESUMES = "running the same sync again resumes where this one stopped"


@dataclass
class Outcome:
    """What a command did: ``summary`` is the transfer batch's (copies or deletions);
    ``skipped`` counts files left alone because the destination already had them,
    ``deleted`` the extras removed (``sync --delete``), ``failures`` adds failures found
    outside the batch (a deletion that failed, say)."""

    verb: str
    summary: TransferSummary = field(default_factory=TransferSummary)
    skipped: int = 0
    deleted: int = 0
    failures: list[Failure] = field(default_factory=list)
    interrupted: bool = False
    planned: int | None = None
    """How many transfers were planned (for "interrupted after 12 of 200")."""
    resumes: str = SYNC_RESUMES
    """What to run to finish the job after an interruption."""

    @property
    def all_failures(self) -> list[Failure]:
        return [*self.summary.failures, *self.failures]


def summary_text(outcome: Outcome) -> str:
    """``uploaded: 3 copied (1.2 MiB), 197 skipped, 1 failed in 0.40s``."""
    summary = outcome.summary
    parts = []
    if summary.files or not outcome.deleted:  # rm copies nothing: "5 deleted" alone
        parts.append(f"{summary.files} copied ({human_bytes(summary.bytes)})")
    if outcome.skipped:
        parts.append(f"{outcome.skipped} skipped")
    if outcome.deleted:
        parts.append(f"{outcome.deleted} deleted")
    failed = len(outcome.all_failures)
    if failed:
        parts.append(f"{failed} failed")
    return f"{outcome.verb}: {', '.join(parts)} in {human_duration(summary.seconds)}"


def finish(outcome: Outcome, *, as_json: bool, quiet: bool) -> int:
    """Print the outcome (JSON on stdout with ``--json``; the summary on stderr unless
    ``quiet``; each failure on stderr always) and return the exit code: 0, 1 if any file
    failed, 130 if interrupted."""
    failures = outcome.all_failures
    if as_json:
        summary = outcome.summary
        emit_json({
            "copied": summary.files, "bytes": summary.bytes, "skipped": outcome.skipped,
            "deleted": outcome.deleted, "seconds": round(summary.seconds, 3),
            "failed": [{"path": failure.label, "error": describe(failure.error)}
                       for failure in failures],
            "interrupted": outcome.interrupted,
        })
    for failure in failures:
        report(f"{failure.label}: {describe(failure.error)}", hint_for(failure.error))
    if not quiet and not as_json:
        click.echo(f"xtstore: {summary_text(outcome)}", err=True)
    if outcome.interrupted:
        finished = outcome.summary.files + len(failures)
        planned = f" of {outcome.planned}" if outcome.planned is not None else ""
        click.echo(f"xtstore: interrupted after {finished}{planned} files: {outcome.resumes}",
                   err=True)
        return interrupted()  # the last line, as for any command stopped by Ctrl-C
    return EXIT_ERROR if failures else 0


class Planned(NamedTuple):
    """One action a ``--dry-run`` would take: ``copy`` (``source`` to ``dest``, ``size``
    bytes; ``sync`` says why in ``reason``) or ``delete`` (``dest``)."""

    action: str
    dest: str
    source: str | None = None
    size: int | None = None
    reason: str | None = None

    def line(self) -> str:
        if self.source is None:
            return f"{self.action} {self.dest}"
        size = f" ({human_bytes(self.size)})" if self.size is not None else ""
        return f"{self.action} {self.source} -> {self.dest}{size}"


def show_plan(actions: list[Planned], *, skipped: int, as_json: bool, quiet: bool) -> int:
    """``--dry-run``: one line per action on stdout (a JSON list with ``--json``), then
    ``xtstore: dry run: would copy 3 files (1.2 MiB), delete 2; 197 skipped`` on stderr;
    returns the exit code (0)."""
    if as_json:
        emit_json([{key: value for key, value in action._asdict().items() if value is not None}
                   for action in actions])
    else:
        for action in actions:
            click.echo(action.line())
    if not quiet and not as_json:
        copies = [action for action in actions if action.action == "copy"]
        deletes = sum(1 for action in actions if action.action == "delete")
        noun = "file" if len(copies) == 1 else "files"
        size = human_bytes(sum(action.size or 0 for action in copies))
        text = f"would copy {len(copies)} {noun} ({size})"
        if deletes:
            text += f", delete {deletes}"
        if skipped:
            text += f"; {skipped} skipped"
        click.echo(f"xtstore: dry run: {text}", err=True)
    return 0
