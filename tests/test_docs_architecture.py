"""The module trees in docs/architecture.md and the README's architecture section name exactly
what ``ls src/xtstore src/xtstore/providers src/xtstore/providers/*/`` shows."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "xtstore"
NOT_LISTED = {"__init__.py", "__main__.py", "__pycache__", "py.typed"}


def entries(folder: Path) -> set[str]:
    """What ``ls folder`` shows that a reader of the architecture needs: modules, and
    packages with a trailing ``/``."""
    return {path.name + ("/" if path.is_dir() else "")
            for path in folder.iterdir()
            if path.name not in NOT_LISTED and (path.is_dir() or path.suffix == ".py")}


def code_block_after(page: Path, marker: str) -> list[str]:
    """The lines of the first fenced code block after the line ``marker``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = lines.index(marker)
    opening = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    closing = next(i for i in range(opening + 1, len(lines)) if lines[i].startswith("```"))
    return lines[opening + 1:closing]


def tree(block: list[str]) -> dict[str, tuple[int, str]]:
    """``name -> (depth, text)`` for each entry of an indented tree: the first word of a line
    indented by 2 (depth 1) or 4 (depth 2) spaces; deeper lines continue the entry above."""
    found: dict[str, tuple[int, str]] = {}
    last = ""
    for line in block[1:]:
        indent = len(line) - len(line.lstrip(" "))
        if indent in (2, 4):
            last = line.split()[0]
            found[last] = (indent // 2, line)
        elif last:
            depth, text = found[last]
            found[last] = (depth, text + " " + line.strip())
    return found


def test_docs_architecture_lists_every_module_and_package() -> None:
    listed = tree(code_block_after(ROOT / "docs" / "architecture.md", "## The modules"))
    top = {name for name, (depth, _) in listed.items() if depth == 1}
    providers = {name for name, (depth, _) in listed.items() if depth == 2}
    assert top == entries(PACKAGE)
    assert providers == entries(PACKAGE / "providers")
    for package in sorted(providers):
        if package.endswith("/"):
            text = listed[package][1]
            unnamed = sorted(name for name in entries(PACKAGE / "providers" / package)
                             if not re.search(rf"\b{re.escape(name)}", text))
            assert unnamed == [], f"providers/{package} in docs/architecture.md"


def test_readme_architecture_names_every_module_and_provider() -> None:
    block = code_block_after(ROOT / "README.md", "## Architecture")
    patterns = {pattern for line in block[1:]
                for pattern in re.split(r",\s*", line.strip().split("   ")[0].strip())}
    unnamed = sorted(name for name in entries(PACKAGE)
                     if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns))
    assert unnamed == []
    providers_line = next(line for line in block if line.strip().startswith("providers/"))
    assert sorted(name for name in entries(PACKAGE / "providers")
                  if not name.startswith("_") and name not in providers_line) == []
