"""The fault proxy's ``corrupt`` fault (integrity tests, issue 2.3): exactly one byte of the
response or request body is flipped, at the offset given, with lengths and headers kept."""

from __future__ import annotations

from tests.servers.fault_proxy import Fault, FaultProxy
from tests.servers.test_fault_proxy import BLOB, Upstream, fetch, proxy, upstream

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
