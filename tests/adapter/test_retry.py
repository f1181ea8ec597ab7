"""``set_retry`` reaches a foreign provider's own retry, so attempts are never multiplied: the
Store's one retry layer retries, the provider's own retry (XT's azure provider sets
``make_retry_func(10)`` in its ``__init__``) is switched off when wrapped and on every
``set_retry``, and ``get_retry()`` still returns what the user set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adapter.xt_style import SelfRetryingStore, TwoClientStore, XTStyleFileStore
from xtstore.adapter import ForeignProvider
from xtstore.errors import TransientError
from xtstore.layers.retry import RetryPolicy
from xtstore.store import Store

_NO_WAIT = RetryPolicy(attempts=5, base_delay=0.0, max_delay=0.0)


@pytest.fixture
def inner(tmp_path: Path) -> SelfRetryingStore:
    return SelfRetryingStore({"path": str(tmp_path)})


def test_set_retry_0_means_one_attempt_even_for_a_provider_that_retries_by_itself(
    inner: SelfRetryingStore,
) -> None:
    store = Store(ForeignProvider(inner, "xtaz"), "xtaz", retry=_NO_WAIT)
    store.set_retry(0)
    inner.failures = 100
    with pytest.raises(TransientError, match="being deleted"):
        store.create_container("runs")
    # XT's own loop would have made 11 attempts (and waited 126 s) for this one 409.
    assert inner.attempts == 1
    assert inner.waits == []


def test_each_store_attempt_is_one_provider_attempt(inner: SelfRetryingStore) -> None:
    store = Store(ForeignProvider(inner, "xtaz"), "xtaz", retry=_NO_WAIT)
    store.create_container("runs")
    store.create_blob("runs", "a", "text")
    store.set_retry(2)
    inner.attempts, inner.failures = 0, 100
    with pytest.raises(TransientError):
        store.get_blob_text("runs", "a")
    assert inner.attempts == 3  # 1 + 2 retries, all by the Store
    inner.attempts, inner.failures = 0, 1
    assert store.get_blob_text("runs", "a") == "text"
    assert inner.attempts == 2
    assert store.get_retry() == 2


def test_the_providers_own_retry_is_off_when_wrapped_and_after_every_set_retry(
    inner: SelfRetryingStore,
) -> None:
    provider = ForeignProvider(inner, "xtaz")
    assert callable(inner.retry) and inner.retry(object()) is None
    provider.set_retry(7)
    assert provider.get_retry() == 7  # what the caller set, not the provider's setting
    assert inner.retry(object()) is None
    inner.create_container("runs")
    inner.failures = 1
    with pytest.raises(Exception, match="being deleted"):
        inner.get_blob_text("runs", "a")  # its own loop gives up at once
    assert inner.attempts == 2


class _CountingRetry(XTStyleFileStore):
    """A provider whose own retry setting is a count."""

    def __init__(self, service: dict[str, str]) -> None:
        super().__init__(service)
        self.retry = 10


def test_a_provider_counting_its_retries_gets_0(tmp_path: Path) -> None:
    inner = _CountingRetry({"path": str(tmp_path)})
    provider = ForeignProvider(inner, "counting")
    assert inner.retry == 0
    provider.set_retry(3)
    assert inner.retry == 0 and provider.get_retry() == 3


def test_a_second_client_that_set_retry_never_reaches_is_switched_off_too(
    tmp_path: Path,
) -> None:
    inner = TwoClientStore({"path": str(tmp_path)})
    store = Store(ForeignProvider(inner, "xtaz"), "xtaz", retry=_NO_WAIT)
    store.set_retry(0)
    store.create_container("runs")
    inner.attempts, inner.failures = 0, 100
    with pytest.raises(TransientError, match="being deleted"):
        store.append_blob("runs", "log.txt", "line\n")
    assert inner.attempts == 1  # XT's append client alone would have made 11
