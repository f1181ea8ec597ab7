"""``xtstore.testing`` and ``check-provider`` need the ``testing`` extra (pytest, psutil); where
it is missing, the error says what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.testing.hide_modules import REPO, cli_without, run_without

EXTRA = "pip install 'xtstore[testing]'"


@pytest.mark.parametrize("hidden", ["pytest", "psutil"])
def test_importing_the_suite_without_the_extra_names_it(hidden: str, tmp_path: Path) -> None:
    done = run_without({hidden}, "import xtstore.testing", tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last == (f"ImportError: xtstore.testing needs pytest and psutil ({hidden} is not "
                    f"installed): {EXTRA}"), done.stderr


def test_the_rest_of_xtstore_works_without_the_extra(tmp_path: Path) -> None:
    code = ("import xtstore\n"
            "store = xtstore.get_storage('m', config={'external-services': {'m': {"
            "'type': 'storage', 'provider': 'store-memory'}}})\n"
            "store.create_container('abc')\nprint(store.list_containers())")
    done = run_without({"pytest", "psutil"}, code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['abc']"


@pytest.mark.parametrize("hidden", ["pytest", "psutil"])
def test_check_provider_without_the_extra_is_one_line_naming_it(
    hidden: str, tmp_path: Path
) -> None:
    done = cli_without({hidden}, "check-provider", "store-memory", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("xtstore: error: xtstore.testing needs pytest and psutil")
    assert lines[0].endswith(EXTRA)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is in the standard library "
                    "from Python 3.11")
def test_the_testing_extra_is_pytest_and_psutil_only() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = project["optional-dependencies"]["testing"]
    names = sorted(requirement.split(">")[0].split("=")[0].split("[")[0] for requirement in extra)
    assert names == ["psutil", "pytest"]
