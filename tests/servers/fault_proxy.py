"""A fault-injecting HTTP/1.1 reverse proxy on 127.0.0.1, for tests and benchmarks.

Point a provider's endpoint at :attr:`FaultProxy.url` instead of Azurite's or moto's (see
:meth:`FaultProxy.endpoint`) and script faults per request with :meth:`FaultProxy.inject`:
a :class:`Fault` and what it applies to (method, a regex on the request target, a header, the
nth matching request, how many times). Every request is logged (:attr:`FaultProxy.log`: when
it arrived, method, target, the fault applied, the status the client was sent) so tests can
assert on what really crossed the wire, e.g. how long the client waited before a retry.

Faults (``Fault.<name>(...)``):

- ``reset_before``: the connection is reset once the request head arrives; the server never
  sees the request.
- ``reset_during_body(after_bytes)``: reset after that many bytes of the request body.
- ``reset_after``: the request is forwarded and applied, the response is lost (reset).
- ``status(code, retry_after=None)``: an error response instead of forwarding (S3-style XML
  body, which azure-core reads as well); ``throttle(retry_after)`` is a 429.
- ``delay(seconds, forward=True)``: forwarded only after that long (beyond the client's read
  timeout), so the store may apply it after the client gave up and retried; with
  ``forward=False`` it is dropped after the delay instead (the store never sees it).
- ``truncate(after_bytes=None)``: the response head promises the whole body, half of it (or
  ``after_bytes``) is sent, then the connection closes; a bodiless response (HEAD, 204) is cut
  inside its head instead, after the status line and the first header (a client reading up
  to the end of the connection sees a response without the rest of its headers).
- ``reset_in_response(after_bytes=None)``: like ``truncate`` (the server applied the request,
  the head promises the whole body), but the connection is reset after the first half of the
  body (or ``after_bytes`` of it) instead of closed: a download broken mid-way (a response
  without a body is reset before its head, as ``reset_after``).
- ``black_hole(seconds=None)``: the request is accepted and never answered; the connection is
  dropped after ``seconds`` (default: the proxy's ``hold_limit``) so nothing waits forever.
- ``corrupt(after_bytes=0, request=False)``: one byte of the response body (or, with
  ``request``, of the request body as sent, framing included) is flipped at offset
  ``after_bytes`` (the last byte if the body is shorter); lengths and headers are unchanged,
  so only a checksum can tell. An empty body passes unchanged.
- ``response_headers(headers)``: forwarded, and the response is sent with these headers
  set (replacing the server's of the same names): a server that answers as another would
  (e.g. S3's ETags of KMS-encrypted objects, which are not MD5s of the content).

Bounded: at most ``max_requests`` requests and ``lifetime`` seconds (after either, every
request is reset; :meth:`FaultProxy.keep_alive` lets a runner of many bounded cells extend
the lifetime cell by cell), each connection idle for at most ``idle_timeout``, every wait
cut short by :meth:`FaultProxy.stop`, which the context manager calls and which joins all
threads. It only ever listens on and connects to 127.0.0.1. Request bodies and responses are
buffered whole, which is fine for test-sized blobs.
"""

from __future__ import annotations

import http.client
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Fault", "FaultProxy", "LoggedRequest", "Rule", "running_proxy"]

LOOPBACK = "127.0.0.1"
MAX_HEAD = 64 * 1024
_NO_BODY_STATUS = frozenset({204, 304})


