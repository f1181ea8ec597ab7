"""Run moto's S3 server with its write requests serialised.

moto checks ``If-Match`` / ``If-None-Match`` and then writes in two steps, and its server is
threaded, so two racing conditional PUTs can both pass the check. Real S3 (and MinIO) decide
conditional writes atomically; this launcher restores that property by running one write
request (PUT, POST, DELETE) at a time, while reads stay concurrent. It is otherwise exactly
``python -m moto.server -H HOST -p PORT``.

Usage: ``python moto_serial.py HOST PORT``
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

_WRITES = frozenset({"PUT", "POST", "DELETE"})


def serialise_writes(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in _WRITES:
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return wrapped


def main(host: str, port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, serialise_writes(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
