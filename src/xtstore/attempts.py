"""The attempts of one non-idempotent interface call, as its provider sees them: how a
provider makes a repeat harmless (docs/contract.md §1, "Retry").

The retry layer repeats a non-idempotent call (append, create-only write, snapshot, delete,
create or delete of a container) after a failure whose request may have reached the store only
when the provider said a repeat is safe. A provider says so from inside the call::

    attempt = current_attempt()
    if "position" not in attempt.memo:          # the first attempt
        attempt.memo["position"] = size_now()
        attempt.repeat_safe = True              # the append below is conditional on it
    append_at(attempt.memo["position"], data)   # a repeat that finds it applied succeeds

``memo`` lives as long as the call, across every attempt, so what the first attempt learned
(the append position, the snapshot list before, the ETag written) lets a later one tell "my
change already applied" from "not yet". Outside a Store (a provider used bare) every call is
its own single attempt.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

__all__ = ["Attempt", "begin_call", "current_attempt", "end_call"]


class Attempt:
    """What a provider keeps across the attempts of one call."""

    __slots__ = ("memo", "repeat_safe")

    def __init__(self) -> None:
        self.memo: dict[str, Any] = {}
        self.repeat_safe = False
        """Set by the provider once repeating the call cannot apply its change twice."""

    def __repr__(self) -> str:
        return f"<Attempt repeat_safe={self.repeat_safe} memo={sorted(self.memo)}>"


_current: ContextVar[Attempt | None] = ContextVar("xtstore_attempt", default=None)


def current_attempt() -> Attempt:
    """The running call's attempts; a fresh, unshared one outside a Store's call."""
    attempt = _current.get()
    return Attempt() if attempt is None else attempt


def begin_call() -> tuple[Attempt, Token[Attempt | None]]:
    """Start a call's attempts (the Store, around a non-idempotent call and its retries)."""
    attempt = Attempt()
    return attempt, _current.set(attempt)


def end_call(token: Token[Attempt | None]) -> None:
    _current.reset(token)
