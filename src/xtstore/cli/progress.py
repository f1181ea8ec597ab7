"""Progress reports for transfers: a rich bar on a terminal; off a terminal nothing unless
``-P`` asks (then plain lines, one per finished file); nothing with ``-q``. Every report goes
to stderr so stdout stays clean for ``--json`` and ``cat``."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from xtstore.cli.output import human_bytes, human_duration
from xtstore.transfer import ProgressSink

__all__ = ["PlainProgress", "RichProgress", "make_progress"]

_PLAIN_INTERVAL = 1.0


class PlainProgress:
    """One line at the start and then at most one a second: for logs and pipes. With
    ``per_file``, one line for each finished file instead (``-P`` off a terminal)."""

    def __init__(self, verb: str, stream: TextIO | None = None, *,
                 per_file: bool = False) -> None:
        self.verb = verb
        self.per_file = per_file
        self.stream = stream or sys.stderr
        self.files = 0
        self.total_files = 0
        self.done = 0
        self.total = 0
        self.started = time.monotonic()
        self.last_line = 0.0

    def _write(self, text: str) -> None:
        self.stream.write(f"xtstore: {text}\n")
        self.stream.flush()

    def start(self, files: int, total_bytes: int) -> None:
        self.total_files, self.total = files, total_bytes
        self.started = self.last_line = time.monotonic()
        noun = "file" if files == 1 else "files"
        self._write(f"{self.verb} {files} {noun} ({human_bytes(total_bytes)})")

    def _maybe_report(self) -> None:
        now = time.monotonic()
        if now - self.last_line < _PLAIN_INTERVAL:
            return
        self.last_line = now
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        eta_text = human_duration(eta) if eta is not None else "?"
        self._write(
            f"{self.files}/{self.total_files} files, {human_bytes(self.done)}/"
            f"{human_bytes(self.total)}, {human_bytes(int(rate))}/s, ETA {eta_text}"
        )

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        self._maybe_report()

    def file_done(self, label: str) -> None:
        self.files += 1
        if self.per_file:
            self._write(f"{self.files}/{self.total_files} files, {human_bytes(self.done)}/"
                        f"{human_bytes(self.total)}: {label}")
        else:
            self._maybe_report()

    def close(self, completed: bool) -> None:
        return None


class RichProgress:
    """One overall bar (bytes, files, rate, ETA); removed when done so the screen ends clean."""

    def __init__(self, verb: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            ProgressColumn,
            Task,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            """Bytes per second in the same binary units as the byte counts."""

            def render(self, task: Task) -> Text:
                speed = task.finished_speed or task.speed
                rate = "?" if speed is None else f"{human_bytes(int(speed))}/s"
                return Text(rate, style="progress.data.speed")

        self.verb = verb
        self.files = 0
        self.total_files = 0
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TextColumn("{task.fields[files]}"),
            RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task: Any = None

    def _files_text(self) -> str:
        return f"{self.files}/{self.total_files} files"

    def start(self, files: int, total_bytes: int) -> None:
        self.total_files = files
        self.progress.start()
        self.task = self.progress.add_task(self.verb, total=total_bytes, files=self._files_text())

    def advance(self, nbytes: int) -> None:
        self.progress.update(self.task, advance=nbytes)

    def file_done(self, label: str) -> None:
        self.files += 1
        self.progress.update(self.task, files=self._files_text())

    def close(self, completed: bool) -> None:
        self.progress.stop()


def make_progress(verb: str, *, quiet: bool, terminal: bool | None = None,
                  forced: bool = False) -> ProgressSink | None:
    """The right report for where stderr goes: the bar on a terminal; elsewhere none, or
    with ``forced`` (``-P``) a line per finished file."""
    if quiet:
        return None
    if terminal is None:
        terminal = sys.stderr.isatty()
    if terminal:
        return RichProgress(verb)
    return PlainProgress(verb, per_file=True) if forced else None
