"""Layers: behaviour shared by every provider, wrapped around it instead of written into it.

A layer is a callable ``layer(call, proceed)`` that runs ``proceed()`` (the rest of the stack
and finally the provider method) and may retry it, time it, or translate what it raises.
:class:`xtstore.store.Store` runs every interface call through its stack, outermost first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, TypeVar

__all__ = ["Call", "Layer", "run_through"]

T = TypeVar("T")


class Call(NamedTuple):
    """One interface call as the layers see it. A named tuple: one is made per call, and a
    frozen dataclass costs several times more to build."""

    operation: str
    service: str
    container: str | None = None
    blob: str | None = None
    idempotent: bool = True
    """False where repeating a request that reached the store could change the outcome
    (appends, create-only writes): such calls are retried only if the request was never sent."""
    local_path: str | None = None
    """The local file the call reads or writes (uploads from and downloads to a path)."""


class Layer(Protocol):
    def __call__(self, call: Call, proceed: Callable[[], T]) -> T: ...


def run_through(layers: Sequence[Layer], call: Call, operation: Callable[[], T]) -> T:
    """Run ``operation`` inside ``layers`` (the first is outermost)."""
    proceed = operation
    for layer in reversed(layers):
        proceed = _bind(layer, call, proceed)
    return proceed()


def _bind(layer: Layer, call: Call, proceed: Callable[[], T]) -> Callable[[], T]:
    return lambda: layer(call, proceed)