@dataclass(frozen=True)
class Fault:
    """One fault to inject; build it with the class methods."""

    kind: str
    status: int = 0
    retry_after: str | None = None
    seconds: float | None = None
    after_bytes: int | None = None
    forward: bool = True
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def reset_before(cls) -> Fault:
        return cls("reset-before")

    @classmethod
    def reset_during_body(cls, after_bytes: int = 0) -> Fault:
        return cls("reset-during-body", after_bytes=after_bytes)

    @classmethod
    def reset_after(cls) -> Fault:
        return cls("reset-after")

    @classmethod
    def error_status(cls, status: int = 503, retry_after: str | None = None) -> Fault:
        return cls(f"status-{status}", status=status, retry_after=retry_after)

    @classmethod
    def throttle(cls, retry_after: str | None = "1") -> Fault:
        return cls.error_status(429, retry_after)

    @classmethod
    def delay(cls, seconds: float, *, forward: bool = True) -> Fault:
        return cls("delay" if forward else "delay-drop", seconds=seconds, forward=forward)

    @classmethod
    def truncate(cls, after_bytes: int | None = None) -> Fault:
        return cls("truncate", after_bytes=after_bytes)

    @classmethod
    def reset_in_response(cls, after_bytes: int | None = None) -> Fault:
        return cls("reset-in-response", after_bytes=after_bytes)

    @classmethod
    def black_hole(cls, seconds: float | None = None) -> Fault:
        return cls("black-hole", seconds=seconds)

    @classmethod
    def corrupt(cls, after_bytes: int = 0, *, request: bool = False) -> Fault:
        return cls("corrupt-request" if request else "corrupt-response", after_bytes=after_bytes)

    @classmethod
    def response_headers(cls, headers: dict[str, str]) -> Fault:
        return cls("response-headers", headers=tuple(headers.items()))


@dataclass
class Rule:
    """Which requests a fault applies to: all given conditions must hold (``path`` and the
    header's value are regexes searched in the request target and the header). The rule
    counts the requests it matches; it fires on the ``nth`` and the ``times - 1`` after it
    (``times=None``: every one from the nth on)."""

    fault: Fault
    method: str | None = None
    path: str | None = None
    header: tuple[str, str] | None = None
    nth: int = 1
    times: int | None = 1
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def matches(self, method: str, target: str, headers: dict[str, str]) -> bool:
        if self.method is not None and method.upper() != self.method.upper():
            return False
        if self.path is not None and re.search(self.path, target) is None:
            return False
        if self.header is not None:
            name, pattern = self.header
            value = headers.get(name.lower())
            if value is None or re.search(pattern, value) is None:
                return False
        return True


@dataclass
class LoggedRequest:
    """``time`` is ``time.monotonic()`` when the request head had arrived; ``status`` is what
    the client was sent (None when it got no status line); ``fault`` the fault's kind."""

    time: float
    method: str
    target: str
    fault: str | None = None
    status: int | None = None
    upstream_status: int | None = None

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class _Reset(Exception):
    """End the client connection with a TCP reset."""


class _Close(Exception):
    """End the client connection with an orderly close."""


