"""The one place where azure-core / azure-storage-blob exceptions become xtstore errors:
:func:`translate`, which the Store's error layer calls through
``AzureBlobProvider.translate_error``; :func:`mapped_errors` only where the provider branches
on the typed error itself.

Messages are scrubbed of the service's secrets (a SAS token can appear in a URL quoted by
urllib3) and the SDK exception is not chained, so neither ``str``, ``repr`` nor a traceback of
an xtstore error shows a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    IntegrityError,
    PreconditionFailed,
    StoreError,
    TransientError,
)
from xtstore.providers._shared import retry_after_seconds
from xtstore.secrets import redact
from xtstore.secrets import register as register_secrets

__all__ = [
    "TRANSIENT_STATUS",
    "Scrubber",
    "error_code",
    "mapped_errors",
    "translate",
]

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})

_CONTAINER_CODES = frozenset({"ContainerNotFound"})
_BLOB_MISSING_CODES = frozenset({"BlobNotFound", "CannotVerifyCopySource"})
_DAMAGED_CODES = frozenset({"Md5Mismatch", "Crc64Mismatch"})
"""Azure refusing a body that does not match the MD5 / CRC64 sent with it (Azurite says
``InvalidOperation: Provided contentMD5 doesn't match``)."""
_DAMAGED_MESSAGES = ("MD5 mismatch", "CRC64 mismatch", "Provided contentMD5 doesn't match")
"""The SDK's own check of a response body (``validate_content``), and Azurite's refusal."""


class Scrubber:
    """Replaces every secret in a text by ``***``: this service's secrets (registered with
    :mod:`xtstore.secrets`, which redacts them from every log record too, urllib3's request
    lines with a SAS token in the URL among them) and every other secret it knows."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = tuple(secrets)
        register_secrets(self._secrets)

    def __call__(self, text: str) -> str:
        return redact(text, self._secrets)

    def __repr__(self) -> str:
        return f"<Scrubber of {len(self._secrets)} secrets>"


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
    damaged = any(reason.startswith(message) for message in _DAMAGED_MESSAGES)
    if not isinstance(error, HttpResponseError):
        if damaged:
            return IntegrityError(f"Azure content failed its check: {reason}", algorithm="md5")
        return StoreError(f"Azure error: {reason}")
    status = _status(error)
    code = error_code(error)
    label = f"{status} {code}" if code else f"HTTP {status}"
    if status == 400 and (code in _DAMAGED_CODES or damaged):
        return IntegrityError(f"the store refused the upload as damaged ({label}: {reason})")
    if status == 400 and code == "InvalidBlockList":
        # Another writer's commit of the same blob dropped the blocks this upload staged (Azure
        # keeps uncommitted blocks only until the blob's next commit). The refused commit
        # changed nothing, so the upload may be made again whole: concurrent overwrites end
        # last-writer-wins, as on every other store.
        return TransientError(f"{label}: another upload of this blob committed first and"
                              " dropped the blocks this one staged", status=status,
                              request_sent=False)
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
