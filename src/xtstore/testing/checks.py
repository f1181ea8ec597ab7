"""Assertions that name the clause of docs/contract.md §1 they check, so a failure reads as
``<clause> — expected ..., got ...`` and the report says which promise broke and how.

They raise ``AssertionError`` themselves (not ``assert``), so they also work under ``python -O``.
"""

from __future__ import annotations

import contextlib
import os
import reprlib
from collections import Counter
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Any, NoReturn, TypeVar

import pytest

from xtstore.errors import Unsupported
from xtstore.values import BlobProperties, Support

__all__ = [
    "check",
    "check_equal",
    "check_is_also",
    "check_raises",
    "describe_failed_call",
    "fail",
    "precondition",
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


def _same_entries(got: object, expected: object) -> bool:
    """``got`` and ``expected`` are sequences holding the same entries, in some order."""
    sequences = (list, tuple)
    if not isinstance(got, sequences) or not isinstance(expected, sequences):
        return False
    return Counter(map(repr, got)) == Counter(map(repr, expected))


def check_equal(got: object, expected: object, clause: str, what: str = "") -> None:
    """Fail unless ``got == expected``; the message shows both, and says so when the two are
    the same entries in a different order (a sorting bug, not a missing entry)."""
    if got != expected:
        subject = f"{what}: " if what else ""
        order = "same entries, different order: " if _same_entries(got, expected) else ""
        fail(clause, f"{subject}{order}expected {short(expected)}, got {short(got)}")


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


def check_is_also(error: BaseException, raised: type[BaseException],
                  builtin: type[BaseException]) -> None:
    """Clause "Errors": a ``raised`` error is also the built-in ``builtin``, so code written
    for the built-in (``except FileNotFoundError``) catches it."""
    check(isinstance(error, builtin), f"Errors: {raised.__name__} is also {builtin.__name__}",
          f"{type(error).__mro__} lacks {builtin.__name__}")


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


_SUITE_DIR = os.path.dirname(os.path.abspath(__file__))


def _in_suite(frame: FrameType) -> bool:
    return os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _SUITE_DIR


def _argument(value: object) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, str) and len(value) > 60:
        return f"<str of {len(value)} characters>"
    return short(value)


def _call_text(frame: FrameType) -> str:
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    count = code.co_argcount + code.co_kwonlyargcount
    names = [n for n in code.co_varnames[:count] if n not in ("self", "cls")]
    values = frame.f_locals
    arguments = ", ".join(f"{n}={_argument(values[n])}" for n in names if n in values)
    return f"{name}({arguments})"


def describe_failed_call(error: BaseException) -> str | None:
    """``"Store.create_blob(container='xtc-1', blob_path='b.bin', text=<1028 bytes>, ...)
    raised TypeError: ..."``: the first call the suite made (a store or provider method) on
    the way to ``error``, with its arguments. None if the error was raised by the suite's own
    code (then its message is the news)."""
    tb: TracebackType | None = error.__traceback__
    seen_suite = False
    while tb is not None:
        if _in_suite(tb.tb_frame):
            seen_suite = True
        elif seen_suite:
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return f"{_call_text(tb.tb_frame)} raised {reason}"
        tb = tb.tb_next
    return None


@contextlib.contextmanager
def precondition(clause: str, what: str) -> Iterator[None]:
    """Set up what ``clause`` needs (``what``, e.g. "writing the old version"); a call that
    fails here is reported as the clause not being able to run, not as the clause failing."""
    try:
        yield
    except (AssertionError, pytest.skip.Exception):
        raise
    except Exception as error:
        call = describe_failed_call(error) or f"{type(error).__name__}: {error}"
        fail(clause, f"could not run: {what}: {call}")
