"""Assertions that name the clause of DESIGN §1 they check, so a failure reads as
``<clause> — expected ..., got ...`` and the report says which promise broke and how.

They raise ``AssertionError`` themselves (not ``assert``), so they also work under ``python -O``.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest

from xtstore.errors import Unsupported
from xtstore.values import BlobProperties, Support

__all__ = [
    "check",
    "check_equal",
    "check_raises",
    "fail",
    "properties_of",
    "require_feature",
    "short",
]

E = TypeVar("E", bound=BaseException)

_repr = reprlib.Repr()
_repr.maxstring = 120
_repr.maxother = 120
_repr.maxlist = 12
_repr.maxdict = 12


def short(value: object) -> str:
    """A repr short enough for a one-line failure message."""
    return _repr.repr(value)


def fail(clause: str, detail: str) -> NoReturn:
    """Fail the current test, quoting ``clause``."""
    # No brackets around the clause: rich-based output would take them for markup.
    raise AssertionError(f"{clause} — {detail}")


def check(condition: object, clause: str, detail: str) -> None:
    """Fail with ``detail`` unless ``condition`` is true."""
    if not condition:
        fail(clause, detail)


def check_equal(got: object, expected: object, clause: str, what: str = "") -> None:
    """Fail unless ``got == expected``; the message shows both."""
    if got != expected:
        subject = f"{what}: " if what else ""
        fail(clause, f"{subject}expected {short(expected)}, got {short(got)}")


def check_raises(
    error_type: type[E], clause: str, call: Callable[..., Any], *args: Any, **kwargs: Any
) -> E:
    """Call ``call(*args, **kwargs)`` and return the ``error_type`` it raised; fail if it
    returned, or raised something else."""
    try:
        result = call(*args, **kwargs)
    except error_type as error:
        return error
    except Exception as error:
        fail(
            clause,
            f"expected {error_type.__name__}, got {type(error).__name__}: {error}",
        )
    fail(clause, f"expected {error_type.__name__}, but the call returned {short(result)}")


def properties_of(info: object, clause: str, what: str) -> BlobProperties:
    """``info.properties`` of a blob's :class:`BlobInfo`; fails ``clause`` if there is none."""
    props = getattr(info, "properties", None)
    if not isinstance(props, BlobProperties):
        fail(clause, f"{what}: .properties is {short(props)}, not BlobProperties")
    return props


def require_feature(store: Any, feature: str, probe: Callable[[], object]) -> None:
    """Skip the calling clause if ``store.capabilities()`` reports ``feature`` UNSUPPORTED,
    after checking that ``probe()`` then raises :class:`~xtstore.errors.Unsupported` (a store
    never silently does nothing)."""
    support = getattr(store.capabilities(), feature)
    if support is not Support.UNSUPPORTED:
        return
    check_raises(
        Unsupported,
        f"capabilities: a feature reported UNSUPPORTED ({feature}) raises Unsupported",
        probe,
    )
    pytest.skip(f"{feature} is UNSUPPORTED by this store (and raises Unsupported as it must)")
