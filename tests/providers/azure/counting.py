"""Counts the HTTP requests a storage client sends (tests and benchmark).

Installed as the client's ``raw_request_hook``, which the storage pipeline calls for every
attempt, after its retry policy, just before the transport sends the request.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["RequestCounter"]


class RequestCounter:
    """``count`` requests so far; ``methods`` the method and ``comp=`` of each, for messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.methods: list[str] = []

    def __call__(self, request: Any) -> None:
        http = request.http_request
        query = http.url.partition("?")[2]
        comp = next((p for p in query.split("&") if p.startswith("comp=")), "")
        with self._lock:
            self.count += 1
            self.methods.append(f"{http.method} {comp}".strip())

    def reset(self) -> None:
        with self._lock:
            self.count = 0
            self.methods = []

    # Config handling copies service entries; every copy must count into this one object.
    def __copy__(self) -> RequestCounter:
        return self

    def __deepcopy__(self, memo: Any) -> RequestCounter:
        return self

    def __reduce__(self) -> Any:
        return (RequestCounter, ())  # another process counts on its own
