"""Error context: every error leaving a store names its service, container and blob, and the
exceptions a provider lets through (``OSError`` family, timeouts) become typed store errors."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TypeVar

from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    StoreError,
    TransientError,
)
from xtstore.layers import Call

__all__ = ["ErrorContextLayer", "translate_builtin_error"]

T = TypeVar("T")

_TRANSIENT_ERRNOS = frozenset(
    {errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE, errno.EAGAIN}
)


def translate_builtin_error(error: BaseException, call: Call) -> StoreError | None:
    """The typed error for a built-in exception a provider raised, or None to let it pass."""
    if isinstance(error, StoreError):
        return error
    names_blob = call.blob is not None
    if isinstance(error, ConnectionRefusedError):
        return TransientError(f"connection refused: {error}", request_sent=False)
    if isinstance(error, (TimeoutError, ConnectionError)):
        return TransientError(f"{type(error).__name__}: {error}")
    if isinstance(error, FileNotFoundError):
        if names_blob:
            return BlobNotFound("blob not found")
        return ContainerNotFound("container not found")
    if isinstance(error, FileExistsError):
        if names_blob:
            return BlobAlreadyExists("blob already exists")
        return ContainerAlreadyExists("container already exists")
    if isinstance(error, PermissionError):
        return AccessDenied(f"access denied: {error}")
    if isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS:
        return TransientError(f"{type(error).__name__}: {error}")
    return None


class ErrorContextLayer:
    """Innermost layer: translate, then fill in the call's service, container and blob."""

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        try:
            return proceed()
        except Exception as error:
            typed = translate_builtin_error(error, call)
            if typed is None:
                raise
            typed.add_context(service=call.service, container=call.container, blob=call.blob)
            if typed is error:
                raise
            raise typed from error
