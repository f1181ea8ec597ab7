"""The cloud providers' error mapping keeps the HTTP status of a transient failure, which XT's
retry function reads as ``context.response.status``."""

from __future__ import annotations

import pytest

from xtstore.errors import TransientError


def test_azure_transient_errors_carry_their_http_status() -> None:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError

    from xtstore.providers.azure.errors import Scrubber, translate

    busy = HttpResponseError(message="Server busy")
    busy.status_code = 503
    typed = translate(busy, Scrubber(), about_blob=True)
    assert isinstance(typed, TransientError) and typed.status == 503
    unsent = translate(ServiceRequestError("refused"), Scrubber(), about_blob=True)
    assert isinstance(unsent, TransientError) and unsent.status is None


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (500, "InternalError"),
                                              (429, "TooManyRequests")])
def test_s3_transient_errors_carry_their_http_status(status: int, code: str) -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from xtstore.providers.s3.errors import translate

    response = {"Error": {"Code": code, "Message": "try again"},
                "ResponseMetadata": {"HTTPStatusCode": status}}
    typed = translate(ClientError(response, "GetObject"))  # type: ignore[arg-type]
    assert isinstance(typed, TransientError) and typed.status == status
    unsent = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert isinstance(unsent, TransientError) and unsent.status is None


def test_status_survives_pickling() -> None:
    import pickle

    again = pickle.loads(pickle.dumps(TransientError("503", status=503, service="s")))
    assert (again.status, again.service) == (503, "s")
