"""The default number of transfer workers: one for small files between local stores (the
work is Python holding the interpreter lock), the usual pool otherwise; --workers wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xtstore.cli.cmd_transfer import _workers
from xtstore.providers.file.store import FileProvider
from xtstore.store import Store
from xtstore.transfer import DEFAULT_WORKERS, Transfer


def batch(size: int, count: int = 10) -> list[Transfer]:
    return [Transfer(f"f{number}", size, lambda progress: None) for number in range(count)]


def test_small_files_between_local_stores_take_one_worker(tmp_path: Path) -> None:
    local = Store(FileProvider({"name": "disk", "path": str(tmp_path)}), "disk")
    assert _workers(None, [local], batch(4096)) == 1
    assert _workers(None, [local], batch(50 * 2**20)) == DEFAULT_WORKERS
    assert _workers(3, [local], batch(4096)) == 3


def test_a_remote_store_keeps_the_pool(tmp_path: Path) -> None:
    local = Store(FileProvider({"name": "disk", "path": str(tmp_path)}), "disk")
    remote_provider: Any = object()  # stands for any provider that is not local
    remote = Store(remote_provider, "cloud")
    assert _workers(None, [local, remote], batch(4096)) == DEFAULT_WORKERS
    assert _workers(None, [remote], []) == DEFAULT_WORKERS
