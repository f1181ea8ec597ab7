"""Hostile config files (docs/configuration.md, "Limits"; docs/reliability.md, "Hostile
input"): each ends within 5 s and 1 GiB as one line naming the file (and the line or key
where known), exit code 1, no traceback, through the real ``xtstore`` command; and
``xtstore.get_storage(config=path)`` raises :class:`ConfigError` naming the file.

Each case writes ``hostile.yaml`` in the working folder, so the file is named
``hostile.yaml`` in messages.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import xtstore
from tests.cli.bounded import BUDGET_SECONDS, clean_env, limit_memory, one_line, run_bounded
from xtstore.config import bounded_yaml, files
from xtstore.config.files import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES
from xtstore.errors import ConfigError

FILE = "hostile.yaml"


def with_store(root: Path, local: str = "", extra: str = "") -> str:
    """A valid config whose default service ``local`` (store-file at ``root``) has the flow
    settings ``local`` added, and ``extra`` lines added under external-services."""
    return (
        "external-services:\n"
        f"    local: {{provider: store-file, path: '{root}'{', ' + local if local else ''}}}\n"
        f"{extra}"
        "xt-services:\n"
        "    storage: local\n"
    )


def alias_bomb(levels: int = 9) -> str:
    """Billion laughs: each anchor is a list of nine aliases of the one before (9**9
    values from a dozen lines)."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def big_mapping(size: int) -> str:
    """A valid config with a compute service carrying keys until ``size`` bytes: slow to
    parse as well as large."""
    head = "external-services:\n    other:\n        type: compute\n"
    row = "        k{}: [1, 2, 3, 4, 5, 6, 7, 8]\n"
    rows = [row.format(index) for index in range(size // len(row.format(0)) + 1)]
    return head + "".join(rows)


@dataclass(frozen=True)
class Case:
    id: str
    write: Callable[[Path, Path], str]
    """(work folder, store root) -> the --config argument, after writing what it needs."""
    says: tuple[str, ...]
    """Text the error line contains besides the file's name."""
    env: tuple[tuple[str, str], ...] = ()
    names: str = FILE
    """How the file is named in the message."""
    command: tuple[str, ...] = ("containers",)
    """The command run with ``--config``."""


def text(content: str) -> Callable[[Path, Path], str]:
    def write(work: Path, root: Path) -> str:
        (work / FILE).write_text(content, encoding="utf-8")
        return FILE

    return write


def content(make: Callable[[Path], str | bytes]) -> Callable[[Path, Path], str]:
    def write(work: Path, root: Path) -> str:
        data = make(root)
        (work / FILE).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return FILE

    return write


def store_through_a_file(work: Path, root: Path) -> str:
    (work / "a-file").write_text("not a folder\n", encoding="utf-8")
    (work / FILE).write_text(with_store(work / "a-file" / "store"), encoding="utf-8")
    return FILE


def store_is_a_file(work: Path, root: Path) -> str:
    (work / "a-file").write_text("not a folder\n", encoding="utf-8")
    (work / FILE).write_text(with_store(work / "a-file"), encoding="utf-8")
    return FILE


def config_through_a_file(work: Path, root: Path) -> str:
    (work / "a-file").write_text("not a folder\n", encoding="utf-8")
    return f"a-file/{FILE}"


def secrets_bomb(work: Path, root: Path) -> str:
    home = Path(os.environ["HOME"])
    secrets = home / ".xtstore" / "secrets.yaml"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text(alias_bomb(), encoding="utf-8")
    secrets.chmod(0o600)
    (work / FILE).write_text(
        "external-services:\n"
        "    local: {provider: store-file, path: $vault}\n"
        "xt-services: {storage: local}\n", encoding="utf-8")
    return FILE


CASES = [
    # 'config --validate' (like 'config' and 'services') walks the whole file: on 89a57dc it
    # ran until killed.
    Case("alias-bomb", text(alias_bomb()), ("line ", f"more than {MAX_NODES} values"),
         command=("config", "--validate")),
    Case("alias-cycle", text("a: &a [x, *a]\n"), ("line 1", "refers to a node it is inside")),
    Case("deep-nesting", text("a: " + "[" * 5000 + "]" * 5000 + "\n"),
         ("line 1", f"nested more than {MAX_DEPTH} levels deep")),
    Case("deep-block-nesting",
         text("".join(f"{' ' * level}k{level}:\n" for level in range(1000))),
         (f"nested more than {MAX_DEPTH} levels deep",)),
    Case("huge-file", content(lambda root: big_mapping(2 * MAX_FILE_BYTES)),
         ("larger than 1 MiB",)),
    Case("endless-file", lambda work, root: "/dev/zero", ("larger than 1 MiB",),
         names="/dev/zero"),
    Case("too-many-values", text("a: [" + "1, " * (MAX_NODES + 10) + "1]\n"),
         ("line 1", f"more than {MAX_NODES} values")),
    Case("huge-integer", text("a: " + "7" * 5000 + "\n"), ("line 1", "cannot read the value")),
    Case("impossible-date", text("a: 1\nb: 2001-13-14\n"), ("line 2", "month must be in 1..12")),
    Case("non-utf8-bytes", content(lambda root: with_store(root).encode() + b"x: '\xe9t\xe9'\n"),
         ("line 5", "not UTF-8", "0xe9")),
    Case("control-character", text("a: 1\nb: \x01\n"), ("line 2", "U+0001")),
    Case("nan-retry-attempts", content(
        lambda root: with_store(root, "retry: {attempts: .nan}")),
         ("external-services.local.retry.attempts", "positive integer")),
    Case("nan-retry-delay", content(lambda root: with_store(root, "retry: {base-delay: .nan}")),
         ("external-services.local.retry.base-delay", "finite")),
    Case("infinite-retry-timeout",
         content(lambda root: with_store(root, "retry: {total-timeout: .inf}")),
         ("external-services.local.retry.total-timeout", "finite")),
    Case("nan-from-environment",
         content(lambda root: with_store(root, "retry: {max-delay: '${HOSTILE_DELAY}'}")),
         ("external-services.local.retry.max-delay", "finite"),
         env=(("HOSTILE_DELAY", "nan"),)),
    Case("nan-provider-timeout",
         content(lambda root: with_store(
             root, extra="    cloud: {provider: store-s3, read-timeout: .nan}\n")),
         ("external-services.cloud.read-timeout", "finite number")),
    Case("infinite-provider-timeout",
         content(lambda root: with_store(
             root, extra="    cloud: {provider: store-s3, connect-timeout: .inf}\n")),
         ("external-services.cloud.connect-timeout", "finite number")),
    Case("store-path-through-a-file", store_through_a_file,
         ("external-services.local.path", "a-file/store", "Not a directory")),
    Case("store-path-is-a-file", store_is_a_file,
         ("external-services.local.path", "a-file", "File exists")),
    Case("config-through-a-file", config_through_a_file, ("Not a directory",),
         names=f"a-file/{FILE}"),
    Case("secrets-file-alias-bomb", secrets_bomb, ("line ", f"more than {MAX_NODES} values"),
         names="~/.xtstore/secrets.yaml"),
]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_file_is_one_line_naming_it(case: Case, work: Path, tmp_path: Path,
                                            isolated_home: Path) -> None:
    config = case.write(work, tmp_path / "store")
    env = clean_env(isolated_home, **dict(case.env))
    line = one_line(run_bounded(["--config", config, *case.command], env, work), code=1)
    assert case.names in line, line
    for part in case.says:
        assert part in line, line


LIBRARY_SCRIPT = """
import json, signal, sys, time
import xtstore
from xtstore.errors import ConfigError

def too_slow(*_):
    raise TimeoutError("still running after the budget")

signal.signal(signal.SIGALRM, too_slow)
results = {}
for case, config in json.loads(sys.argv[1]).items():
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, float(sys.argv[2]))
    try:
        xtstore.get_storage(config=config)
        outcome = ["no error", ""]
    except ConfigError as error:
        outcome = ["ConfigError", str(error)]
    except BaseException as error:
        outcome = [type(error).__name__, str(error)[:300]]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    results[case] = [*outcome, time.monotonic() - start]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def library_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[object]]:
    """``get_storage(config=...)`` on every case, in one process (each case in a folder of
    its own, under the time budget and the memory limit)."""
    base = tmp_path_factory.mktemp("hostile-library")
    home = base / "home"
    home.mkdir()
    configs, env = {}, clean_env(home)
    previous = os.environ.get("HOME")
    os.environ["HOME"] = str(home)  # secrets_bomb writes below the home folder
    try:
        for case in CASES:
            folder = base / case.id
            (folder / "work").mkdir(parents=True)
            config = case.write(folder / "work", folder / "store")
            configs[case.id] = config if config.startswith("/") else str(folder / "work" / config)
            env.update(case.env)
    finally:
        if previous is not None:
            os.environ["HOME"] = previous
    completed = subprocess.run(
        [sys.executable, "-c", LIBRARY_SCRIPT, json.dumps(configs), str(BUDGET_SECONDS)],
        capture_output=True, env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
        cwd=base, timeout=BUDGET_SECONDS * len(CASES) + 30, check=False,
        preexec_fn=limit_memory,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    results: dict[str, list[object]] = json.loads(completed.stdout)
    return results


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_get_storage_raises_config_error_naming_the_file(
    case: Case, library_results: dict[str, list[object]]
) -> None:
    kind, message, elapsed = library_results[case.id]
    assert kind == "ConfigError", (kind, message)
    assert isinstance(elapsed, float) and elapsed < BUDGET_SECONDS
    name = Path(case.names).name
    assert isinstance(message, str) and name in message, message
    for part in case.says:
        assert part in message, message


def test_unreadable_file(work: Path, isolated_home: Path) -> None:
    config = work / FILE
    config.write_text("a: 1\n", encoding="utf-8")
    config.chmod(0)
    try:
        with open(config, "rb"):
            pytest.skip("this user reads a file of mode 000 (root): no unreadable file to test")
    except PermissionError:
        pass
    line = one_line(run_bounded(["--config", FILE, "containers"], clean_env(isolated_home),
                                work), code=1)
    assert FILE in line and "Permission denied" in line, line


def test_a_folder_given_as_the_config_file(work: Path, isolated_home: Path) -> None:
    (work / "folder.yaml").mkdir()
    env = clean_env(isolated_home, XTSTORE_CONFIG="folder.yaml")
    line = one_line(run_bounded(["containers"], env, work), code=1)
    assert "folder.yaml" in line and "Is a directory" in line, line
    line = one_line(run_bounded(["--config", "folder.yaml", "containers"], env, work), code=2)
    assert "'--config'" in line and "folder.yaml" in line, line


def test_files_within_the_limits_still_load(work: Path, tmp_path: Path,
                                            isolated_home: Path) -> None:
    """The limits leave room: anchors and merge keys shared by services, nesting to the
    limit, and a file just under the size limit."""
    root = tmp_path / "store"
    shared = (
        "defaults: &defaults {provider: store-file, retry: {attempts: 3, base-delay: 0.5}}\n"
        "external-services:\n"
        + "".join(f"    s{index}: {{<<: *defaults, path: '{root}'}}\n" for index in range(200))
        + "    nested: {type: compute, deep: " + "[" * (MAX_DEPTH - 4) + "]" * (MAX_DEPTH - 4)
        + "}\n"
        "xt-services: {storage: s0}\n"
    )
    padding = "# " + "x" * 100 + "\n"
    body = shared + padding * ((MAX_FILE_BYTES - len(shared) - 1) // len(padding))
    assert len(body.encode()) < MAX_FILE_BYTES
    (work / FILE).write_text(body, encoding="utf-8")
    result = run_bounded(["--config", FILE, "containers"], clean_env(isolated_home), work)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize("depth", [500, 20_000])
def test_deep_xt_store_creds(depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """XT's ``XT_STORE_CREDS`` (base64 of JSON) nested deeply: a ConfigError naming the
    variable (was a raw RecursionError, from json at 20,000 levels, from reading the
    settings at 500)."""
    settings = '{"provider": "store-memory", "x": ' + "[" * depth + "]" * depth + "}"
    monkeypatch.setenv("XT_STORE_CREDS", base64.b64encode(settings.encode()).decode())
    with pytest.raises(ConfigError) as raised:
        xtstore.get_storage()
    assert str(raised.value) == (
        f"environment variable XT_STORE_CREDS: is nested more than {MAX_DEPTH} levels deep")


def test_merge_keys_share_settings(work: Path) -> None:
    """``<<: *defaults`` merges (keys given beside it win); a key given twice beside it is
    still a duplicate."""
    config = work / FILE
    config.write_text(
        "defaults: &defaults {provider: store-memory, retry: {attempts: 3}}\n"
        "external-services:\n"
        "    a: {<<: *defaults}\n"
        "    b: {<<: *defaults, retry: {attempts: 7}}\n"
        "xt-services: {storage: a}\n", encoding="utf-8")
    services = xtstore.load_config(config).services()
    assert services["a"] == {"provider": "store-memory", "retry": {"attempts": 3}}
    assert services["b"] == {"provider": "store-memory", "retry": {"attempts": 7}}
    config.write_text("d: &d {x: 1}\ne: {<<: *d, y: 1, y: 2}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 2: invalid YAML: duplicate key 'y'"):
        xtstore.load_config(config)


PARSER_CASES = {
    "alias-bomb": alias_bomb(),
    "alias-cycle": "a: &a [x, *a]\n",
    "deep-nesting": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "impossible-date": "a: 1\nb: 2001-13-14\n",
    "control-character": "a: 1\nb: \x01\n",
    "control-character-after-non-ascii": "a: " + "é" * 50 + "\nb: 1\nc: \x01\n",
    "duplicate-key": "a: 1\nb: {c: 1, c: 2}\n",
}


@pytest.mark.parametrize("name", sorted(PARSER_CASES))
def test_both_parsers_give_the_same_answer(name: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits are checked while composing, so PyYAML's own parser (used where PyYAML
    lacks libyaml) refuses the same files with the same messages as libyaml's."""
    path = tmp_path / FILE
    path.write_text(PARSER_CASES[name], encoding="utf-8")
    messages = []
    loaders = [bounded_yaml.PythonLoader] + (
        [bounded_yaml.new_loader] if bounded_yaml.new_loader is not bounded_yaml.PythonLoader
        else [])
    valid = tmp_path / "valid.yaml"
    valid.write_text("d: &d {a: 1, b: 2}\ne: {<<: *d, b: 3}\n", encoding="utf-8")
    for loader in loaders:
        monkeypatch.setattr(bounded_yaml, "new_loader", loader)
        with pytest.raises(ConfigError) as raised:
            files.load_yaml_file(path, FILE)
        messages.append(str(raised.value))
        assert files.load_yaml_file(valid, "valid.yaml") == {
            "d": {"a": 1, "b": 2}, "e": {"a": 1, "b": 3}}
    assert messages[0].startswith(f"{FILE}: line ") and len(set(messages)) == 1, messages
    if name == "control-character-after-non-ascii":
        assert messages[0].startswith(f"{FILE}: line 3: "), messages
