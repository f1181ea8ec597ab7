"""Run Python code in a subprocess where some installed modules cannot be imported, as on a
machine without them (nothing is uninstalled): a finder first on ``sys.meta_path`` refuses
them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PRELUDE = """
import sys

class _Hidden:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Hidden())
"""


def run_without(hidden: set[str], code: str, cwd: Path,
                timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with this interpreter and this checkout's ``src`` first on the path, with
    the top-level modules in ``hidden`` impossible to import."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    script = f"HIDDEN = {sorted(hidden)!r}\n{_PRELUDE}\n{code}"
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def cli_without(hidden: set[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``xtstore ARGS...`` with the modules in ``hidden`` impossible to import."""
    code = f"import runpy\nsys.argv = ['xtstore', *{list(args)!r}]\n" \
           "runpy.run_module('xtstore', run_name='__main__')"
    return run_without(hidden, code, cwd)
