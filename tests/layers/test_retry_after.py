"""A store's ``Retry-After`` is honoured by the one retry layer, within the policy's bounds
(the network side, through the fault proxy, is tests/providers/test_retry_faults.py)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.layers.test_retry import Clock, failing, layer
from xtstore.errors import TransientError
from xtstore.layers import Call
from xtstore.layers.retry import RetryPolicy
from xtstore.providers._shared import retry_after_seconds
from xtstore.providers.s3.errors import translate as translate_s3

GET = Call("get_blob_text", "s")


def throttled(seconds: float) -> TransientError:
    return TransientError("429", status=429, retry_after=seconds)


def test_the_pause_is_at_least_what_the_store_asked() -> None:
    clock = Clock()
    attempts, operation = failing(2, throttled(1.0))
    result = layer(RetryPolicy(attempts=5, base_delay=0.01), clock)(GET, operation)
    assert result == "done"
    assert len(attempts) == 3
    assert clock.sleeps and all(pause >= 1.0 for pause in clock.sleeps)


def test_a_longer_backoff_is_kept() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=3, base_delay=5.0, max_delay=5.0)
    _, operation = failing(1, throttled(0.0))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("random.uniform", lambda low, high: high)
        layer(policy, clock)(GET, operation)
    assert clock.sleeps == [5.0]


def test_a_wait_beyond_max_delay_ends_the_retries() -> None:
    clock = Clock()
    attempts, operation = failing(1, throttled(30.0))
    with pytest.raises(TransientError) as raised:
        layer(RetryPolicy(attempts=5, max_delay=10.0), clock)(GET, operation)
    assert raised.value.retry_after == 30.0
    assert len(attempts) == 1 and clock.sleeps == []


def test_a_wait_beyond_the_time_budget_ends_the_retries() -> None:
    clock = Clock()
    attempts, operation = failing(3, throttled(4.0))
    policy = RetryPolicy(attempts=10, base_delay=0.01, max_delay=10.0, total_timeout=6.0)
    with pytest.raises(TransientError):
        layer(policy, clock)(GET, operation)
    # One 4 s wait fits in the 6 s budget; a second would not.
    assert len(attempts) == 2 and clock.sleeps == [4.0]


def test_the_retry_function_waits_at_least_what_the_store_asked() -> None:
    clock = Clock()
    retry = layer(RetryPolicy(), clock)
    retry.function = lambda context: 0.1
    _, operation = failing(1, throttled(2.0))
    assert retry(GET, operation) == "done"
    assert clock.sleeps == [2.0]


def test_the_retry_function_is_bounded_by_max_delay_too() -> None:
    clock = Clock()
    retry = layer(RetryPolicy(max_delay=10.0), clock)
    retry.function = lambda context: 0.1
    attempts, operation = failing(1, throttled(60.0))
    with pytest.raises(TransientError):
        retry(GET, operation)
    assert len(attempts) == 1 and clock.sleeps == []


def test_retry_after_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(throttled(1.5)))
    assert copy.retry_after == 1.5 and copy.status == 429


NOW = 1_700_000_000.0


def _http_date(offset: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + offset, timezone.utc), usegmt=True)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        (_http_date(30), 30.0),
        (_http_date(-30), 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("Mon, 99 Foo 2024 99:99:99 GMT", None),
    ],
)
def test_retry_after_header_forms(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=lambda: NOW) == seconds


def _client_error(status: int, headers: dict[str, str]) -> ClientError:
    response: Any = {
        "Error": {"Code": "SlowDown" if status == 503 else "TooManyRequests", "Message": "x"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers},
    }
    return ClientError(response, "GetObject")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: _client_error(429, {"retry-after": "1"}), 1.0),
        (lambda: _client_error(503, {"retry-after": "7"}), 7.0),
        (lambda: _client_error(503, {}), None),
    ],
)
def test_s3_mapping_carries_retry_after(
    make: Callable[[], ClientError], expected: float | None
) -> None:
    typed = translate_s3(make())
    assert isinstance(typed, TransientError)
    assert typed.retry_after == expected


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (429, {"Retry-After": "1"}, 1.0),
    (503, {"Retry-After": "12"}, 12.0),
    (503, {}, None),
])
def test_azure_mapping_carries_retry_after(
    status: int, headers: dict[str, str], expected: float | None
) -> None:
    from azure.core.exceptions import HttpResponseError

    from xtstore.providers.azure.errors import Scrubber
    from xtstore.providers.azure.errors import translate as translate_azure

    class Response:
        reason = "busy"
        status_code = status

        def __init__(self) -> None:
            self.headers = headers

        def text(self) -> str:
            return ""

    response: Any = Response()  # the attributes azure-core reads of a response
    error = HttpResponseError(message="busy", response=response)
    typed = translate_azure(error, Scrubber(), about_blob=True)
    assert isinstance(typed, TransientError)
    assert typed.status == status and typed.retry_after == expected
