"""Debug logging of every interface call: operation, names, duration and outcome.

Costs one ``isEnabledFor`` check per call when the ``xtstore`` logger is not at DEBUG."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from xtstore.layers import Call

__all__ = ["LoggingLayer"]

T = TypeVar("T")

logger = logging.getLogger("xtstore.calls")
_DEBUG = logging.DEBUG


class LoggingLayer:
    @property
    def passive_on_success(self) -> bool:
        return not logger.isEnabledFor(_DEBUG)

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        if not logger.isEnabledFor(logging.DEBUG):
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
