"""The one error hierarchy every provider raises (docs/contract.md §2).

Every error carries the service, container and blob it is about, and its message names them,
so that a failure deep in a batch job still says what to fix. Providers raise these with
whatever they know; the layer stack that ``get_storage()`` wraps around every provider fills
in the rest (see :mod:`xtstore.layers`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccessDenied",
    "BlobAlreadyExists",
    "BlobNotFound",
    "ConfigError",
    "ContainerAlreadyExists",
    "ContainerNotFound",
    "IntegrityError",
    "InvalidArgument",
    "InvalidContent",
    "InvalidName",
    "PreconditionFailed",
    "ProviderLoadError",
    "StoreError",
    "TransientError",
    "Unsupported",
]


class StoreError(Exception):
    """Base of every xtstore error.

    ``reason`` is the bare description; ``str(error)`` prefixes it with the service, container
    and blob that are known, e.g. ``service 'runs', container 'exp1', blob 'logs/a.txt': blob
    not found``.

    ``from_stream`` is True when reading a stream that ``open_blob`` returned failed: the
    error names that stream's store and blob, and a store copying from the stream (another
    service, in a cross-service transfer) passes it on as it is.
    """

    from_stream: bool = False

    def __init__(
        self,
        reason: str,
        *,
        service: str | None = None,
        container: str | None = None,
        blob: str | None = None,
    ) -> None:
        self.reason = reason
        self.service = service
        self.container = container
        self.blob = blob
        super().__init__(reason)

    def add_context(
        self,
        *,
        service: str | None = None,
        container: str | None = None,
        blob: str | None = None,
    ) -> StoreError:
        """Fill in whichever of service, container and blob are still unknown; returns self."""
        if self.service is None:
            self.service = service
        if self.container is None:
            self.container = container
        if self.blob is None:
            self.blob = blob
        return self

    @property
    def location(self) -> str:
        """``service 'a', container 'b', blob 'c'`` for the parts that are known."""
        parts = []
        if self.service is not None:
            parts.append(f"service {self.service!r}")
        if self.container is not None:
            parts.append(f"container {self.container!r}")
        if self.blob is not None:
            parts.append(f"blob {self.blob!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        location = self.location
        return f"{location}: {self.reason}" if location else self.reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only context must survive pickling (errors cross process boundaries).
        return (
            _rebuild_error,
            (type(self), self.reason, self.service, self.container, self.blob, self.__dict__),
        )


def _rebuild_error(
    cls: type[StoreError],
    reason: str,
    service: str | None,
    container: str | None,
    blob: str | None,
    state: dict[str, Any],
) -> StoreError:
    error = cls.__new__(cls)
    StoreError.__init__(error, reason, service=service, container=container, blob=blob)
    error.__dict__.update(state)
    return error


class ContainerNotFound(StoreError):
    """The container does not exist."""


class BlobNotFound(StoreError, FileNotFoundError):
    """The blob (or the requested snapshot of it) does not exist."""


class ContainerAlreadyExists(StoreError):
    """``create_container`` on a container that exists."""


class BlobAlreadyExists(StoreError, FileExistsError):
    """``create_blob(..., fail_if_exists=True)`` lost to an existing blob."""


class InvalidName(StoreError, ValueError):
    """A container name or blob path breaks the naming rules; raised before any I/O."""


class InvalidContent(StoreError, ValueError):
    """Content that cannot be stored as given, such as text that has no UTF-8 form (a lone
    surrogate); raised before any write."""


class InvalidArgument(StoreError, ValueError):
    """An argument other than a name or content that the call cannot take, such as a byte
    range that ends before it starts or an ``open_blob`` mode other than ``"rb"`` and
    ``"wb"``; raised before any I/O."""


class PreconditionFailed(StoreError):
    """A conditional write (etag or create-only) found the blob changed under it."""


class AccessDenied(StoreError, PermissionError):
    """The store refused the credentials or the operation."""


class TransientError(StoreError):
    """A failure that may go away when retried (timeout, reset, HTTP 408/429/5xx).

    ``request_sent`` is False when the request surely never reached the store (connection
    refused, DNS failure): only then may a non-idempotent call be repeated. ``status`` is the
    HTTP status of the response, None when there was none (XT's retry function reads it as
    ``context.response.status``). ``retry_after`` is the wait in seconds the store asked for
    (its ``Retry-After`` header), None when it asked for none; the retry layer never retries
    sooner. ``may_have_applied`` is set when a non-idempotent call (append, create-only write,
    snapshot, delete) gives up: True when its change may have reached the store (the message
    says so too), False when it surely did not; None on idempotent calls.
    """

    def __init__(
        self,
        reason: str,
        *,
        service: str | None = None,
        container: str | None = None,
        blob: str | None = None,
        request_sent: bool = True,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason, service=service, container=container, blob=blob)
        self.request_sent = request_sent
        self.status = status
        self.retry_after = retry_after
        self.may_have_applied: bool | None = None


class IntegrityError(TransientError):
    """The bytes that crossed the wire (or were read from disk) do not match the store's
    checksum or length for them: a download or read whose content failed its check (nothing
    is installed at the destination), or an upload the store refused as damaged.

    A ``TransientError``, so the retry layer reads or sends the bytes again: damage on the
    way goes away on a repeat. Content damaged at rest fails every attempt and surfaces after
    the configured retries. ``algorithm`` names the check that failed (``"md5"``,
    ``"crc32"``, ``"length"``, ...), None when the store did not say.
    """

    def __init__(
        self,
        reason: str,
        *,
        service: str | None = None,
        container: str | None = None,
        blob: str | None = None,
        algorithm: str | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(reason, service=service, container=container, blob=blob,
                         request_sent=request_sent)
        self.algorithm = algorithm


class Unsupported(StoreError):
    """The provider cannot do this and does not emulate it (see ``capabilities()``)."""


class ConfigError(StoreError):
    """A mistake in the configuration; the message names the file and the key path."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        key_path: str | None = None,
        service: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.key_path = key_path
        self.hint = hint
        """What to do about it, when that is not fixing the file (the CLI shows it)."""
        super().__init__(reason, service=service)

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.key_path) if part)
        return f"{where}: {self.reason}" if where else self.reason


class ProviderLoadError(ConfigError):
    """A provider class could not be imported, or does not implement the interface."""
