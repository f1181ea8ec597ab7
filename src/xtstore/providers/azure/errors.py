"""The one place where azure-core / azure-storage-blob exceptions become xtstore errors:
:func:`translate`, which the Store's error layer calls through
``AzureBlobProvider.translate_error``; :func:`mapped_errors` only where the provider branches
on the typed error itself.

Messages are scrubbed of the service's secrets (a SAS token can appear in a URL quoted by
urllib3) and the SDK exception is not chained, so neither ``str``, ``repr`` nor a traceback of
an xtstore error shows a key.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import unquote

from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    PreconditionFailed,
    StoreError,
    TransientError,
)
from xtstore.providers._shared import retry_after_seconds

__all__ = [
    "TRANSIENT_STATUS",
    "Scrubber",
    "error_code",
    "mapped_errors",
    "redact_transport_logs",
    "translate",
]

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})

_CONTAINER_CODES = frozenset({"ContainerNotFound"})
_BLOB_MISSING_CODES = frozenset({"BlobNotFound", "CannotVerifyCopySource"})


class Scrubber:
    """Replaces every secret value in a text by ``***``: each secret as given and URL-decoded,
    and the signature alone of a SAS token (the only part of it that is secret)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            variants.update((secret, unquote(secret)))
            for part in secret.split("&"):
                name, _, value = part.partition("=")
                if name.lstrip("?") == "sig" and value:
                    variants.update((value, unquote(value)))
        self._secrets = sorted((v for v in variants if len(v) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return f"<Scrubber of {len(self._secrets)} secrets>"


class _TransportLogRedactor(logging.Filter):
    """urllib3 logs each request line at DEBUG, and a SAS token travels in the URL."""

    def __init__(self) -> None:
        super().__init__()
        self.scrubbers: weakref.WeakSet[Scrubber] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = message
        for scrub in list(self.scrubbers):
            clean = scrub(clean)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_REDACTOR = _TransportLogRedactor()
logging.getLogger("urllib3.connectionpool").addFilter(_REDACTOR)


def redact_transport_logs(scrub: Scrubber) -> None:
    """Keep ``scrub``'s secrets out of urllib3's request log for as long as it lives."""
    _REDACTOR.scrubbers.add(scrub)


def error_code(error: BaseException) -> str | None:
    """The ``x-ms-error-code`` of an SDK error (None for transport errors)."""
    code = getattr(error, "error_code", None)
    if code is None:
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None)
        if headers is not None:
            code = headers.get("x-ms-error-code")
    return str(code.value if hasattr(code, "value") else code) if code else None


def _status(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return int(status) if status is not None else None


def _retry_after(error: BaseException) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None)
    return retry_after_seconds(headers.get("Retry-After")) if headers is not None else None


def _reason(error: BaseException, scrub: Scrubber) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else ""
    return scrub(first_line)


def translate(error: BaseException, scrub: Scrubber, *, about_blob: bool) -> StoreError | None:
    """The typed error for an azure-core exception, or None if ``error`` is not one.

    ``about_blob`` says whether the call names a blob: a 404 without an error code (HEAD
    responses have no body) then means the blob is missing rather than the container.
    """
    from azure.core.exceptions import (
        AzureError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(error, StoreError) or not isinstance(error, AzureError):
        return None
    reason = _reason(error, scrub)
    if isinstance(error, ServiceRequestError):
        # azure-core raises this only when the connection could not be opened or the request
        # could not be written, so the store never saw it and any call may be repeated.
        return TransientError(f"request not sent: {reason}", request_sent=False)
    if isinstance(error, ServiceResponseError):
        return TransientError(f"no response: {reason}")
    if not isinstance(error, HttpResponseError):
        return StoreError(f"Azure error: {reason}")
    status = _status(error)
    code = error_code(error)
    label = f"{status} {code}" if code else f"HTTP {status}"
    if status is None or status in TRANSIENT_STATUS:
        return TransientError(f"{label}: {reason}", status=status,
                              retry_after=_retry_after(error))
    if status == 404:
        if code in _CONTAINER_CODES or (code is None and not about_blob):
            return ContainerNotFound("container not found")
        if code in _BLOB_MISSING_CODES or code is None:
            return BlobNotFound("blob not found")
        return StoreError(f"{label}: {reason}")
    if status == 409:
        if code == "ContainerAlreadyExists":
            return ContainerAlreadyExists("container already exists")
        if code == "BlobAlreadyExists":
            return BlobAlreadyExists("blob already exists")
        if code == "ContainerBeingDeleted":
            # Azure refused the request outright while it finishes deleting a container of
            # the same name, so repeating it is safe even for a create.
            return TransientError(f"{label}: {reason}", request_sent=False, status=status)
        return StoreError(f"{label}: {reason}")
    if status == 412:
        return PreconditionFailed(f"{label}: {reason}")
    if status in (401, 403):
        return AccessDenied(f"{label}: {reason}")
    return StoreError(f"{label}: {reason}")


@contextmanager
def mapped_errors(scrub: Scrubber, *, about_blob: bool = True) -> Iterator[None]:
    """Run a block of SDK calls, raising typed, scrubbed xtstore errors instead of SDK ones."""
    try:
        yield
    except Exception as error:
        typed = translate(error, scrub, about_blob=about_blob)
        if typed is None:
            raise
        # Not chained: the SDK exception may quote a signed URL.
        raise typed from None
