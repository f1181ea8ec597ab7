"""Run moto's S3 server with S3's atomic conditional writes.

moto 5.2.5 falls short of S3 in two ways that matter to store-s3's emulations:

1. Its threaded server runs requests on shared objects without locks: it checks ``If-Match``
   / ``If-None-Match`` and then writes in two steps, so two racing conditional PUTs can both
   pass the check (S3 decides conditional writes atomically), and a GET racing a PUT of the
   same key can fail with HTTP 500 ("I/O operation on closed file", the replaced object's
   buffer). Here one request runs at a time (moto is one Python process, so this costs
   little).
2. It ignores ``If-Match`` on CompleteMultipartUpload and ``x-amz-copy-source-if-match`` on
   UploadPartCopy, which S3 honours (store-s3's compose append relies on both). Here both are
   checked, inside the same lock, against the object's current ETag and refused with 412 as S3
   does.

Everything else is exactly ``python -m moto.server -H HOST -p PORT``.
Usage: ``python moto_serial.py HOST PORT`` (path-style addressing).
"""

from __future__ import annotations

import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends
from werkzeug.serving import run_simple

_PRECONDITION_FAILED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>'
    b"<Message>At least one of the pre-conditions you specified did not hold</Message>"
    b"<Condition>If-Match</Condition></Error>"
)

App = Callable[..., Iterable[bytes]]


def _current_etag(bucket: str, key: str) -> str | None:
    try:
        found = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(bucket, key)
    except Exception:
        return None  # a missing bucket: the app itself answers with the right error
    return None if found is None else str(found.etag).strip('"')


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = urllib.parse.unquote(path).lstrip("/").partition("/")
    return bucket, key


def _condition(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(bucket, key, expected etag) of a condition moto would ignore, or None."""
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "uploadId" not in query:
        return None
    method = environ.get("REQUEST_METHOD")
    if method == "POST" and environ.get("HTTP_IF_MATCH"):
        bucket, key = _split(environ.get("PATH_INFO", ""))
        return bucket, key, environ["HTTP_IF_MATCH"]
    copy_source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    expected = environ.get("HTTP_X_AMZ_COPY_SOURCE_IF_MATCH")
    if method == "PUT" and copy_source and expected:
        bucket, key = _split(copy_source.split("?", 1)[0])
        return bucket, key, expected
    return None


def _drain(environ: dict[str, Any]) -> None:
    # An unread request body would be taken for the next request on a kept-alive connection.
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)


def s3_conditions(app: App) -> App:
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            condition = _condition(environ)
            if condition is not None:
                bucket, key, expected = condition
                current = _current_etag(bucket, key)
                if current is not None and current != expected.strip('"'):
                    _drain(environ)
                    start_response("412 Precondition Failed", [
                        ("Content-Type", "application/xml"),
                        ("Content-Length", str(len(_PRECONDITION_FAILED)))])
                    return [_PRECONDITION_FAILED]
            return list(app(environ, start_response))

    return wrapped


def main(host: str, port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, s3_conditions(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
