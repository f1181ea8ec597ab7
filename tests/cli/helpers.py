"""Assertions and file helpers shared by the CLI tests."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import click


def subcommands(group: click.Group) -> dict[str, click.Command]:
    """``group``'s commands by name, as ``xtstore`` runs them: the top group imports a
    command's module only when it is named, so ``group.commands`` may be incomplete."""
    context = click.Context(group)
    return {name: command for name in group.list_commands(context)
            if (command := group.get_command(context, name)) is not None}


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    """stdout of a run that must have succeeded, decoded."""
    assert result.returncode == 0, (result.returncode, result.stderr.decode())
    return result.stdout.decode()


def one_error_line(result: subprocess.CompletedProcess[bytes], code: int = 1) -> str:
    """The single stderr line of a failed run (checked: exit code, one line, no traceback)."""
    stderr = result.stderr.decode()
    assert result.returncode == code, (result.returncode, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("xtstore: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def leftovers(root: Path, names: Sequence[str] = (".tmp",)) -> list[str]:
    """Temporary files below ``root`` (a store's tmp area, or ``*.tmp`` downloads)."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and any(part in path.name for part in names):
            found.append(str(path))
    tmp_area = root / ".xtstore" / "tmp"
    if tmp_area.exists():
        found += [str(path) for path in tmp_area.iterdir()]
    return found
