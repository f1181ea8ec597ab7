"""The one retry policy: transient errors only, exponential backoff with full jitter, bounded
by a number of attempts and a total time budget (DESIGN §1, "Retry")."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from xtstore.errors import TransientError
from xtstore.layers import Call

__all__ = ["RetryLayer", "RetryPolicy"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` counts every try, the first included, so ``set_retry(n)`` means
    ``attempts = n + 1``. Delays are in seconds."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    total_timeout: float = 60.0

    @property
    def retries(self) -> int:
        return self.attempts - 1

    def with_retries(self, retries: int) -> RetryPolicy:
        return replace(self, attempts=max(0, int(retries)) + 1)

    def delay(self, retry_number: int) -> float:
        """Full-jitter backoff before retry number ``retry_number`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return random.uniform(0, ceiling)


class RetryLayer:
    """Retries :class:`TransientError`; a non-idempotent call only when its request was never
    sent. ``sleep`` and ``clock`` are parameters so that tests can run without waiting."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._sleep = sleep
        self._clock = clock

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        policy = self.policy
        deadline = self._clock() + policy.total_timeout
        attempt = 1
        while True:
            try:
                return proceed()
            except TransientError as error:
                if attempt >= policy.attempts:
                    raise
                if not call.idempotent and error.request_sent:
                    raise
                pause = policy.delay(attempt)
                if self._clock() + pause > deadline:
                    raise
                self._sleep(pause)
                attempt += 1
