"""The fault proxy itself: each fault as a plain http.client sees it, in front of a tiny
recording HTTP/1.1 server, so what reached the server is known exactly."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy

BLOB = bytes(range(256)) * 64  # 16 KiB


class Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[str, str, bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            data = b""
            while (size := int(self.rfile.readline().split(b";")[0], 16)) != 0:
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return data
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _reply(self, status: int, body: bytes, *, send_body: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.received.append(("GET", self.path, b""))
        self._reply(200, BLOB)

    def do_HEAD(self) -> None:
        self.server.received.append(("HEAD", self.path, b""))
        self._reply(200, BLOB, send_body=False)

    def do_PUT(self) -> None:
        body = self._body()
        self.server.received.append(("PUT", self.path, body))
        self._reply(201, b"")


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    with running_proxy(upstream.url, hold_limit=5.0) as running:
        yield running


def connect(proxy: FaultProxy, timeout: float = 5.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)


def fetch(proxy: FaultProxy, method: str = "GET", path: str = "/c/blob",
          body: bytes | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = connect(proxy, timeout)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_without_faults_requests_pass_through_and_are_logged(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    conn = connect(proxy)
    conn.request("PUT", "/c/blob?x=1", body=b"hello")
    first = conn.getresponse()
    assert (first.status, first.read()) == (201, b"")
    conn.request("GET", "/c/blob")  # the same kept-alive connection
    second = conn.getresponse()
    assert (second.status, second.read()) == (200, BLOB)
    conn.request("HEAD", "/c/blob")
    head = conn.getresponse()
    assert head.status == 200 and head.getheader("Content-Length") == str(len(BLOB))
    assert head.read() == b""
    conn.close()
    assert upstream.received == [("PUT", "/c/blob?x=1", b"hello"), ("GET", "/c/blob", b""),
                                 ("HEAD", "/c/blob", b"")]
    log = proxy.log
    assert [(e.method, e.target, e.fault, e.status) for e in log] == [
        ("PUT", "/c/blob?x=1", None, 201), ("GET", "/c/blob", None, 200),
        ("HEAD", "/c/blob", None, 200)]
    assert log[0].path == "/c/blob" and log[0].time <= log[1].time <= log[2].time


def test_chunked_and_expect_continue_bodies_are_forwarded_exactly(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    conn = connect(proxy)
    conn.request("PUT", "/c/chunked", body=iter([b"abc", b"defgh"]))
    assert conn.getresponse().status == 201
    conn.close()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as raw:
        raw.sendall(b"PUT /c/expect HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    b"Expect: 100-continue\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 100 Continue")
        raw.sendall(b"body")
        assert raw.recv(100).startswith(b"HTTP/1.1 201")
    assert upstream.received == [("PUT", "/c/chunked", b"abcdefgh"), ("PUT", "/c/expect", b"body")]


def test_reset_before_never_reaches_the_server(proxy: FaultProxy, upstream: Upstream) -> None:
    proxy.inject(Fault.reset_before(), method="PUT")
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        fetch(proxy, "PUT", body=b"data")
    assert upstream.received == []
    assert [(e.fault, e.status) for e in proxy.log] == [("reset-before", None)]


def test_reset_during_body_after_some_bytes(proxy: FaultProxy, upstream: Upstream) -> None:
    proxy.inject(Fault.reset_during_body(after_bytes=64 * 1024), method="PUT")
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        fetch(proxy, "PUT", body=b"x" * (4 * 2**20))
    assert upstream.received == []
    assert proxy.log[0].fault == "reset-during-body"


def test_the_third_put_fails_after_one_mib(proxy: FaultProxy, upstream: Upstream) -> None:
    proxy.inject(Fault.reset_during_body(after_bytes=2**20), method="PUT", nth=3)
    body = b"y" * (2 * 2**20)
    assert fetch(proxy, "PUT", "/c/1", body=body)[0] == 201
    assert fetch(proxy, "PUT", "/c/2", body=body)[0] == 201
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        fetch(proxy, "PUT", "/c/3", body=body)
    assert fetch(proxy, "PUT", "/c/4", body=body)[0] == 201
    assert [path for _, path, _ in upstream.received] == ["/c/1", "/c/2", "/c/4"]
    assert [e.fault for e in proxy.log] == [None, None, "reset-during-body", None]


def test_reset_after_the_server_applied_the_request(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    proxy.inject(Fault.reset_after(), method="PUT")
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        fetch(proxy, "PUT", body=b"applied")
    assert upstream.received == [("PUT", "/c/blob", b"applied")]
    entry = proxy.log[0]
    assert (entry.fault, entry.status, entry.upstream_status) == ("reset-after", None, 201)


@pytest.mark.parametrize(("fault", "status", "retry_after"), [
    (Fault.error_status(503), 503, None),
    (Fault.error_status(500), 500, None),
    (Fault.throttle("1"), 429, "1"),
    (Fault.error_status(503, retry_after="Wed, 21 Oct 2037 07:28:00 GMT"), 503,
     "Wed, 21 Oct 2037 07:28:00 GMT"),
])
def test_error_statuses_are_answered_by_the_proxy(
    proxy: FaultProxy, upstream: Upstream, fault: Fault, status: int, retry_after: str | None
) -> None:
    proxy.inject(fault)
    conn = connect(proxy)
    conn.request("GET", "/c/blob")
    response = conn.getresponse()
    assert response.status == status
    assert response.getheader("Retry-After") == retry_after
    assert b"<Code>" in response.read()
    conn.close()
    assert upstream.received == []
    assert proxy.log[0].status == status


def test_delay_outlasts_the_client_timeout(proxy: FaultProxy) -> None:
    proxy.inject(Fault.delay(3.0))
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        fetch(proxy, timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert fetch(proxy) == (200, BLOB)  # the next request is not delayed


def test_a_delayed_request_reaches_the_server_late_unless_dropped(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    proxy.inject(Fault.delay(1.0), method="PUT", path="late")
    proxy.inject(Fault.delay(1.0, forward=False), method="PUT", path="dropped")
    for path in ("/c/late", "/c/dropped"):
        with pytest.raises(TimeoutError):
            fetch(proxy, "PUT", path, body=b"x", timeout=0.3)
    time.sleep(1.5)
    assert upstream.received == [("PUT", "/c/late", b"x")]
    assert [e.fault for e in proxy.log] == ["delay", "delay-drop"]


def test_truncated_body_is_shorter_than_its_content_length(proxy: FaultProxy) -> None:
    proxy.inject(Fault.truncate(after_bytes=1000))
    conn = connect(proxy)
    conn.request("GET", "/c/blob")
    response = conn.getresponse()
    assert response.getheader("Content-Length") == str(len(BLOB))
    with pytest.raises(http.client.IncompleteRead) as raised:
        response.read()
    assert len(raised.value.partial) == 1000
    conn.close()


def test_truncating_a_bodiless_response_cuts_its_head(proxy: FaultProxy) -> None:
    proxy.inject(Fault.truncate(), method="HEAD")
    conn = connect(proxy)
    conn.request("HEAD", "/c/blob")
    response = conn.getresponse()
    assert response.status == 200
    assert len(response.getheaders()) == 1 and response.getheader("Content-Length") is None
    conn.close()


def test_black_hole_never_answers_and_lets_go_in_bounded_time(proxy: FaultProxy) -> None:
    proxy.inject(Fault.black_hole(seconds=1.0), times=2)
    with pytest.raises(TimeoutError):
        fetch(proxy, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(http.client.RemoteDisconnected):
        fetch(proxy, timeout=5.0)
    assert 0.9 <= time.monotonic() - started < 3.0
    assert [e.status for e in proxy.log] == [None, None]


def test_the_nth_matching_request_fails_by_method_path_and_header(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    proxy.inject(Fault.error_status(503), method="PUT", path=r"^/c/", nth=3)
    proxy.inject(Fault.error_status(500), header=("x-marker", "^bad$"), times=None)
    statuses = [fetch(proxy, "PUT", f"/c/{i}", body=b"x")[0] for i in range(4)]
    assert statuses == [201, 201, 503, 201]
    assert fetch(proxy, "PUT", "/other/0", body=b"x")[0] == 201
    conn = connect(proxy)
    for _ in range(2):
        conn.request("GET", "/c/blob", headers={"x-marker": "bad"})
        response = conn.getresponse()
        response.read()
        assert response.status == 500
        conn.close()
    assert [e.fault for e in proxy.requests("PUT", r"^/c/")] == [None, None, "status-503", None]
    assert len(proxy.requests(path="^/other/")) == 1


def test_requests_beyond_the_limit_are_refused(upstream: Upstream) -> None:
    with running_proxy(upstream.url, max_requests=2) as proxy:
        assert fetch(proxy)[0] == 200
        assert fetch(proxy)[0] == 200
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            fetch(proxy)
        assert proxy.log[-1].fault == "over-limit"


def test_stop_cuts_held_connections_and_joins_every_thread(upstream: Upstream) -> None:
    proxy = FaultProxy(upstream.url, hold_limit=60.0).start()
    proxy.inject(Fault.black_hole(), times=None)
    proxy.inject(Fault.delay(60.0), times=None)
    clients = []
    for _ in range(3):
        conn = connect(proxy, timeout=10)
        conn.request("GET", "/c/blob")
        clients.append(conn)
    time.sleep(0.3)
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 3.0
    assert not [t for t in threading.enumerate() if t.name == f"fault-proxy-{proxy.port}"]
    for conn in clients:
        conn.close()


def test_only_loopback_upstreams() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        FaultProxy("http://192.0.2.1:80")
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        FaultProxy("https://127.0.0.1:443")


def test_reset_in_response_breaks_the_body_off_with_a_reset(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    proxy.inject(Fault.reset_in_response(after_bytes=1000), method="GET")
    proxy.inject(Fault.reset_in_response(), method="PUT")
    conn = connect(proxy)
    conn.request("GET", "/c/blob")
    response = conn.getresponse()
    assert response.getheader("Content-Length") == str(len(BLOB))
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)) as raised:
        response.read()
    if isinstance(raised.value, http.client.IncompleteRead):
        assert len(raised.value.partial) <= 1000
    conn.close()
    # A response without a body: the request was applied, the client gets no response.
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        fetch(proxy, "PUT", body=b"applied")
    assert upstream.received == [("GET", "/c/blob", b""), ("PUT", "/c/blob", b"applied")]
    assert [(e.fault, e.status, e.upstream_status) for e in proxy.log] == [
        ("reset-in-response", 200, 200), ("reset-in-response", None, 201)]


def test_keep_alive_extends_the_lifetime_from_now(upstream: Upstream) -> None:
    with running_proxy(upstream.url, lifetime=0.5) as proxy:
        proxy.keep_alive(5.0)
        time.sleep(0.7)
        assert fetch(proxy)[0] == 200
        proxy.keep_alive(0.1)  # never shortens it
        assert fetch(proxy)[0] == 200
