"""The one retry policy: transient errors only, exponential backoff with full jitter, bounded
by a number of attempts and a total time budget (docs/contract.md §1, "Retry"), or XT's retry
function asked before each retry instead. A store's ``Retry-After`` is honoured either way."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from xtstore.attempts import current_attempt
from xtstore.errors import ConfigError, TransientError
from xtstore.layers import Call

__all__ = ["RetryContext", "RetryLayer", "RetryPolicy", "RetryResponse"]

T = TypeVar("T")


class RetryPolicy(NamedTuple):
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
        return self._replace(attempts=max(0, int(retries)) + 1)

    def delay(self, retry_number: int) -> float:
        """Full-jitter backoff before retry number ``retry_number`` (1-based)."""
        import random  # here: a command that never retries never loads it

        ceiling = min(self.max_delay, self.base_delay * (2 ** (retry_number - 1)))
        return random.uniform(0, ceiling)


class RetryResponse:
    """``context.response`` of a failure that had an HTTP response: its ``status``."""

    def __init__(self, status: int) -> None:
        self.status = status

    def __repr__(self) -> str:
        return f"<RetryResponse status={self.status}>"


class RetryContext:
    """What XT's retry function is given, shaped like azure-storage 2.x's retry context: one
    per interface call. ``count`` starts at 0 and is left to the function (XT's own
    ``make_retry_func`` increments it); ``exception`` is the failure about to be retried;
    ``response`` is None when there was no HTTP response, else has ``.status``. A plain
    object, so the function may keep more attributes on it."""

    def __init__(self) -> None:
        self.count = 0
        self.exception: BaseException | None = None
        self.response: RetryResponse | None = None


class RetryLayer:
    """Retries :class:`TransientError`; a non-idempotent call only when its request was never
    sent or its provider made a repeat harmless (``xtstore.attempts``). A non-idempotent
    call's final ``TransientError`` says whether its change may have been applied
    (``may_have_applied``, and in its message). ``sleep`` and ``clock`` are parameters so
    that tests can run without waiting.

    With ``function`` set (XT's retry function), it alone decides: before each retry it is
    asked for the seconds to wait, and None re-raises the failure; the policy's attempts and
    time budget then do not apply (its ``max_delay`` still bounds a store's ``Retry-After``).

    A failure that carries ``retry_after`` (the store's ``Retry-After``) is retried no sooner:
    the pause is the longer of the backoff and that wait. When the store asks for more than
    the policy's ``max_delay``, or for more than the time budget has left, the failure is
    raised at once rather than retried early.

    A call that is not ``repeatable`` runs once."""

    passive_on_success = True

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.function: Callable[[Any], Any] | None = None
        self._sleep = sleep
        self._clock = clock

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        try:
            if not call.repeatable:
                return proceed()
            if self.function is not None:
                return self._as_function_says(self.function, call, proceed)
            return self._as_policy_says(call, proceed)
        except TransientError as error:
            # In one place, whichever way the call gave up.
            _say_whether_applied(call, error)
            raise

    def _as_policy_says(self, call: Call, proceed: Callable[[], T]) -> T:
        policy = self.policy
        deadline = self._clock() + policy.total_timeout
        attempt = 1
        while True:
            try:
                return proceed()
            except TransientError as error:
                if attempt >= policy.attempts or not _may_repeat(call, error):
                    raise
                pause = policy.delay(attempt)
                if error.retry_after is not None:
                    if error.retry_after > policy.max_delay:
                        raise
                    pause = max(pause, error.retry_after)
                if self._clock() + pause > deadline:
                    raise
                self._sleep(pause)
                attempt += 1

    def _as_function_says(
        self, function: Callable[[Any], Any], call: Call, proceed: Callable[[], T]
    ) -> T:
        context = RetryContext()
        while True:
            try:
                return proceed()
            except TransientError as error:
                if not _may_repeat(call, error):
                    raise
                context.exception = error
                context.response = None if error.status is None else RetryResponse(error.status)
                # Asked inside the except block: XT's function logs sys.exc_info().
                pause = function(context)
                if pause is None:
                    raise
                if (isinstance(pause, bool) or not isinstance(pause, (int, float))
                        or not math.isfinite(pause) or pause < 0):
                    # NaN made time.sleep raise ValueError, infinity sleep forever.
                    raise ConfigError(
                        f"the retry function returned {pause!r}, not seconds or None"
                        " (seconds: a finite number >= 0)",
                        service=call.service,
                    ) from error
                wait = float(pause)
                if error.retry_after is not None:
                    # Bounded like the policy's own waits: a store asking for longer ends it.
                    if error.retry_after > self.policy.max_delay:
                        raise
                    wait = max(wait, error.retry_after)
                self._sleep(wait)


def _may_repeat(call: Call, error: TransientError) -> bool:
    return call.idempotent or not error.request_sent or current_attempt().repeat_safe


def _say_whether_applied(call: Call, error: TransientError) -> None:
    """A non-idempotent call gives up: tell the caller whether to look before repeating it."""
    if call.idempotent or error.may_have_applied is not None:
        return
    error.may_have_applied = error.request_sent
    if error.request_sent:
        error.reason += " (the change may have been applied: check before repeating it)"