class FaultProxy:
    """The proxy; use :func:`running_proxy` or ``with FaultProxy(...)``."""

    def __init__(
        self,
        upstream: str,
        *,
        max_requests: int = 10_000,
        lifetime: float = 600.0,
        hold_limit: float = 30.0,
        idle_timeout: float = 30.0,
        upstream_timeout: float = 60.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname != LOOPBACK or parts.scheme != "http" or parts.port is None:
            raise ValueError(f"the proxy forwards to http://{LOOPBACK}:<port> only, not {upstream}")
        self.upstream = (LOOPBACK, parts.port)
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.hold_limit = hold_limit
        self.idle_timeout = idle_timeout
        self.upstream_timeout = upstream_timeout
        self._rules: list[Rule] = []
        self._log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._started = time.monotonic()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def endpoint(self, url: str) -> str:
        """``url`` (an upstream endpoint, maybe with a path) with the proxy as its host."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"{LOOPBACK}:{self.port}"))

    # -- scripting -------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        header: tuple[str, str] | None = None,
        nth: int = 1,
        times: int | None = 1,
    ) -> Rule:
        """Add a rule (rules are tried in the order added; the first that fires wins)."""
        rule = Rule(fault, method, path, header, nth, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Drop every rule and the log."""
        with self._lock:
            self._rules.clear()
            self._log.clear()

    @property
    def log(self) -> list[LoggedRequest]:
        with self._lock:
            return [replace(entry) for entry in self._log]

    def requests(self, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
        """The logged requests with that method and a target matching the ``path`` regex."""
        return [
            entry for entry in self.log
            if (method is None or entry.method == method.upper())
            and (path is None or re.search(path, entry.target) is not None)
        ]

    def _fault_for(self, method: str, target: str, headers: dict[str, str]) -> Fault | None:
        chosen: Fault | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, target, headers):
                    continue
                rule.seen += 1
                last = None if rule.times is None else rule.nth + rule.times - 1
                if chosen is None and rule.seen >= rule.nth and (last is None or rule.seen <= last):
                    rule.fired += 1
                    chosen = rule.fault
        return chosen

    def keep_alive(self, seconds: float) -> None:
        """Let the proxy live at least ``seconds`` more (never less than its ``lifetime``):
        a runner of many cells, each bounded in time, calls it before each one, so a long
        run is bounded by its cells rather than by one lifetime fixed in advance."""
        with self._lock:
            self.lifetime = max(self.lifetime, time.monotonic() - self._started + seconds)

    # -- running ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        """Stop accepting, cut every connection and wait, and join every thread."""
        self._stopping.set()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(timeout=10)
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"fault-proxy-{self.port}")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _expired(self) -> bool:
        return time.monotonic() - self._started > self.lifetime

    def _accept_loop(self) -> None:
        while not self._stopping.is_set() and not self._expired():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(self.idle_timeout)
            with self._lock:
                self._sockets.add(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        reset = False
        try:
            while not self._stopping.is_set():
                if not self._one_request(client, reader):
                    return
        except _Reset:
            reset = True
        except (_Close, OSError, ValueError, http.client.HTTPException):
            pass
        finally:
            reader.close()
            if reset:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            with self._lock:
                self._sockets.discard(client)

    def _one_request(self, client: socket.socket, reader: BinaryIO) -> bool:
        """Serve one request; False when the client closed the connection."""
        head = _read_head(reader)
        if head is None:
            return False
        method, target, version, lines = head
        headers = {name.lower(): value for name, value in lines}
        entry = LoggedRequest(time.monotonic(), method, target)
        with self._lock:
            over = len(self._log) >= self.max_requests
            self._log.append(entry)
        if over or self._expired():
            entry.fault = "over-limit"
            raise _Reset
        fault = self._fault_for(method, target, headers)
        entry.fault = fault.kind if fault is not None else None
        kind = fault.kind if fault is not None else ""
        if kind == "reset-before":
            raise _Reset
        if kind == "black-hole":
            assert fault is not None
            self._stopping.wait(fault.seconds if fault.seconds is not None else self.hold_limit)
            raise _Close
        expects_continue = headers.get("expect", "").lower() == "100-continue"
        if expects_continue:
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if kind == "reset-during-body":
            assert fault is not None
            _read_body(reader, headers, limit=fault.after_bytes or 0)
            raise _Reset
        body = _read_body(reader, headers)
        if _cut_short(body, headers):
            # The client gave up mid-body (e.g. a cancelled part upload): forwarding the rest
            # would leave the server waiting for bytes that never come.
            raise _Close
        if kind == "corrupt-request":
            assert fault is not None
            body = _flip_byte(body, fault.after_bytes or 0)
        if fault is not None and fault.status:
            entry.status = fault.status
            client.sendall(_error_response(fault.status, fault.retry_after))
            raise _Close
        if kind in ("delay", "delay-drop"):
            assert fault is not None
            if self._stopping.wait(fault.seconds or 0.0) or not fault.forward:
                raise _Close
        kept = [(n, v) for n, v in lines if n.lower() != "expect"]
        status, response_head, response_body = self._forward(method, target, version, kept, body)
        entry.upstream_status = status
        if kind == "reset-after":
            raise _Reset
        entry.status = status
        if kind == "reset-in-response":
            assert fault is not None
            if not response_body:
                entry.status = None
                raise _Reset
            client.sendall(response_head + response_body[: _cut(fault, response_body)])
            raise _Reset
        if kind == "truncate":
            assert fault is not None
            if response_body:
                client.sendall(response_head + response_body[: _cut(fault, response_body)])
            else:
                status_line, first_header, _ = response_head.split(b"\r\n", 2)
                client.sendall(status_line + b"\r\n" + first_header + b"\r\n")
            raise _Close
        if kind == "corrupt-response":
            assert fault is not None
            response_body = _flip_byte(response_body, fault.after_bytes or 0)
        if kind == "response-headers":
            assert fault is not None
            response_head = _with_headers(response_head, fault.headers)
        client.sendall(response_head + response_body)
        return headers.get("connection", "").lower() != "close"

    def _forward(
        self, method: str, target: str, version: str, lines: list[tuple[str, str]], body: bytes
    ) -> tuple[int, bytes, bytes]:
        """Send the request upstream on a fresh connection; the status, the response head to
        send back (framed by Content-Length) and the body."""
        request = f"{method} {target} {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in lines)
        with socket.create_connection(self.upstream, timeout=self.upstream_timeout) as upstream:
            upstream.sendall(request.encode("latin-1") + b"\r\n" + body)
            response = http.client.HTTPResponse(upstream, method=method)
            response.begin()
            data = response.read()
            bodiless = method == "HEAD" or response.status in _NO_BODY_STATUS
            out = [f"HTTP/1.1 {response.status} {response.reason}\r\n"]
            for name, value in response.getheaders():
                if name.lower() in ("connection", "keep-alive", "transfer-encoding"):
                    continue
                if name.lower() == "content-length" and not bodiless:
                    continue
                out.append(f"{name}: {value}\r\n")
            if not bodiless:
                out.append(f"Content-Length: {len(data)}\r\n")
            out.append("\r\n")
            return response.status, "".join(out).encode("latin-1"), data


def _cut(fault: Fault, body: bytes) -> int:
    """How much of a non-empty response body a cutting fault sends: half, or ``after_bytes``,
    never all of it."""
    cut = len(body) // 2 if fault.after_bytes is None else fault.after_bytes
    return min(cut, len(body) - 1)


def _read_head(reader: BinaryIO) -> tuple[str, str, str, list[tuple[str, str]]] | None:
    """Request line and headers, or None at a clean end of the connection."""
    line = reader.readline(MAX_HEAD)
    while line in (b"\r\n", b"\n"):
        line = reader.readline(MAX_HEAD)
    if not line:
        return None
    method, target, version = line.decode("latin-1").split()
    lines: list[tuple[str, str]] = []
    size = len(line)
    while True:
        line = reader.readline(MAX_HEAD)
        size += len(line)
        if not line or size > MAX_HEAD:
            raise _Close
        if line in (b"\r\n", b"\n"):
            return method, target, version, lines
        name, _, value = line.decode("latin-1").partition(":")
        lines.append((name.strip(), value.strip()))


def _read_body(reader: BinaryIO, headers: dict[str, str], *, limit: int | None = None) -> bytes:
    """The raw request body (chunk framing kept, so it is forwarded exactly as sent), or
    only its first ``limit`` bytes."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = bytearray()
        while limit is None or len(raw) < limit:
            size_line = reader.readline(MAX_HEAD)
            raw += size_line
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while (trailer := reader.readline(MAX_HEAD)) not in (b"\r\n", b"\n", b""):
                    raw += trailer
                raw += b"\r\n"
                break
            raw += reader.read(size + 2)
        return bytes(raw if limit is None else raw[:limit])
    length = int(headers.get("content-length", "0") or 0)
    return reader.read(length if limit is None else min(length, limit))


def _cut_short(body: bytes, headers: dict[str, str]) -> bool:
    """Whether a Content-Length body ended before its length."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return False
    return len(body) < int(headers.get("content-length", "0") or 0)


def _flip_byte(data: bytes, offset: int) -> bytes:
    """``data`` with the byte at ``offset`` (or its last byte) inverted."""
    if not data:
        return data
    at = min(offset, len(data) - 1)
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def _with_headers(head: bytes, headers: tuple[tuple[str, str], ...]) -> bytes:
    """A response head with ``headers`` set, replacing those of the same names."""
    names = {name.lower() for name, _ in headers}
    lines = head.decode("latin-1").split("\r\n")[:-2]  # the head ends with an empty line
    kept = [lines[0], *(line for line in lines[1:]
                        if line.split(":", 1)[0].strip().lower() not in names)]
    kept.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1")


def _error_response(status: int, retry_after: str | None) -> bytes:
    code = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(
        status, "InjectedFault")
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>fault injected by the test proxy</Message></Error>").encode()
    reason = http.client.responses.get(status, "Error")
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/xml",
             f"Content-Length: {len(body)}", f"x-ms-error-code: {code}", "Connection: close"]
    if retry_after is not None:
        lines.append(f"Retry-After: {retry_after}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@contextmanager
def running_proxy(upstream: str, **limits: Any) -> Iterator[FaultProxy]:
    """A started proxy in front of ``upstream`` (``http://127.0.0.1:<port>``), stopped on exit;
    ``limits`` are :class:`FaultProxy`'s keyword arguments."""
    proxy = FaultProxy(upstream, **limits)
    with proxy:
        yield proxy
