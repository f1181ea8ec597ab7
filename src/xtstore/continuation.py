"""Results that go on making requests after their call returned: an ``open_blob`` stream's
later reads and an ``iter_blobs`` listing's later pages (docs/contract.md §1, "Retry").

The Store runs each call inside its layers, so the retry policy covers the call's own
requests. A provider's result that needs more requests later implements
:class:`Continuing`; the Store hands it a :class:`StepRunner` that runs each later step
inside the same layers, under the same retry policy, typed and named like the call. A step
must be safe to repeat: it starts again from what the result has already delivered (a byte
offset, a continuation token), never from a half-consumed stream. Used bare, outside a
Store, a result runs its steps directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

__all__ = ["Continuing", "StepRunner", "run_directly"]

T = TypeVar("T")


class StepRunner(Protocol):
    """Runs one later step of a call: ``step`` names it in logs and errors (for example
    ``"open_blob.read"``), ``body`` makes its requests and may be run more than once."""

    def __call__(self, step: str, body: Callable[[], T]) -> T: ...


def run_directly(step: str, body: Callable[[], T]) -> T:
    """The runner of a result used bare: each step once, as it is."""
    return body()


@runtime_checkable
class Continuing(Protocol):
    """A provider's result whose later requests the Store's layers should run."""

    def continue_under(self, run: StepRunner) -> None:
        """Run every later step through ``run`` from now on."""
