"""A real pseudo-terminal: the upload draws a progress bar, and the final screen holds only
the summary line (the bar is erased)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pexpect
import pyte
import pytest

from tests.cli.conftest import Runner, Services, xtstore_command
from tests.cli.helpers import ok

COLUMNS, ROWS = 120, 30
FILES, SIZE = 8, 32 * 1024 * 1024
END_SECONDS = 90


def _big_files(folder: Path) -> None:
    folder.mkdir()
    block = os.urandom(1024 * 1024)
    for index in range(FILES):
        with open(folder / f"part{index}.bin", "wb") as out:
            for _ in range(SIZE // len(block)):
                out.write(block)


def _read_to_the_end(child: pexpect.spawn, raw: bytearray) -> bytearray:
    """Everything the child draws until it exits; a child still drawing (a live bar) after
    ``END_SECONDS`` fails here, not at the suite's per-test timeout."""
    deadline = time.monotonic() + END_SECONDS
    while True:
        try:
            raw += child.read_nonblocking(65536, timeout=max(0.1, deadline - time.monotonic()))
        except pexpect.EOF:
            break
        except pexpect.TIMEOUT:
            break
        if time.monotonic() > deadline:
            break
    if child.isalive():
        child.kill(9)
        pytest.fail(f"still running after {END_SECONDS}s: "
                    + raw.decode(errors="replace")[-2000:])
    child.close()
    return raw


def test_upload_on_a_terminal_draws_a_bar_and_leaves_a_clean_screen(
    services: Services, xt: Runner
) -> None:
    _big_files(services.work / "big")
    env = {**services.env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS),
           "LINES": str(ROWS)}
    command = xtstore_command()
    ok(xt("containers", "create", "runs"))
    child = pexpect.spawn(command[0], [*command[1:], "upload", "--workers", "1", "big",
                                       "runs/big"],
                          cwd=str(services.work), env=env, dimensions=(ROWS, COLUMNS),
                          timeout=120)
    raw = _read_to_the_end(child, bytearray())
    assert child.exitstatus == 0, raw.decode(errors="replace")

    text = raw.decode("utf-8", errors="replace")
    # While running: a bar, byte counts, the file count, a rate and an ETA were drawn.
    assert "━" in text
    assert re.search(r"\d+(\.\d+)?/256\.0 MiB", text), text[-2000:]
    assert re.search(rf"\d+/{FILES} files", text)
    assert re.search(r"(MB|MiB|GB|GiB)/s", text)
    assert "ETA" in text

    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(bytes(raw))
    lines = [line.rstrip() for line in screen.display if line.strip()]
    assert len(lines) == 1, lines
    assert re.fullmatch(rf"xtstore: uploaded: {FILES} copied \(256\.0 MiB\) in [\d.]+s",
                        lines[0]), lines
    assert "━" not in "".join(screen.display)


def test_rm_asks_on_a_terminal_and_yes_skips_the_question(services: Services, xt: Runner
                                                          ) -> None:
    ok(xt("containers", "create", "runs"))
    ok(xt("append", "runs/exp1/a.txt", "a"))
    command = xtstore_command()

    child = pexpect.spawn(command[0], [*command[1:], "rm", "-r", "runs/exp1"],
                          env=services.env, cwd=str(services.work), timeout=60)
    child.expect(r"\[y/N\]: ")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert ok(xt("ls", "-r", "runs")).split() == ["exp1/a.txt"]
    child = pexpect.spawn(command[0], [*command[1:], "rm", "-r", "runs/exp1"],
                          env=services.env, cwd=str(services.work), timeout=60)
    child.expect(r"Delete 1 blob under 'runs/exp1'\? \[y/N\]: ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert ok(xt("ls", "-r", "runs")) == ""
    ok(xt("append", "runs/exp1/a.txt", "a"))
    child = pexpect.spawn(command[0], [*command[1:], "rm", "-r", "--yes", "runs"],
                          env=services.env, cwd=str(services.work), timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and b"[y/N]" not in child.before
    assert ok(xt("containers")) == ""


def test_ctrl_c_on_a_terminal_erases_the_bar_and_says_interrupted(
    services: Services, xt: Runner
) -> None:
    _big_files(services.work / "big")
    ok(xt("containers", "create", "runs"))
    env = {**services.env, "TERM": "xterm-256color"}
    command = xtstore_command()
    child = pexpect.spawn(command[0], [*command[1:], "upload", "--workers", "1", "big",
                                       "runs/big"],
                          cwd=str(services.work), env=env, dimensions=(ROWS, COLUMNS),
                          timeout=120)
    child.expect("━".encode())  # the bar is on screen: the upload is running
    raw = bytearray(child.before + child.after)
    child.sendintr()
    raw = _read_to_the_end(child, raw)
    assert child.exitstatus == 130, raw.decode(errors="replace")
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(bytes(raw))
    lines = [line.rstrip() for line in screen.display if line.strip()]
    assert lines and lines[-1].endswith("xtstore: interrupted"), lines
    assert "━" not in "".join(screen.display)
    tmp_area = services.local_root / ".xtstore" / "tmp"  # made by the first finished blob
    assert not tmp_area.exists() or not any(tmp_area.iterdir())
