"""Turning what a foreign (XT-style) provider raises into :mod:`xtstore.errors` types.

Built-in exceptions (``FileNotFoundError``, ``FileExistsError``, ``IsADirectoryError``,
``PermissionError``, ``NotImplementedError``), SDK errors that carry an HTTP status, and XT's
own ``xtlib.errors`` exceptions (recognised by type name and message, without importing xtlib)
become typed errors here. Only the reason is set: the Store's error layer adds the service,
container and blob (:mod:`xtstore.layers.errors`), except where the error is about another
container or blob than the call's own (a copy's destination), which the caller names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    PreconditionFailed,
    StoreError,
    TransientError,
    Unsupported,
)
from xtstore.layers.errors import names_local_path

__all__ = ["FailedCall", "http_status", "translate"]

_URL_QUERY = re.compile(r"\?\S*")
_MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class FailedCall:
    """What the adapter knows about the provider call that raised."""

    provider: str
    method: str
    container: str | None = None
    blob: str | None = None
    writes: bool = False
    """The call writes the blob (so a missing path is not a missing blob)."""
    create_only: bool = False
    """``create_blob(..., fail_if_exists=True)``: a conflict means the blob exists."""
    snapshot: str | None = None
    local_paths: tuple[str, ...] = ()
    """The caller's own local files: an ``OSError`` about one of them passes unchanged."""


ContainerProbe = Callable[[str], "bool | None"]
"""Whether a container exists; None when that cannot be found out."""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def http_status(error: BaseException) -> int | None:
    """The HTTP status an SDK exception carries (``.status_code``, ``.status``,
    ``.response.status_code`` / ``.status``, botocore's ``response`` dict), or None."""
    for name in ("status_code", "status", "http_status"):
        found = _int(getattr(error, name, None))
        if found is not None:
            return found
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        meta = response.get("ResponseMetadata")
        return _int(meta.get("HTTPStatusCode")) if isinstance(meta, Mapping) else None
    for name in ("status_code", "status"):
        found = _int(getattr(response, name, None))
        if found is not None:
            return found
    return None


def _error_code(error: BaseException) -> str:
    code = getattr(error, "error_code", None)
    response = getattr(error, "response", None)
    if code is None and isinstance(response, Mapping):
        details = response.get("Error")
        code = details.get("Code") if isinstance(details, Mapping) else None
    return str(code) if code else ""


def _short(error: BaseException) -> str:
    """The first line of the message, without URL query strings (they may hold SAS tokens)."""
    lines = str(error).strip().splitlines()
    text = _URL_QUERY.sub("?...", lines[0]) if lines else ""
    text = text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _about_local_file(error: OSError, call: FailedCall) -> bool:
    return any(names_local_path(error, path) for path in call.local_paths)


def _not_found(call: FailedCall, probe: ContainerProbe, detail: str) -> StoreError:
    if call.container is None or call.blob is None:
        return ContainerNotFound("container not found")
    if probe(call.container) is False:
        return ContainerNotFound("container not found")
    if call.writes:
        return StoreError(f"the provider could not write the blob ({detail})")
    return _blob_missing(call)


def _blob_missing(call: FailedCall) -> BlobNotFound:
    if call.snapshot is not None:
        return BlobNotFound(f"snapshot {call.snapshot!r} not found")
    return BlobNotFound("blob not found")


def _is_folder(filename: object) -> bool:
    return isinstance(filename, (str, bytes, os.PathLike)) and os.path.isdir(filename)


def _already_exists(call: FailedCall) -> StoreError:
    if call.blob is None:
        return ContainerAlreadyExists("container already exists")
    return BlobAlreadyExists("blob already exists")


def _by_status(status: int, error: BaseException, call: FailedCall, probe: ContainerProbe
               ) -> StoreError | None:
    text = f"{_error_code(error)} {error}"
    reason = f"HTTP {status}: {_short(error)}"
    if status == 404:
        if "ContainerNotFound" in text or "NoSuchBucket" in text:
            return ContainerNotFound("container not found")
        if "BlobNotFound" in text or "NoSuchKey" in text:
            return _blob_missing(call)
        return _not_found(call, probe, reason)
    if status == 409:
        if "BeingDeleted" in text or "being deleted" in text:
            return TransientError(reason)
        if call.blob is None or call.create_only or "AlreadyExists" in text:
            return _already_exists(call)
        return PreconditionFailed(reason)
    if status == 412:
        return BlobAlreadyExists("blob already exists") if call.create_only else (
            PreconditionFailed(reason))
    if status in (401, 403):
        return AccessDenied(reason)
    if status in (408, 429) or 500 <= status <= 599:
        return TransientError(reason)
    return None


def _is_xt_error(error: BaseException) -> bool:
    return any(cls.__name__ == "XTBaseException" for cls in type(error).__mro__)


def _by_message(error: BaseException, call: FailedCall, probe: ContainerProbe) -> StoreError:
    message = str(error).lower()
    if "already exists" in message:
        return _already_exists(call)
    if any(sign in message for sign in ("not found", "does not exist", "doesn't exist")):
        return _not_found(call, probe, _short(error))
    return StoreError(_short(error))


def translate(error: BaseException, call: FailedCall, probe: ContainerProbe
              ) -> BaseException:
    """The typed error for ``error`` (``error`` itself when it is already typed, or is not
    a provider failure this module knows)."""
    if isinstance(error, StoreError):
        return error
    if isinstance(error, OSError) and _about_local_file(error, call):
        return error
    if isinstance(error, NotImplementedError):
        return Unsupported(f"{call.provider}.{call.method} is not implemented")
    if isinstance(error, (FileNotFoundError, NotADirectoryError)):
        return _not_found(call, probe, _short(error))
    if isinstance(error, IsADirectoryError):
        if call.writes:
            return BlobAlreadyExists("a folder by this name is in the way")
        return BlobNotFound("no blob by this name: it is a folder")
    if isinstance(error, FileExistsError):
        if call.writes and _is_folder(error.filename):
            # XT's FileStore makes a blob's folders with "exists? else makedirs": of two
            # writers into one new folder, the loser's makedirs finds it made. Nothing of the
            # blob was written yet, so the call may be repeated.
            return TransientError("a folder on the blob's path was being made at the same "
                                  "time", request_sent=False)
        return _already_exists(call)
    if isinstance(error, PermissionError):
        return AccessDenied(f"access denied: {_short(error)}")
    status = http_status(error)
    if status is not None:
        typed = _by_status(status, error, call, probe)
        if typed is not None:
            return typed
    if _is_xt_error(error):
        return _by_message(error, call, probe)
    return error
