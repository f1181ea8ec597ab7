"""The layering rules of docs/architecture.md, read from every import in src/xtstore (inside
functions and ``TYPE_CHECKING`` blocks too): providers never import the core above them, the
command line never imports a provider, the interface imports only errors, values and the writer
its default returns (with what the writer imports: continuation), and no
module imports itself back through others."""

from __future__ import annotations

import ast
from importlib.util import resolve_name
from itertools import pairwise
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
FILES = {".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): path
         for path in sorted((SRC / "xtstore").rglob("*.py"))}
ABOVE_PROVIDERS = ("xtstore.store", "xtstore.layers", "xtstore.config", "xtstore.registry",
                   "xtstore.cli", "xtstore.filesystem")
# The one module under providers/ that reaches the core, and only xtstore.store: a built-in
# provider's public class is a Store around its implementation (provider_store_class).
PUBLIC_CLASS_DOOR = ("xtstore.providers._public", "xtstore.store")
INTERFACE_IMPORTS = ("xtstore.errors", "xtstore.values", "xtstore.writer")


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imports(module: str) -> list[tuple[int, str]]:
    """``(line, module imported)`` for every import statement in ``module``."""
    package = module if FILES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(FILES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve_name("." * node.level + (node.module or ""), package)
            found += [(node.lineno, f"{base}.{alias.name}" if f"{base}.{alias.name}" in FILES
                       else base) for alias in node.names]
    return found


def broken_rule(module: str, target: str) -> str | None:
    if (within(module, "xtstore.providers") and (module, target) != PUBLIC_CLASS_DOOR
            and any(within(target, above) for above in ABOVE_PROVIDERS)):
        return "providers never import the core above them"
    if within(module, "xtstore.cli") and within(target, "xtstore.providers"):
        return "the command line never imports a provider"
    if (module == "xtstore.interface" and within(target, "xtstore")
            and target not in INTERFACE_IMPORTS):
        return "the interface imports only " + ", ".join(INTERFACE_IMPORTS)
    if (module == "xtstore.writer" and within(target, "xtstore")
            and target != "xtstore.continuation"):
        return "the writer imports only xtstore.continuation"
    return None


def graph() -> dict[str, dict[str, int]]:
    """Module → {xtstore module that importing it runs: line}: the module named, and the packages
    above it not already being imported (``import a.b.c`` runs ``a/b/__init__.py`` first)."""
    edges: dict[str, dict[str, int]] = {}
    for module in FILES:
        targets = edges.setdefault(module, {})
        for line, target in imports(module):
            parts = target.split(".")
            for name in (".".join(parts[:end]) for end in range(2, len(parts) + 1)):
                if name in FILES and not within(module, name):
                    targets.setdefault(name, line)
    return edges


def cycles() -> list[str]:
    """Each cycle found, as ``file:line imports module`` for every step of it."""
    edges, found, state = graph(), [], {}  # state: 1 on the current path, 2 done

    def visit(path: list[str]) -> None:
        state[path[-1]] = 1
        for target in sorted(edges[path[-1]]):
            if state.get(target) == 1:
                loop = [*path[path.index(target):], target]
                found.append("; ".join(f"{FILES[a].relative_to(SRC)}:{edges[a][b]} imports {b}"
                                       for a, b in pairwise(loop)) + ": an import cycle")
            elif target not in state:
                visit([*path, target])
        state[path[-1]] = 2

    for module in sorted(edges):
        if module not in state:
            visit([module])
    return found


def test_every_module_keeps_the_layering_rules() -> None:
    assert [f"{FILES[module].relative_to(SRC)}:{line}: imports {target}: {rule}"
            for module in FILES for line, target in imports(module)
            if (rule := broken_rule(module, target)) is not None] == []


def test_no_module_imports_itself_back() -> None:
    assert cycles() == []
