"""Printing results: plain text for people, JSON (``--json``) for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import click

__all__ = [
    "emit_json",
    "emit_json_array",
    "human_bytes",
    "human_duration",
    "iso_time",
    "print_table",
]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(size: int) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """``0.042`` -> ``0.04s``; ``4.2`` -> ``4.2s``; ``125`` -> ``2m05s``."""
    if seconds < 1:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def iso_time(value: datetime | None) -> str | None:
    """UTC time as ISO 8601 with seconds, or None."""
    return value.isoformat(timespec="seconds") if value is not None else None


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def emit_json(value: Any) -> None:
    """Write ``value`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, default=_default, ensure_ascii=False) + "\n")


def emit_json_array(values: Iterable[Any]) -> None:
    """Write a JSON array on stdout item by item, so a long listing is never held whole.
    Nothing is written if the first item fails, so an error leaves stdout empty."""
    opened = False
    for value in values:
        item = json.dumps(value, default=_default, ensure_ascii=False)
        sys.stdout.write(f",\n  {item}" if opened else f"[\n  {item}")
        opened = True
    sys.stdout.write("\n]\n" if opened else "[]\n")


def print_table(rows: list[list[str]], *, align_right: frozenset[int] = frozenset()) -> None:
    """Print rows as space-separated columns padded to the widest cell."""
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            last = index == len(row) - 1
            if index in align_right:
                cells.append(cell.rjust(widths[index]))
            else:
                cells.append(cell if last else cell.ljust(widths[index]))
        click.echo("  ".join(cells))
