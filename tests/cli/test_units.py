"""In-process checks of the pieces under the commands: address parsing, wildcard rules, local
selection naming and the transfer runner's clean stop."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from xtstore.cli.address import Address, AddressError, parse_address
from xtstore.cli.globbing import split_pattern
from xtstore.cli.resolve import resolve_local, target_path
from xtstore.transfer import Transfer, TransferCancelled, run_transfers


@pytest.mark.parametrize(("text", "expected"), [
    ("runs", Address(None, "runs", "")),
    ("runs/", Address(None, "runs", "", folder=True)),
    ("runs/exp1/log.txt", Address(None, "runs", "exp1/log.txt")),
    ("runs/exp1/", Address(None, "runs", "exp1", folder=True)),
    ("cloud:runs/a", Address("cloud", "runs", "a")),
    ("cloud:runs", Address("cloud", "runs", "")),
    ("runs/a:b", Address(None, "runs", "a:b")),
])
def test_parse_address(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", ":runs", "cloud:", "/runs"])
def test_bad_address_shapes(text: str) -> None:
    with pytest.raises(AddressError):
        parse_address(text)


@pytest.mark.parametrize(("pattern", "name", "matched"), [
    ("*.txt", "a.txt", "a.txt"),
    ("*.txt", "sub/a.txt", None),           # '*' does not cross '/'
    ("a?c", "abc", "abc"),
    ("a?c", "a/c", None),                   # nor does '?'
    ("**/*.txt", "a.txt", "a.txt"),         # '**' spans zero or more folders
    ("**/*.txt", "x/y/a.txt", "x/y/a.txt"),
    ("**", "x/y/z", "x/y/z"),
    ("exp*", "exp1/log.txt", "exp1"),       # a matching folder holds the name
    ("exp*", "ex/log.txt", None),
    ("a.b", "axb", None),                   # other characters are literal
])
def test_wildcards(pattern: str, name: str, matched: str | None) -> None:
    assert split_pattern(pattern).match(name) == matched


def test_split_pattern_keeps_the_literal_base() -> None:
    pattern = split_pattern("run1/logs/**/*.log")
    assert (pattern.base, pattern.rest, pattern.max_depth) == ("run1/logs", "**/*.log", None)
    assert split_pattern("a/*/b").max_depth == 2


def test_local_selection_names(tmp_path: Path) -> None:
    (tmp_path / "run" / "sub").mkdir(parents=True)
    (tmp_path / "run" / "a.txt").write_text("a")
    (tmp_path / "run" / "sub" / "b.txt").write_text("b")
    folder = resolve_local(str(tmp_path / "run"))
    assert [item.relative for item in folder.items] == ["run/a.txt", "run/sub/b.txt"]
    assert [target_path(folder, item, into=False) for item in folder.items] == [
        "a.txt", "sub/b.txt"]
    pattern = resolve_local(str(tmp_path / "run" / "**" / "*.txt"))
    assert [item.relative for item in pattern.items] == ["a.txt", "sub/b.txt"]
    single = resolve_local(str(tmp_path / "run" / "a.txt"))
    assert target_path(single, single.items[0], into=False) == ""
    with pytest.raises(FileNotFoundError):
        resolve_local(str(tmp_path / "missing"))


def test_runner_stops_running_transfers_on_first_failure() -> None:
    started = threading.Event()
    stopped: list[str] = []

    def slow(progress: object) -> None:
        started.set()
        try:
            for step in range(1000):
                progress(step, 1000)  # type: ignore[operator]
                threading.Event().wait(0.01)
        except TransferCancelled:
            stopped.append("slow")
            raise

    def failing(progress: object) -> None:
        started.wait(5)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_transfers([Transfer("slow", 1000, slow), Transfer("bad", 1, failing)], workers=2)
    assert stopped == ["slow"]


def test_a_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "run" / "sub").mkdir(parents=True)
    (tmp_path / "run" / "sub" / "a.txt").write_text("a")
    (tmp_path / "run" / "sub" / "back").symlink_to(tmp_path / "run")
    assert [item.relative for item in resolve_local(str(tmp_path / "run")).items] == [
        "run/sub/a.txt"]
    pattern = resolve_local(str(tmp_path / "run" / "**" / "*.txt"))
    assert [item.relative for item in pattern.items] == ["sub/a.txt"]


def test_library_transfers_between_two_stores(tmp_path: Path) -> None:
    import xtstore
    from xtstore.transfer import copy_transfer, download_transfer, upload_transfer

    def store(name: str) -> xtstore.Store:
        return xtstore.get_storage(name, config={"external-services": {name: {
            "type": "storage", "provider": "store-file", "path": str(tmp_path / name)}}})

    first, second = store("first"), store("second")
    first.create_container("runs")
    second.create_container("backup")
    files = {f"f{index}.bin": bytes([index]) * (1000 * index + 1) for index in range(5)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    seen: list[int] = []

    class Sink:
        def start(self, files: int, total_bytes: int) -> None:
            seen.append(total_bytes)

        def advance(self, nbytes: int) -> None:
            seen.append(nbytes)

        def file_done(self, label: str) -> None:
            return None

        def close(self, completed: bool) -> None:
            assert completed

    total = sum(map(len, files.values()))
    up = run_transfers([upload_transfer(first, "runs", f"a/{name}", str(tmp_path / name),
                                        len(data)) for name, data in files.items()],
                       workers=3, progress=Sink())
    assert (up.files, up.bytes) == (5, total) and seen[0] == total and sum(seen[1:]) == total
    run_transfers([copy_transfer(first, "runs", f"a/{name}", second, "backup", f"b/{name}",
                                 len(data)) for name, data in files.items()])
    run_transfers([download_transfer(second, "backup", f"b/{name}", str(tmp_path / "out" / name),
                                     len(data)) for name, data in files.items()])
    assert {name: (tmp_path / "out" / name).read_bytes() for name in files} == files
