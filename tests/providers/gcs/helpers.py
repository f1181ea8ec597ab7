"""Request counting on a google-cloud-storage client: every request (the SDK's own and
store-gcs's media GETs and session chunks) goes through the client's authorized ``requests``
session, whose response hook sees each one once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit


class RequestLog:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []

    def __call__(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        url = urlsplit(response.request.url)
        self.requests.append((response.request.method, url.path, parse_qs(url.query)))
        return response

    def __len__(self) -> int:
        return len(self.requests)

    @property
    def methods(self) -> list[str]:
        return [method for method, _, _ in self.requests]


@contextmanager
def count_requests(client: Any) -> Iterator[RequestLog]:
    log = RequestLog()
    hooks = client._http.hooks["response"]
    hooks.append(log)
    try:
        yield log
    finally:
        hooks.remove(log)
