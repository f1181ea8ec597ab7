"""The one place where google-cloud-storage's exceptions become xtstore's typed errors:
:func:`translate`, which the Store's error layer calls through ``GCSProvider.translate_error``;
:func:`gcs_errors` only where the provider branches on the typed error itself.

Messages are built from the HTTP status and GCS's error message, never from the request or a
URL (a resumable session URL is a bearer capability), so no credential can leak into an
exception (docs/contract.md §2).
"""

from __future__ import annotations

import http.client
from contextlib import AbstractContextManager
from typing import Any

import requests
import urllib3
from google.api_core import exceptions as api_errors
from google.auth import exceptions as auth_errors
from google.resumable_media import common as media_errors

from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    IntegrityError,
    PreconditionFailed,
    StoreError,
    TransientError,
)
from xtstore.providers._shared import retry_after_seconds, typed_errors

__all__ = ["gcs_errors", "http_error", "translate"]

_NOT_SENT = (requests.exceptions.ConnectTimeout, requests.exceptions.InvalidURL)
_SENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
         requests.exceptions.ChunkedEncodingError, ConnectionError, auth_errors.TransportError,
         urllib3.exceptions.HTTPError, http.client.HTTPException)
"""Failures after the request went out; urllib3's and http.client's are what a streamed
body raises while it is read (a reset, a read timeout, a body cut short)."""


def http_error(response: Any) -> api_errors.GoogleAPICallError:
    """The SDK's exception for a failed response of a request made on the client's session
    (so that :func:`translate` reads it as it reads the SDK's own)."""
    error: api_errors.GoogleAPICallError = api_errors.from_http_response(  # type: ignore[no-untyped-call]
        response)
    return error


def _status(error: BaseException) -> int:
    if isinstance(error, api_errors.GoogleAPICallError):
        return int(error.code or 0)
    if isinstance(error, media_errors.InvalidResponse):
        return int(getattr(error.response, "status_code", 0) or 0)
    return 0


def _reason(error: BaseException, status: int) -> str:
    message = ""
    if isinstance(error, api_errors.GoogleAPICallError):
        # .message starts with the method and URL; the reason GCS gave is in .errors.
        details = [str(item.get("message", "")) for item in error.errors or ()
                   if isinstance(item, dict)]
        message = "; ".join(detail for detail in details if detail)
    return f"GCS HTTP {status}: {message}" if message else f"GCS HTTP {status}"


def _retry_after(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    return retry_after_seconds(headers.get("retry-after"))


def translate(error: BaseException, *, create_only: bool = False) -> StoreError | None:
    """The typed error for an exception raised by google-cloud-storage, or None if it is not
    one of its. A 404 is taken as a missing blob: where the bucket may be the missing one,
    the provider asks (GCS answers both with the same 404).

    ``create_only`` turns a failed ``ifGenerationMatch=0`` into :class:`BlobAlreadyExists`.
    """
    if isinstance(error, StoreError):
        return error
    if isinstance(error, media_errors.DataCorruption):
        # The SDK's check of a download, or of a resumable upload against the object made
        # (which it then deletes); its message says which.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "checksum"
        return IntegrityError(f"GCS content failed its checksum: {reason}")
    status = _status(error)
    if status:
        return _translate_status(error, status, create_only)
    if isinstance(error, _NOT_SENT):
        return TransientError(f"cannot reach the GCS endpoint: {type(error).__name__}",
                              request_sent=False)
    if isinstance(error, requests.exceptions.ConnectionError) and _refused(error):
        return TransientError(f"cannot reach the GCS endpoint: {type(error).__name__}",
                              request_sent=False)
    if isinstance(error, _SENT):
        return TransientError(f"GCS connection failed: {type(error).__name__}")
    if isinstance(error, (auth_errors.DefaultCredentialsError, auth_errors.RefreshError)):
        return AccessDenied(f"no usable GCS credentials: {type(error).__name__}")
    return None


def _refused(error: requests.exceptions.ConnectionError) -> bool:
    text = str(error)
    return "Connection refused" in text or "Failed to establish a new connection" in text


def _translate_status(error: BaseException, status: int, create_only: bool) -> StoreError:
    reason = _reason(error, status)
    if status in (408, 429) or status >= 500:
        return TransientError(reason, status=status, retry_after=_retry_after(error))
    if status == 412:
        if create_only:
            return BlobAlreadyExists("blob already exists")
        return PreconditionFailed(f"the blob changed meanwhile ({reason})")
    if status == 404:
        return BlobNotFound("blob not found")
    if status == 409:
        return ContainerAlreadyExists("container already exists")
    if status in (401, 403):
        return AccessDenied(f"access denied ({reason})")
    return StoreError(reason)


def gcs_errors(*, create_only: bool = False) -> AbstractContextManager[None]:
    """Raise the typed error for whatever google-cloud-storage raises inside the block."""
    return typed_errors(translate, create_only=create_only)
