"""The default number of transfer workers: one for small files between local stores (the
work is Python holding the interpreter lock), the usual pool otherwise; --workers wins."""

from __future__ import annotations

from pathlib import Path

from xtstore.providers.file.store import FileProvider
from xtstore.providers.s3.store import S3Provider
from xtstore.store import Store
from xtstore.transfer import DEFAULT_WORKERS, Transfer, workers_for


def batch(size: int, count: int = 10) -> list[Transfer]:
    return [Transfer(f"f{number}", size, lambda progress: None) for number in range(count)]


def test_small_files_between_local_stores_take_one_worker(tmp_path: Path) -> None:
    local = Store(FileProvider({"name": "disk", "path": str(tmp_path)}), "disk")
    assert workers_for(None, [local], batch(4096)) == 1
    assert workers_for(None, [local], batch(50 * 2**20)) == DEFAULT_WORKERS
    assert workers_for(3, [local], batch(4096)) == 3


def test_a_remote_store_keeps_the_pool(tmp_path: Path) -> None:
    local = Store(FileProvider({"name": "disk", "path": str(tmp_path)}), "disk")
    # Built without contacting a store: nothing listens on port 9.
    remote = Store(S3Provider({"name": "cloud", "endpoint-url": "http://127.0.0.1:9",
                               "region": "us-east-1", "access-key-id": "id",
                               "secret-access-key": "not-a-secret"}), "cloud")
    assert workers_for(None, [local, remote], batch(4096)) == DEFAULT_WORKERS
    assert workers_for(None, [remote], []) == DEFAULT_WORKERS
