"""Request counting on a store-s3 client (botocore's ``before-send`` event fires once per HTTP
request attempt, so it also proves botocore does not retry on its own)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class RequestLog:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, event_name: str, **kwargs: Any) -> None:
        self.operations.append(event_name.rsplit(".", 1)[-1])

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.operations)


@contextmanager
def count_requests(client: Any) -> Iterator[RequestLog]:
    log = RequestLog()
    client.meta.events.register("before-send.s3", log)
    try:
        yield log
    finally:
        client.meta.events.unregister("before-send.s3", log)
