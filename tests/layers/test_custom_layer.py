"""A layer defined here, outside xtstore, and passed through ``get_storage(layers=...)``: it
sees every call (also those the Store would otherwise try directly, and each step of
``iter_blobs``), goes with the store to a spawned worker and keeps counting there, with no
change to ``Store``. A layer that cannot be pickled makes the pickle fail, naming it."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

import xtstore
from xtstore.errors import BlobNotFound, TransientError, Unsupported
from xtstore.layers import Call
from xtstore.providers.memory import MemoryProvider
from xtstore.store import Store

T = TypeVar("T")


class CallCounter:
    """Counts the calls it sees by operation, and the failures it sees pass."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.failures: list[str] = []

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        self.calls[call.operation] = self.calls.get(call.operation, 0) + 1
        try:
            return proceed()
        except Exception as error:
            self.failures.append(type(error).__name__)
            raise


class Unpicklable(CallCounter):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()


def file_config(root: Path) -> dict[str, Any]:
    return {
        "external-services": {
            "files": {"type": "storage", "provider": "store-file", "path": str(root)}
        }
    }


def counter_of(store: Store) -> CallCounter:
    (layer,) = store.extra_layers
    assert isinstance(layer, CallCounter)
    return layer


def test_the_layer_sees_every_call_and_each_listing_step(tmp_path: Path) -> None:
    counter = CallCounter()
    store = xtstore.get_storage("files", file_config(tmp_path / "store"), layers=[counter])
    store.create_container("runs")
    for index in range(3):
        store.create_blob("runs", f"logs/{index}.txt", f"line {index}")
    assert store.get_blob_text("runs", "logs/0.txt") == "line 0"
    assert sorted(str(name) for name in store.list_blobs("runs")) == [
        "logs/0.txt", "logs/1.txt", "logs/2.txt"
    ]
    assert len(list(store.iter_blobs("runs", "logs/"))) == 3
    with pytest.raises(BlobNotFound, match="blob 'missing'"):
        store.get_blob_bytes("runs", "missing")
    assert counter.calls == {
        "create_container": 1,
        "create_blob": 3,
        "get_blob_text": 1,
        "list_blobs": 1,
        "iter_blobs": 1,
        "iter_blobs.next": 4,  # three entries and the end of the listing
        "get_blob_bytes": 1,
    }
    # Inside the layer the error is already typed: error context is innermost.
    assert counter.failures == ["BlobNotFound"]


class FlakyReads(MemoryProvider):
    def __init__(self) -> None:
        super().__init__({"name": "mem"})
        self.reads = 0

    def get_blob_text(self, container: str, blob_path: str) -> str:
        self.reads += 1
        if self.reads == 1:
            raise ConnectionResetError("reset")
        return super().get_blob_text(container, blob_path)


def test_retries_run_inside_the_layer() -> None:
    counter = CallCounter()
    provider = FlakyReads()
    store = Store(provider, "mem", extra_layers=[counter])
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "text")
    assert store.get_blob_text("runs", "a.txt") == "text"
    assert provider.reads == 2
    assert counter.calls["get_blob_text"] == 1
    assert counter.failures == []


def test_a_listing_step_that_fails_is_not_retried_and_reaches_the_layer() -> None:
    class FailingListing(MemoryProvider):
        steps = 0

        def iter_blobs(self, container: str, path: str | None = None,
                       recursive: bool = True) -> Any:
            yield from super().iter_blobs(container, path, recursive=recursive)
            FailingListing.steps += 1
            raise TransientError("page request failed", request_sent=False)

    counter = CallCounter()
    store = Store(FailingListing({"name": "mem"}), "mem", extra_layers=[counter])
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "text")
    with pytest.raises(TransientError, match="container 'runs'"):
        list(store.iter_blobs("runs"))
    assert FailingListing.steps == 1
    assert counter.calls["iter_blobs.next"] == 2
    assert counter.failures == ["TransientError"]


def _count_in_worker(payload: bytes) -> tuple[str, dict[str, int]]:
    store = pickle.loads(payload)
    text = store.get_blob_text("runs", "from-parent.txt")
    store.create_blob("runs", "from-worker.txt", "worker")
    return text, counter_of(store).calls


@pytest.mark.timeout(180)
def test_the_layer_survives_pickling_to_a_spawned_worker_and_counts_there(
    tmp_path: Path,
) -> None:
    store = xtstore.get_storage("files", file_config(tmp_path / "store"), layers=[CallCounter()])
    store.create_container("runs")
    store.create_blob("runs", "from-parent.txt", "parent")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        text, calls = pool.apply_async(_count_in_worker, (pickle.dumps(store),)).get(120)
    assert text == "parent"
    # The layer goes by value: the worker's copy starts from the parent's counts.
    assert calls == {"create_container": 1, "create_blob": 2, "get_blob_text": 1}
    assert counter_of(store).calls == {"create_container": 1, "create_blob": 1}
    assert store.get_blob_text("runs", "from-worker.txt") == "worker"


def test_a_layer_that_cannot_be_pickled_fails_the_pickle_naming_it(tmp_path: Path) -> None:
    store = xtstore.get_storage("files", file_config(tmp_path / "store"), layers=[Unpicklable()])
    with pytest.raises(Unsupported, match=r"service 'files'.*layer <.*Unpicklable.*cannot be"):
        pickle.dumps(store)
