"""Debug logging of every interface call: operation, names, duration and outcome.

Costs one ``isEnabledFor`` check per call when the ``xtstore`` logger is not at DEBUG, and
nothing while no module has imported :mod:`logging`: then nothing can have set a level or a
handler, so the logger is at the default WARNING and would make no debug record. A command on
a local store never loads it (see :func:`xtstore.secrets.install`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from xtstore.layers import Call

if TYPE_CHECKING:
    import logging

__all__ = ["LoggingLayer"]

T = TypeVar("T")

_DEBUG = 10  # logging.DEBUG, without importing logging
_logger: logging.Logger | None = None


def _debug_logger() -> logging.Logger | None:
    """The ``xtstore.calls`` logger where it is at DEBUG, else None."""
    global _logger
    if _logger is None:
        module = sys.modules.get("logging")
        if module is None:
            return None
        _logger = module.getLogger("xtstore.calls")
    return _logger if _logger.isEnabledFor(_DEBUG) else None


class LoggingLayer:
    @property
    def passive_on_success(self) -> bool:
        return _debug_logger() is None

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        logger = _debug_logger()
        if logger is None:
            return proceed()
        started = time.perf_counter()
        try:
            result = proceed()
        except Exception as error:
            logger.debug(
                "%s %s/%s/%s failed after %.1f ms: %s", call.operation, call.service,
                call.container, call.blob, (time.perf_counter() - started) * 1e3, error,
            )
            raise
        logger.debug(
            "%s %s/%s/%s took %.1f ms", call.operation, call.service, call.container,
            call.blob, (time.perf_counter() - started) * 1e3,
        )
        return result
