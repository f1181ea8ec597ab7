"""The resumable session under ``open_blob(mode="wb")`` when a chunk's or the commit's
response is lost and the step is repeated. fake-gcs-server cannot show this (it stores a
repeated chunk twice and takes a status query as the last chunk: test_gcs_emulator.py), so
this runs against a small HTTP server on 127.0.0.1 that follows GCS's documented resumable
protocol: 308 with ``Range: bytes=0-N`` for what it persisted, 200 once the total arrived,
a status query (``Content-Range: bytes */*``) that only reports."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator

import pytest
import requests

from xtstore.providers.gcs.session import ResumableSession

PART = 256 * 1024
_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")


class ProtocolServer(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stored = bytearray()
        self.finished = False
        self.drop_next_answer = False
        self.chunks_received = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    server: ProtocolServer

    def log_message(self, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = _RANGE.fullmatch(self.headers["Content-Range"])
        assert match is not None
        first, _, total = match.groups()
        server = self.server
        if first is not None and not server.finished:
            assert int(first) == len(server.stored), "a chunk must continue the upload"
            server.stored += body
            server.chunks_received += 1
        if total != "*" and len(server.stored) == int(total):
            server.finished = True
        if server.drop_next_answer:
            server.drop_next_answer = False
            self.close_connection = True
            return  # persisted, but the client never hears of it
        if server.finished:
            self.send_response(200)
        else:
            self.send_response(308)
            if server.stored:
                self.send_header("Range", f"bytes=0-{len(server.stored) - 1}")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server() -> Iterator[ProtocolServer]:
    running = ProtocolServer()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def session_on(server: ProtocolServer) -> ResumableSession:
    url = f"http://127.0.0.1:{server.server_address[1]}/upload?upload_id=x"
    return ResumableSession(requests.Session(), url, PART, (5.0, 5.0))


def test_a_repeated_chunk_whose_answer_was_lost_is_not_sent_again(
    server: ProtocolServer,
) -> None:
    session = session_on(server)
    parts = [bytes([index]) * PART for index in range(3)]
    session.write_part(0, parts[0])
    server.drop_next_answer = True
    with pytest.raises(requests.ConnectionError):
        session.write_part(1, parts[1])
    session.write_part(1, parts[1])  # the repeat: asks, finds part 1 persisted
    session.write_part(2, parts[2])
    session.commit(3, b"tail")
    assert bytes(server.stored) == b"".join(parts) + b"tail"
    assert server.finished and server.chunks_received == 4


def test_a_repeated_commit_whose_answer_was_lost_succeeds_without_sending_again(
    server: ProtocolServer,
) -> None:
    session = session_on(server)
    session.write_part(0, b"a" * PART)
    server.drop_next_answer = True
    with pytest.raises(requests.ConnectionError):
        session.commit(1, b"end")
    session.commit(1, b"end")
    assert bytes(server.stored) == b"a" * PART + b"end"
    assert server.chunks_received == 2


def test_an_empty_tail_commits_with_the_total_only(server: ProtocolServer) -> None:
    session = session_on(server)
    session.write_part(0, b"b" * PART)
    session.commit(1, b"")
    assert server.finished and bytes(server.stored) == b"b" * PART
