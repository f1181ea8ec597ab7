"""``xtstore.localfiles`` serves every provider and the adapter, so it imports only the
standard library and itself (every import, also one inside a function): nothing it imports
can import it back."""

from __future__ import annotations

import ast
from pathlib import Path

import xtstore.localfiles

PACKAGE = Path(xtstore.localfiles.__file__).parent


def imported_modules(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_localfiles_imports_nothing_else_from_xtstore() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {path.name for path in modules} >= {"oscalls.py", "atomic.py"}
    outside = sorted(
        f"{path.name}: {name}" for path in modules for name in imported_modules(path)
        if name.split(".")[0] == "xtstore" and not name.startswith("xtstore.localfiles"))
    assert outside == []
