"""An azure-core policy that counts the HTTP requests a client sends (tests and benchmark)."""

from __future__ import annotations

import threading
from typing import Any

from azure.core.pipeline.policies import SansIOHTTPPolicy

__all__ = ["RequestCounter"]


class RequestCounter(SansIOHTTPPolicy):  # type: ignore[misc]
    """Installed as a per-retry policy, so every attempt that reaches the transport counts.
    ``methods`` records the HTTP method and query of each request, for failure messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.methods: list[str] = []

    def on_request(self, request: Any) -> None:
        http = request.http_request
        query = http.url.partition("?")[2]
        comp = next((p for p in query.split("&") if p.startswith(("comp=", "restype="))), "")
        with self._lock:
            self.count += 1
            self.methods.append(f"{http.method} {comp}".strip())

    def reset(self) -> None:
        with self._lock:
            self.count = 0
            self.methods = []

    def __reduce__(self) -> Any:
        return (RequestCounter, ())
