"""The fault proxy's ``corrupt`` fault (integrity tests, issue 2.3): exactly one byte of the
response or request body is flipped, at the offset given, with lengths and headers kept; and
a request body the client cut short is never forwarded. And ``response_headers``, which makes
a response say what another server would (a header set or replaced, the body kept)."""

from __future__ import annotations

import socket

from tests.servers.fault_proxy import Fault, FaultProxy
from tests.servers.test_fault_proxy import BLOB, Upstream, connect, fetch, proxy, upstream

__all__ = ["proxy", "upstream"]  # the fixtures, shared with the proxy's own tests


def _differences(one: bytes, other: bytes) -> list[int]:
    assert len(one) == len(other)
    return [index for index, (a, b) in enumerate(zip(one, other, strict=True)) if a != b]


def test_a_response_body_gets_one_byte_flipped(proxy: FaultProxy) -> None:
    proxy.inject(Fault.corrupt(after_bytes=1000), method="GET")
    status, body = fetch(proxy)
    assert status == 200 and _differences(body, BLOB) == [1000]
    assert fetch(proxy) == (200, BLOB)  # once only
    assert [e.fault for e in proxy.log] == ["corrupt-response", None]


def test_a_request_body_gets_one_byte_flipped(proxy: FaultProxy, upstream: Upstream) -> None:
    proxy.inject(Fault.corrupt(after_bytes=3, request=True), method="PUT")
    assert fetch(proxy, "PUT", body=b"hello world")[0] == 201
    (_, _, received), = upstream.received
    assert _differences(received, b"hello world") == [3]


def test_an_offset_beyond_the_body_flips_its_last_byte(proxy: FaultProxy) -> None:
    proxy.inject(Fault.corrupt(after_bytes=10 * len(BLOB)), method="GET")
    _, body = fetch(proxy)
    assert _differences(body, BLOB) == [len(BLOB) - 1]


def test_a_body_cut_short_by_the_client_is_not_forwarded(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    # Forwarded, it would leave the server waiting for the missing bytes.
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
        client.sendall(b"PUT /c/blob HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        client.shutdown(socket.SHUT_WR)
        assert client.recv(100) == b""  # closed without an answer
    assert upstream.received == []
    assert fetch(proxy, "PUT", body=b"whole") == (201, b"")


def test_response_headers_are_set_or_replaced(proxy: FaultProxy) -> None:
    proxy.inject(Fault.response_headers({"Server": "another", "ETag": '"e1"'}),
                 method="GET")
    conn = connect(proxy)
    try:
        conn.request("GET", "/c/blob")
        response = conn.getresponse()
        assert response.read() == BLOB
        assert response.getheader("Server") == "another"  # replaced
        assert response.getheader("ETag") == '"e1"'  # set
        assert len(response.getheaders()) == len({n.lower() for n, _ in response.getheaders()})
    finally:
        conn.close()
    assert fetch(proxy) == (200, BLOB)
    assert [e.fault for e in proxy.log] == ["response-headers", None]
