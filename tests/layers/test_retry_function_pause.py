"""A retry function (XT's ``make_retry_func`` shape) must return seconds to wait: a finite
number >= 0, or None to stop. NaN, infinity and negative numbers are a ConfigError naming the
service, as a non-number is, before any wait (NaN made ``time.sleep`` raise a raw
ValueError, infinity slept forever)."""

from __future__ import annotations

import pytest

from xtstore.errors import ConfigError, TransientError
from xtstore.layers import Call
from xtstore.layers.retry import RetryLayer, RetryPolicy


@pytest.mark.parametrize("pause", [float("nan"), float("inf"), -float("inf"), -1, -0.5])
def test_a_pause_that_is_no_finite_number_of_seconds_is_a_config_error(pause: float) -> None:
    sleeps: list[float] = []
    attempts: list[int] = []

    def operation() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise TransientError("503", status=503)
        return "done"

    layer = RetryLayer(RetryPolicy(), sleep=sleeps.append)
    layer.function = lambda context: pause
    with pytest.raises(ConfigError) as raised:
        layer(Call("get_blob_text", "runs"), operation)
    assert "the retry function returned" in str(raised.value)
    assert raised.value.service == "runs"
    assert isinstance(raised.value.__cause__, TransientError)
    assert sleeps == [] and len(attempts) == 1


@pytest.mark.parametrize("pause", [0, 0.0, 0.25, 2])
def test_a_finite_pause_of_zero_or_more_is_waited(pause: float) -> None:
    sleeps: list[float] = []
    failures = [TransientError("503", status=503)]

    def operation() -> str:
        if failures:
            raise failures.pop()
        return "done"

    layer = RetryLayer(RetryPolicy(), sleep=sleeps.append)
    layer.function = lambda context: pause
    assert layer(Call("get_blob_text", "runs"), operation) == "done"
    assert sleeps == [pause]
