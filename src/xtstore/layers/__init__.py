"""Layers: behaviour shared by every provider, wrapped around it instead of written into it.

A layer is a callable ``layer(call, proceed)`` that runs ``proceed()`` (the rest of the stack
and finally the provider method) and may retry it, time it, or translate what it raises.
:class:`xtstore.store.Store` runs every interface call through its stack, outermost first.

A layer that does nothing observable when the call succeeds at its first attempt (retry,
error context, logging while it is off) says so with ``passive_on_success = True``, a class
attribute, or a property returning a bool; a layer without it (a metrics layer, a call
counter) is taken to act on every call. When every layer is passive the Store tries the
call directly first and runs the stack only if that attempt fails (see
:func:`passive_now`), so a new layer needs no change to the Store either way.

Layers given to ``get_storage(layers=...)`` go with the store when it is pickled to a
worker, by value, so they must be picklable (module-level classes with picklable state).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, TypeVar

__all__ = ["Call", "Layer", "passive_now", "run_through"]

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
    repeatable: bool = True
    """False where the call cannot be attempted again at all, sent or not: the next entry of
    a listing (a generator that raised is finished), so no layer may retry it."""


class Layer(Protocol):
    def __call__(self, call: Call, proceed: Callable[[], T]) -> T: ...


def passive_now(layers: Sequence[Layer]) -> Callable[[], bool] | None:
    """How to tell, before a call, whether every one of ``layers`` is passive on success:
    None when some layer never is, else a check that costs nothing for the layers whose
    ``passive_on_success`` is a constant True and reads it again for those where it is a
    property (logging, which is passive while the logger is off)."""
    conditional: list[Callable[[], bool]] = []
    for layer in layers:
        declared = inspect.getattr_static(layer, "passive_on_success", False)
        if isinstance(declared, property) and declared.fget is not None:
            conditional.append(declared.fget.__get__(layer))  # the bound getter: one call
        elif declared is not True:
            return None
    if not conditional:
        return _always
    if len(conditional) == 1:
        return conditional[0]
    return lambda: all(passive() for passive in conditional)


def _always() -> bool:
    return True


def run_through(layers: Sequence[Layer], call: Call, operation: Callable[[], T]) -> T:
    """Run ``operation`` inside ``layers`` (the first is outermost)."""
    proceed = operation
    for layer in reversed(layers):
        proceed = _bind(layer, call, proceed)
    return proceed()


def _bind(layer: Layer, call: Call, proceed: Callable[[], T]) -> Callable[[], T]:
    return lambda: layer(call, proceed)
