"""Start-up: what ``xtstore --version``, ``--help`` and ``ls`` of a local container import (docs/
performance.md, "2.6: start-up"). Each runs in a subprocess as the console script runs it, and
the modules loaded by its exit are checked: a module on these lists costs milliseconds at every
start and the command never uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import xtstore
from tests.cli.conftest import RUN_TIMEOUT, Runner, Services, xtstore_command
from tests.cli.helpers import ok

# What pip's console script runs (it imports re first), with the modules it loaded written to
# the file named by the environment at exit, after main() returned. The modules the interpreter
# loaded before (this machine's site-packages import certifi from a .pth file, and with it
# pathlib, zipfile and importlib.resources) are left out.
CONSOLE_SCRIPT = """\
import sys
at_start = set(sys.modules)
import os, re
try:
    from xtstore.cli.main import main
    code = main()
finally:
    with open(os.environ["STARTUP_MODULES_FILE"], "w", encoding="utf-8") as out:
        out.write("\\n".join(sorted(set(sys.modules) - at_start)))
sys.exit(code)
"""

# Never needed to start: cloud SDKs and the libraries only some commands use.
NEVER = ("rich", "boto3", "botocore", "s3transfer", "azure", "google", "fsspec", "s3fs", "adlfs",
         "gcsfs", "wcmatch", "importlib.metadata", "zipfile", "difflib", "xtstore.adapter")
# A store-file listing opens no other provider and reads no config file, so no YAML; it logs
# nothing, so no logging (the secret redaction waits for its import: xtstore.secrets.install).
LS_NEVER = (*NEVER, "yaml", "pathlib", "importlib.resources", "logging", "xtstore.transfer",
            "xtstore.cli.progress",
            "xtstore.providers.s3.store", "xtstore.providers.azure.store",
            "xtstore.providers.gcs.store", "xtstore.providers.fsspec_store.store")
# --version answers before click, the config, the registry and the value types load.
VERSION_NEVER = (*LS_NEVER, "click", "xtstore.cli.group", "xtstore.config", "xtstore.registry",
                 "xtstore.store", "xtstore.values", "xtstore.errors", "xtstore.secrets",
                 "dataclasses", "inspect", "uuid", "tempfile", "logging", "json")
# A sync that finds nothing to copy starts no thread pool, takes no Ctrl-C handler, checks no
# names to copy, reads no other provider's description and loads no OpenSSL hashes (store-file
# names a record by a hash only for a container that has records).
SYNC_NEVER = (*NEVER, "concurrent.futures", "signal", "xtstore.cli.resolve", "hashlib", "logging",
              "xtstore.providers.s3", "xtstore.providers.azure", "xtstore.providers.gcs",
              "xtstore.providers.fsspec_store", "xtstore.providers.memory")
# --help imports every command's module for its summary, but opens nothing.
HELP_NEVER = (*NEVER, "yaml", "xtstore.config", "xtstore.registry", "xtstore.store")


def loaded_modules(args: list[str], env: dict[str, str], cwd: Path, tmp_path: Path
                   ) -> tuple[subprocess.CompletedProcess[bytes], set[str]]:
    record = tmp_path / "modules.txt"
    run = subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT, *args], capture_output=True,
                         cwd=cwd, env={**env, "STARTUP_MODULES_FILE": str(record)},
                         timeout=RUN_TIMEOUT, check=False)
    return run, set(record.read_text(encoding="utf-8").splitlines())


def imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Each of ``names`` that ``modules`` holds, itself or a submodule of it."""
    return sorted(name for name in names
                  if any(module == name or module.startswith(name + ".") for module in modules))


