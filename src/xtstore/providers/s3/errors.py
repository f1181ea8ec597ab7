"""The one place where boto3/botocore/s3transfer exceptions become xtstore's typed errors:
:func:`translate`, which the Store's error layer calls through ``S3Provider.translate_error``;
:func:`s3_errors` only where the provider branches on the typed error itself.

Messages are built from the S3 error code and message only, never from the request, so no
credential can leak into an exception (docs/contract.md §2; S3 error bodies never echo the secret
key).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from botocore import exceptions as boto_errors
from s3transfer.exceptions import RetriesExceededError  # type: ignore[import-untyped]

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
from xtstore.providers._shared import retry_after_seconds, typed_errors

__all__ = ["error_code", "s3_errors", "translate"]

_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "OperationAborted",
    }
)
_DAMAGED_CODES = frozenset({"BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest"})
"""S3 refusing a request body that does not match the checksum (or MD5, or signed SHA-256)
sent with it."""
_PRECONDITION_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})
_ALWAYS_ANSWERED = frozenset({"ContentLength", "LastModified", "ETag"})
"""Fields of HeadObject / GetObject that S3 sends with every object."""
_DENIED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
     "ExpiredToken", "InvalidToken"}
)
_NOT_SENT = (
    boto_errors.EndpointConnectionError,
    boto_errors.ConnectTimeoutError,
    boto_errors.ProxyConnectionError,
)
_SENT = (
    boto_errors.ReadTimeoutError,
    boto_errors.ConnectionClosedError,
    boto_errors.ResponseStreamingError,
    boto_errors.IncompleteReadError,
    boto_errors.HTTPClientError,
    boto_errors.ConnectionError,
)


def error_code(error: boto_errors.ClientError) -> str:
    """The S3 error code (``"404"`` for bodiless HEAD responses)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: boto_errors.ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _retry_after(error: boto_errors.ClientError) -> float | None:
    headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return retry_after_seconds(headers.get("retry-after"))


def translate(error: BaseException, *, create_only: bool = False) -> StoreError | None:
    """The typed error for an exception raised by boto3, or None if it is not one of its.

    ``create_only`` turns a failed ``If-None-Match: *`` precondition into
    :class:`BlobAlreadyExists` instead of :class:`PreconditionFailed`.
    """
    if isinstance(error, StoreError):
        return error
    if isinstance(error, RetriesExceededError) and error.last_exception is not None:
        return translate(error.last_exception, create_only=create_only)
    if isinstance(error, boto_errors.ClientError):
        return _translate_client_error(error, create_only)
    if isinstance(error, boto_errors.FlexibleChecksumError):
        return IntegrityError(f"S3 response failed its checksum: {error}")
    if isinstance(error, _NOT_SENT):
        return TransientError(f"cannot reach the S3 endpoint: {type(error).__name__}",
                              request_sent=False)
    if isinstance(error, _SENT):
        return TransientError(f"S3 connection failed: {type(error).__name__}")
    if isinstance(error, (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError)):
        return AccessDenied(f"no usable S3 credentials: {type(error).__name__}")
    if isinstance(error, KeyError) and error.args and error.args[0] in _ALWAYS_ANSWERED:
        # A response cut inside its headers parses as one without them; botocore raises
        # nothing, and whoever reads the field (s3transfer, or this provider) meets a KeyError.
        return TransientError(f"incomplete S3 response: no {error.args[0]}")
    return None


def _translate_client_error(error: boto_errors.ClientError, create_only: bool) -> StoreError:
    code = error_code(error)
    status = _status(error)
    message = str(error.response.get("Error", {}).get("Message", "")) or code
    reason = f"S3 {code}: {message}" if code and code != str(status) else f"S3 HTTP {status}"
    if code in _DAMAGED_CODES:
        return IntegrityError(f"the store refused the upload as damaged ({reason})")
    if code in _TRANSIENT_CODES or status in (408, 429) or status >= 500:
        return TransientError(reason, status=status or None, retry_after=_retry_after(error))
    if code in _PRECONDITION_CODES or status == 412:
        if create_only:
            return BlobAlreadyExists("blob already exists")
        return PreconditionFailed(f"the blob changed meanwhile ({reason})")
    if code == "NoSuchBucket":
        bucket = error.response.get("Error", {}).get("BucketName")
        return ContainerNotFound("container not found", container=bucket or None)
    if code in ("NoSuchKey", "NoSuchVersion") or status == 404:
        return BlobNotFound("blob not found")
    if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
        return ContainerAlreadyExists("container already exists")
    if code in _DENIED_CODES or status == 403:
        return AccessDenied(f"access denied ({reason})")
    return StoreError(reason)


def s3_errors(*, create_only: bool = False) -> AbstractContextManager[None]:
    """Raise the typed error for whatever boto3 raises inside the block."""
    return typed_errors(translate, create_only=create_only)
