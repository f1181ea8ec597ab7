"""The exception mapping on its own: SDK errors by the HTTP status they carry, in the shapes
the common SDKs use (azure-storage 2.x ``.status_code``, azure-core ``.status_code``,
requests-style ``.response.status_code`` / ``.status``, botocore's ``response`` dict)."""

from __future__ import annotations

from typing import Any

import pytest

from xtstore.adapter.translate import FailedCall, http_status, translate
from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    PreconditionFailed,
    TransientError,
)


class _Status(Exception):
    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.__dict__.update(fields)


class _Response:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


_BLOB_CALL = FailedCall("P", "get_blob_text", "runs", "a")
_CREATE_ONLY = FailedCall("P", "create_blob", "runs", "a", writes=True, create_only=True)
_CONTAINER_CALL = FailedCall("P", "create_container", "runs")


@pytest.mark.parametrize(
    ("error", "call", "expected"),
    [
        (_Status(status_code=404), _BLOB_CALL, BlobNotFound),
        (_Status("ErrorCode:ContainerNotFound", status_code=404), _BLOB_CALL, ContainerNotFound),
        (_Status(status=404), _BLOB_CALL, BlobNotFound),
        (_Status(response=_Response(status_code=404)), _BLOB_CALL, BlobNotFound),
        (_Status(response=_Response(status=403)), _BLOB_CALL, AccessDenied),
        (_Status(response={"Error": {"Code": "NoSuchBucket"},
                           "ResponseMetadata": {"HTTPStatusCode": 404}}), _BLOB_CALL,
         ContainerNotFound),
        (_Status(status_code=409), _CONTAINER_CALL, ContainerAlreadyExists),
        (_Status(status_code=409), _CREATE_ONLY, BlobAlreadyExists),
        (_Status("ErrorCode:ContainerBeingDeleted", status_code=409), _CONTAINER_CALL,
         TransientError),
        (_Status(status_code=409), _BLOB_CALL, PreconditionFailed),
        (_Status(status_code=412), _CREATE_ONLY, BlobAlreadyExists),
        (_Status(status_code=412), _BLOB_CALL, PreconditionFailed),
        (_Status(status_code=403), _BLOB_CALL, AccessDenied),
        (_Status(status_code=408), _BLOB_CALL, TransientError),
        (_Status(status_code=429), _BLOB_CALL, TransientError),
        (_Status(status_code=503), _BLOB_CALL, TransientError),
    ],
)
def test_sdk_errors_by_http_status(error: Exception, call: FailedCall, expected: type) -> None:
    assert isinstance(translate(error, call, lambda container: True), expected)


def test_an_error_without_status_passes_unchanged() -> None:
    error = _Status("odd", status_code="404")
    assert http_status(error) is None
    assert translate(error, _BLOB_CALL, lambda container: True) is error


def test_a_sas_token_in_an_error_url_is_not_repeated() -> None:
    error = _Status("GET https://acct.blob.core.windows.net/c/b?sv=1&sig=SECRETSIG failed",
                    status_code=500)
    typed = translate(error, _BLOB_CALL, lambda container: True)
    assert isinstance(typed, TransientError) and "SECRETSIG" not in str(typed)


def test_a_folder_made_at_the_same_time_is_transient_and_unsent(tmp_path: Any) -> None:
    # XT's FileStore: exists-then-makedirs, and another writer made the folder in between.
    race = FileExistsError(17, "File exists", str(tmp_path))
    typed = translate(race, FailedCall("P", "create_blob", "runs", "a/b", writes=True),
                      lambda container: True)
    assert isinstance(typed, TransientError) and typed.request_sent is False


def test_a_file_in_the_way_of_a_folder_still_means_the_blob_exists(tmp_path: Any) -> None:
    blob = tmp_path / "a"
    blob.write_text("x")
    clash = FileExistsError(17, "File exists", str(blob))
    typed = translate(clash, FailedCall("P", "create_blob", "runs", "a/b", writes=True),
                      lambda container: True)
    assert isinstance(typed, BlobAlreadyExists)
