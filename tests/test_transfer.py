"""Ctrl-C during a batch (xtstore.transfer): a flag while the batch runs, never an exception
in the middle of the thread pool's locking, then one ``KeyboardInterrupt`` after every transfer
stopped. Content types: uploads guess or take one, copies between services keep the
source's."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

import pytest

import xtstore
from xtstore.errors import TransientError
from xtstore.interface import ProgressCallback
from xtstore.layers.retry import RetryPolicy
from xtstore.providers.memory.store import MemoryProvider
from xtstore.store import Store
from xtstore.transfer import (
    Transfer,
    TransferCancelled,
    copy_transfer,
    run_transfers,
    upload_transfer,
)

STEPS = 400


@pytest.fixture
def default_sigint() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _steps(record: list[str], name: str, on_step: Callable[[int], None] = lambda step: None
           ) -> Transfer:
    def action(progress: ProgressCallback) -> None:
        try:
            for step in range(STEPS):
                on_step(step)
                time.sleep(0.001)
                progress(step, STEPS)
        except TransferCancelled:
            record.append(f"{name} stopped")
            raise
        record.append(f"{name} done")

    return Transfer(name, STEPS, action)


def _ctrl_c() -> None:
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def test_ctrl_c_stops_every_transfer_then_raises_keyboard_interrupt(default_sigint: None
                                                                    ) -> None:
    record: list[str] = []
    handlers: list[object] = []

    def first_step(step: int) -> None:
        if step == 10:
            handlers.append(signal.getsignal(signal.SIGINT))
            _ctrl_c()

    transfers = [_steps(record, "first", first_step),
                 *(_steps(record, f"other{index}") for index in range(5))]
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_transfers(transfers, workers=2)
    assert time.monotonic() - started < 10
    # While the batch ran, Ctrl-C went to the batch's own handler, not Python's raising one.
    assert handlers and handlers[0] is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert "first stopped" in record and "first done" not in record
    assert not any(line.endswith("done") for line in record), record


def test_ctrl_c_after_the_last_transfer_still_interrupts(default_sigint: None) -> None:
    record: list[str] = []

    def whole_then_ctrl_c(progress: ProgressCallback) -> None:
        progress(STEPS, STEPS)
        record.append("only done")
        _ctrl_c()

    with pytest.raises(KeyboardInterrupt):
        run_transfers([Transfer("only", STEPS, whole_then_ctrl_c)], workers=1)
    assert record == ["only done"]


def test_many_ctrl_c_at_random_moments_never_hang(default_sigint: None) -> None:
    for attempt in range(40):
        record: list[str] = []
        timers: list[threading.Timer] = []

        def arm(step: int, delay: float = 0.002 * (attempt % 20),
                timers: list[threading.Timer] = timers) -> None:
            if step == 0:  # the batch is running: Ctrl-C some moments later
                timers.append(threading.Timer(delay, _ctrl_c))
                timers[0].start()

        transfers = [_steps(record, "t0", arm),
                     *(_steps(record, f"t{index}") for index in range(1, 8))]
        with pytest.raises(KeyboardInterrupt):
            run_transfers(transfers, workers=4)
        timers[0].join()
        assert not any(line.endswith("done") for line in record), (attempt, record)


def test_an_applications_own_sigint_handler_is_left_in_place() -> None:
    calls: list[int] = []

    def own(signum: int, frame: FrameType | None) -> None:
        calls.append(signum)

    previous = signal.signal(signal.SIGINT, own)
    try:
        seen: list[object] = []
        record: list[str] = []
        run_transfers([_steps(record, "one", lambda step: seen.append(
            signal.getsignal(signal.SIGINT)) if step == 0 else None)], workers=1)
        assert seen == [own] and record == ["one done"]
        assert signal.getsignal(signal.SIGINT) is own
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_the_batch_runs_without_a_handler() -> None:
    outcome: list[str] = []

    def in_thread() -> None:
        summary = run_transfers([_steps(outcome, "one")], workers=1)
        outcome.append(f"files={summary.files}")

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(30)
    assert outcome == ["one done", "files=1"]


def _file_and_memory(tmp_path: Path) -> tuple[Store, Store]:
    config = {"external-services": {
        "disk": {"type": "storage", "provider": "store-file", "path": str(tmp_path / "disk")},
        "mem": {"type": "storage", "provider": "store-memory"}}}
    disk, mem = xtstore.get_storage("disk", config), xtstore.get_storage("mem", config)
    disk.create_container("runs")
    mem.create_container("backup")
    return disk, mem


def test_uploads_guess_the_content_type_or_take_the_one_given(tmp_path: Path) -> None:
    disk, _ = _file_and_memory(tmp_path)
    source = tmp_path / "rows.jsonl"
    source.write_bytes(b"{}\n")
    run_transfers([upload_transfer(disk, "runs", "a/rows.jsonl", str(source), 3),
                   upload_transfer(disk, "runs", "b/rows.jsonl", str(source), 3,
                                   content_type="application/x-custom")], workers=2)
    found = [disk.get_blob_properties("runs", name).properties for name in
             ("a/rows.jsonl", "b/rows.jsonl")]
    assert [p.content_type for p in found if p is not None] == [
        "application/jsonl", "application/x-custom"]


def test_a_copy_between_services_keeps_the_source_s_content_type(tmp_path: Path) -> None:
    disk, mem = _file_and_memory(tmp_path)
    disk.create_blob("runs", "model.pt", b"w" * 1000, content_type="application/x-torch")
    disk.create_blob("runs", "notes.txt", b"n")
    run_transfers([copy_transfer(disk, "runs", "model.pt", mem, "backup", "copy.csv", 1000),
                   copy_transfer(disk, "runs", "notes.txt", mem, "backup", "notes.md", 1),
                   copy_transfer(mem, "backup", "copy.csv", disk, "runs", "back.bin", 1000)],
                  workers=1)
    types = {name: store.get_blob_properties(container, name).properties
             for store, container, name in ((mem, "backup", "copy.csv"),
                                            (mem, "backup", "notes.md"),
                                            (disk, "runs", "back.bin"))}
    assert {name: p.content_type for name, p in types.items() if p is not None} == {
        "copy.csv": "application/x-torch", "notes.md": "text/plain",
        "back.bin": "application/x-torch"}
    assert mem.get_blob_bytes("backup", "copy.csv") == b"w" * 1000


def test_an_upload_keeps_the_file_mtime_and_a_download_gives_it_back(tmp_path: Path) -> None:
    from xtstore.fingerprints import mtime_ns
    from xtstore.transfer import download_transfer

    _, mem = _file_and_memory(tmp_path)
    source = tmp_path / "a.txt"
    source.write_bytes(b"alpha\n")
    stamp = 1_700_000_000_123_456_789
    os.utime(source, ns=(stamp, stamp))
    run_transfers([upload_transfer(mem, "backup", "a.txt", str(source), 6, keep_mtime=True)])
    info = mem.get_blob_properties("backup", "a.txt")
    assert info.properties is not None and mtime_ns(info.properties) == stamp
    back = tmp_path / "back.txt"
    run_transfers([download_transfer(mem, "backup", "a.txt", str(back), 6, read_mtime=True)])
    assert os.stat(back).st_mtime_ns == stamp
    # Without read_mtime the time given is set (the listing's, for a store that keeps none).
    run_transfers([download_transfer(mem, "backup", "a.txt", str(back), 6, mtime_ns=stamp + 1)])
    assert os.stat(back).st_mtime_ns == stamp + 1


def test_an_upload_given_the_listed_mtime_keeps_that_one(tmp_path: Path) -> None:
    from xtstore.fingerprints import mtime_ns

    _, mem = _file_and_memory(tmp_path)
    source = tmp_path / "a.txt"
    source.write_bytes(b"alpha\n")
    listed = os.stat(source).st_mtime_ns - 5_000_000_000  # as stated before a later change
    run_transfers([upload_transfer(mem, "backup", "a.txt", str(source), 6, keep_mtime=True,
                                   mtime_ns=listed)])
    info = mem.get_blob_properties("backup", "a.txt")
    assert info.properties is not None and mtime_ns(info.properties) == listed


def test_a_move_deletes_its_source_only_after_the_copy(tmp_path: Path) -> None:
    from xtstore.errors import BlobNotFound
    from xtstore.transfer import move_transfer

    disk, mem = _file_and_memory(tmp_path)
    disk.create_blob("runs", "a.txt", b"a")
    summary = run_transfers([move_transfer(disk, "runs", "a.txt", mem, "backup", "a.txt", 1),
                             move_transfer(disk, "runs", "gone.txt", mem, "backup", "b", 1)],
                            keep_going=True)
    assert summary.files == 1 and [f.label for f in summary.failures] == ["b"]
    assert isinstance(summary.failures[0].error, BlobNotFound)
    assert mem.get_blob_bytes("backup", "a.txt") == b"a"
    assert not disk.does_blob_exist("runs", "a.txt")
    assert not mem.does_blob_exist("backup", "b")


def test_bwlimit_holds_a_batch_to_its_rate(tmp_path: Path) -> None:
    """Four 64 KiB transfers reporting progress in 16 KiB steps at 128 KiB/s: at least
    (256 KiB - the 12.8 KiB burst) / 128 KiB/s = 1.9 s, whatever the number of workers."""
    size, step = 64 * 1024, 16 * 1024

    def chunked(progress: ProgressCallback) -> None:
        for done in range(step, size + 1, step):
            progress(done, size)

    started = time.monotonic()
    summary = run_transfers([Transfer(f"t{n}", size, chunked) for n in range(4)], workers=4,
                            bwlimit=128 * 1024)
    elapsed = time.monotonic() - started
    assert summary.files == 4 and summary.bytes == 4 * size
    assert 1.9 <= elapsed < 4, elapsed
    # A transfer that reports nothing mid-way is counted when it ends; a server-side copy
    # (bytes never through this machine) is not counted at all.
    started = time.monotonic()
    run_transfers([Transfer("quiet", size, lambda progress: None),
                   Transfer("copy", 100 * size, lambda progress: None, moves_bytes=False),
                   Transfer("next", 1, lambda progress: None)], workers=1, bwlimit=size)
    assert 0.9 <= time.monotonic() - started < 2.5


def test_bandwidth_limit_reserves_against_its_rate() -> None:
    from xtstore.transfer import BandwidthLimit

    limit = BandwidthLimit(1000, burst=100)
    assert limit.reserve(500) == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError):
        BandwidthLimit(0)


def test_parse_rate() -> None:
    from xtstore.cli.cmd_transfer import parse_rate

    assert parse_rate("512K") == 512 * 1024
    assert parse_rate("10M") == parse_rate("10MiB") == 10 * 1024 * 1024
    assert parse_rate("1.5m") == 1536 * 1024
    assert parse_rate("2000") == 2000
    assert parse_rate("1G") == 1024**3
    for bad in ("", "fast", "-1M", "0", "10X"):
        with pytest.raises(ValueError):
            parse_rate(bad)


class _FailsFirstUpload(MemoryProvider):
    """Reads part of the stream, then fails transiently once, as XT's FileStore does when two
    uploads make the same new folder at once."""

    def __init__(self) -> None:
        super().__init__({"name": "flaky"})
        self.attempts = 0

    def create_blob_from_stream(self, container: str, blob_path: str, stream: IO[bytes],
                                length: int | None = None,
                                progress_callback: ProgressCallback | None = None,
                                **kwargs: Any) -> None:
        self.attempts += 1
        if self.attempts == 1:
            stream.read(100)
            raise TransientError("a folder on the blob's path was being made at the same time")
        super().create_blob_from_stream(container, blob_path, stream, length,
                                        progress_callback, **kwargs)


def test_a_copy_between_services_is_retried_from_the_start_after_a_transient_failure(
    tmp_path: Path
) -> None:
    disk, _ = _file_and_memory(tmp_path)
    disk.create_blob("runs", "model.pt", bytes(range(256)) * 40)
    provider = _FailsFirstUpload()
    flaky = Store(provider, "flaky", retry=RetryPolicy(attempts=3, base_delay=0.001))
    flaky.create_container("backup")
    summary = run_transfers([copy_transfer(disk, "runs", "model.pt", flaky, "backup",
                                           "model.pt", 10240)], workers=1)
    assert provider.attempts == 2 and summary.files == 1 and summary.bytes == 10240
    assert flaky.get_blob_bytes("backup", "model.pt") == bytes(range(256)) * 40