@pytest.fixture
def default_service(tmp_path: Path, isolated_home: Path) -> dict[str, str]:
    """An environment with no config file at all (the built-in default service, store-file
    under the home folder) and a container ``small`` holding a few blobs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("XTSTORE")}
    env["HOME"] = str(isolated_home)
    store = xtstore.get_storage()
    store.create_container("small")
    for name in ("a.txt", "b.txt", "logs/step1.log"):
        store.create_blob("small", name, b"x")
    return env


@pytest.mark.parametrize(("args", "never", "stdout"), [
    (["--version"], VERSION_NEVER, f"xtstore, version {xtstore.__version__}\n"),
    (["ls", "small"], LS_NEVER, "a.txt\nb.txt\nlogs/\n"),
    (["--help"], HELP_NEVER, None),
], ids=["version", "ls", "help"])
def test_start_up_imports_only_what_the_command_uses(
        args: list[str], never: tuple[str, ...], stdout: str | None,
        default_service: dict[str, str], tmp_path: Path) -> None:
    run, modules = loaded_modules(args, default_service, tmp_path, tmp_path)
    printed = ok(run)
    if stdout is not None:
        assert printed == stdout
    assert imported(modules, never) == [], args
    if args == ["ls", "small"]:
        # The command's own module, and cmd_containers (ls with no address lists containers
        # with its function); no other command's.
        commands = sorted(module for module in modules if module.startswith("xtstore.cli.cmd_"))
        assert commands == ["xtstore.cli.cmd_containers", "xtstore.cli.cmd_ls"]


@pytest.mark.parametrize("direction", ["up", "down"])
def test_a_sync_with_nothing_to_copy_imports_only_what_it_uses(
        direction: str, default_service: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "run"
    (folder / "logs").mkdir(parents=True)
    for name in ("a.txt", "logs/step1.log"):
        (folder / name).write_bytes(b"x")
    # --json, not -q: click looks a short option up among the long ones first, and its
    # "did you mean" for the miss loads difflib.
    args = ["--json", "sync", *((str(folder), "small/run") if direction == "up"
                                else ("small/run", str(tmp_path / "copy")))]
    if direction == "down":
        ok(loaded_modules(["--json", "sync", str(folder), "small/run"], default_service,
                          tmp_path, tmp_path)[0])
    assert '"copied": 2' in ok(loaded_modules(args, default_service, tmp_path, tmp_path)[0])
    run, modules = loaded_modules(args, default_service, tmp_path, tmp_path)
    assert '"copied": 0' in ok(run)
    assert imported(modules, SYNC_NEVER) == [], args


def test_only_the_processs_own_command_line_freezes_what_start_up_made(
        default_service: dict[str, str], tmp_path: Path) -> None:
    """``main()`` of the console script puts start-up's objects out of the collector's sight
    (and collects again before the command runs); ``main(argv)`` called inside a program
    leaves its collector alone."""
    script = ("import gc, sys\n"
              "from xtstore.cli.main import main\n"
              "main(['ls', 'small'])\n"
              "print(gc.get_freeze_count())\n"
              "sys.argv = ['xtstore', 'ls', 'small']\n"
              "main()\n"
              "print(gc.get_freeze_count() > 0, gc.isenabled())\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=tmp_path,
                         env=default_service, timeout=RUN_TIMEOUT, check=False)
    listing = "a.txt\nb.txt\nlogs/\n"
    assert ok(run) == f"{listing}0\n{listing}True True\n"


def test_ls_with_a_config_file_reads_it_with_yaml(services: Services, tmp_path: Path) -> None:
    """The same listing from a config file: YAML loads to read it, and nothing else more."""
    store = xtstore.get_storage(config=services.config)
    store.create_container("small")
    store.create_blob("small", "a.txt", b"x")
    run, modules = loaded_modules(["ls", "small"], services.env, services.work, tmp_path)
    assert ok(run) == "a.txt\n"
    assert "yaml" in modules
    assert imported(modules, tuple(name for name in LS_NEVER if name != "yaml")) == []


def test_the_fast_version_prints_what_click_prints(xt: Runner, services: Services) -> None:
    """``xtstore --version`` alone is answered before click loads; with any other argument
    (``--json --version``) click's version option answers: the same line and exit code."""
    fast, through_click = xt("--version"), xt("--json", "--version")
    assert ok(fast) == ok(through_click) == f"xtstore, version {xtstore.__version__}\n"
    assert fast.stderr == through_click.stderr == b""


@pytest.mark.parametrize("stdout", ["closed", "/dev/full"])
def test_the_fast_version_fails_as_click_does(stdout: str, services: Services) -> None:
    """With no stdout at all (exit 0, silent) or a full device (one error line, exit 1)."""
    if stdout != "closed" and not os.path.exists(stdout):
        pytest.skip(f"no {stdout} here")
    redirect = ">&-" if stdout == "closed" else f"> {stdout}"
    results = [subprocess.run(["sh", "-c", f'exec "$@" {redirect}', "sh", *xtstore_command(),
                               *args], capture_output=True, env=services.env,
                              timeout=RUN_TIMEOUT, check=False)
               for args in (["--version"], ["--json", "--version"])]
    fast, through_click = ((result.returncode, result.stderr) for result in results)
    assert fast == through_click
    assert fast[0] == (0 if stdout == "closed" else 1)


def test_import_xtstore_loads_nothing_until_a_name_is_used() -> None:
    """``import xtstore`` loads none of its modules; each public name, and the ``errors`` and
    ``values`` modules a bare ``import xtstore`` always gave, load on first use."""
    script = ("import sys, xtstore\n"
              "print(sorted(m for m in sys.modules if m.startswith('xtstore.')))\n"
              "print(xtstore.errors.StoreError.__name__, xtstore.values.BlobInfo.__name__)\n"
              "print(all(getattr(xtstore, name) is not None for name in xtstore.__all__))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True,
                         timeout=RUN_TIMEOUT, check=False)
    assert ok(run).splitlines() == ["[]", "StoreError BlobInfo", "True"]
