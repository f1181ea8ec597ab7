"""Error context: every error leaving a store names its service, container and blob, and the
exceptions a provider lets through become typed store errors: its SDK's by the provider's one
translation function (``StoreInterface.translate_error``), the ``OSError`` family and timeouts
by the built-in translation here."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import Protocol, TypeVar

from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    InvalidName,
    StoreError,
    TransientError,
)
from xtstore.layers import Call

__all__ = [
    "ErrorContextLayer",
    "ProviderTranslation",
    "names_local_path",
    "translate_builtin_error",
]

T = TypeVar("T")

_TRANSIENT_ERRNOS = frozenset(
    {errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE, errno.EAGAIN}
)

_LISTINGS = frozenset({"list_blobs", "iter_blobs", "iter_blobs.next", "list_snapshots",
                       "iter_blobs.page", "list_blobs.page"})
"""Calls whose ``blob`` is a path inside the container (and the later pages of listings,
xtstore.paging): their requests are about the container, so a bodiless 404 means the
container is missing."""


class ProviderTranslation(Protocol):
    """A provider's ``translate_error``: the typed error for its SDK's exception, or None."""

    def __call__(self, error: BaseException, *, about_blob: bool) -> StoreError | None: ...


def translate_builtin_error(error: BaseException, call: Call) -> StoreError | None:
    """The typed error for a built-in exception a provider raised, or None to let it pass."""
    if isinstance(error, StoreError):
        return error
    if _about_local_file(error, call):
        return None
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
    if isinstance(error, OSError) and error.errno == errno.ENAMETOOLONG and names_blob:
        # A valid name a file-system store cannot hold: refused, never a raw OSError.
        return InvalidName(
            "a segment of this blob path is longer than the file system allows for one name"
            " (usually 255 bytes)"
        )
    if isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS:
        return TransientError(f"{type(error).__name__}: {error}")
    return None


def names_local_path(error: OSError, local_path: str) -> bool:
    """True if ``error`` is about ``local_path`` itself or one of the folders above it."""
    if error.filename is None:
        return False
    local = os.path.abspath(local_path)
    failed = os.path.abspath(os.fsdecode(error.filename))
    return failed == local or local.startswith(failed.rstrip(os.sep) + os.sep)


def _about_local_file(error: BaseException, call: Call) -> bool:
    """True for an OSError about the call's own local file (e.g. a destination folder that
    cannot be created) or a file beside it: that is the caller's file, not a missing blob, so
    it passes as is."""
    if call.local_path is None or not isinstance(error, OSError) or error.filename is None:
        return False
    return names_local_path(error, call.local_path) or (
        os.path.dirname(os.path.abspath(os.fsdecode(error.filename)))
        == os.path.dirname(os.path.abspath(call.local_path))
    )


class ErrorContextLayer:
    """Innermost layer: translate, then fill in the call's container and blob, and name the
    call's service. The service is set, not only filled in: a provider that delegates to
    another xtstore store lets through errors naming that inner service, and the caller
    must see the service it used. An error from reading another store's stream
    (``StoreError.from_stream``) already names the store and blob that failed and passes as
    it is.

    ``provider_translation`` (the provider's ``translate_error``, given once by the Store)
    is asked first; what it returns is raised without the provider's exception chained,
    since an SDK message may quote a credential. The built-in translation chains it."""

    passive_on_success = True

    def __init__(self, provider_translation: ProviderTranslation | None = None) -> None:
        self.provider_translation = provider_translation

    def __call__(self, call: Call, proceed: Callable[[], T]) -> T:
        try:
            return proceed()
        except Exception as error:
            typed = self.typed_error(error, call)
            if typed is None or typed is error:
                raise
            raise typed  # noqa: B904 - typed_error set the cause (or hid it)

    def typed_error(self, error: Exception, call: Call) -> StoreError | None:
        """``error`` as the typed error to raise for ``call``, naming its service, container
        and blob; None when it is not a store failure and passes as it is. Also used for
        errors raised where no layer runs (reading a stream after ``open_blob`` returned)."""
        if isinstance(error, StoreError):
            typed: StoreError | None = error
        else:
            typed = self._translate(error, call)
        if typed is not None and not typed.from_stream:
            typed.service = call.service
            typed.add_context(container=call.container, blob=call.blob)
        return typed

    def _translate(self, error: Exception, call: Call) -> StoreError | None:
        translation = self.provider_translation
        if translation is not None:
            about_blob = call.blob is not None and call.operation not in _LISTINGS
            typed = translation(error, about_blob=about_blob)
            if typed is not None:
                typed.__cause__ = None
                return typed
        typed = translate_builtin_error(error, call)
        if typed is not None:
            typed.__cause__ = error
        return typed
