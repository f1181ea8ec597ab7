"""The resumable session under ``open_blob(mode="wb")`` when a chunk's or the commit's
response is lost and the step is repeated. fake-gcs-server cannot show this (it stores a
repeated chunk twice and takes a status query as the last chunk: test_gcs_emulator.py), so
this runs against a small HTTP server on 127.0.0.1 that follows GCS's documented resumable
protocol: 308 with ``Range: bytes=0-N`` for what it persisted, 200 once the total arrived,
a status query (``Content-Range: bytes */*``) that only reports; the finished upload answers
with the object resource, whose ``crc32c`` is of the bytes it stored (which, like
fake-gcs-server, it does not check against the ``x-goog-hash`` sent)."""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
from collections.abc import Iterator

import google_crc32c
import pytest
import requests

from xtstore.errors import IntegrityError
from xtstore.providers.gcs.session import ResumableSession

PART = 256 * 1024
_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")


class ProtocolServer(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stored = bytearray()
        self.finished = False
        self.drop_next_answer = False
        self.damage_next_chunk = False
        self.chunks_received = 0
        self.hashes: list[str | None] = []
        """The ``x-goog-hash`` of every request (None: none)."""


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
        server.hashes.append(self.headers.get("x-goog-hash"))
        if first is not None and not server.finished:
            assert int(first) == len(server.stored), "a chunk must continue the upload"
            if server.damage_next_chunk and body:
                server.damage_next_chunk = False
                body = bytes([body[0] ^ 1]) + body[1:]
            server.stored += body
            server.chunks_received += 1
        if total != "*" and len(server.stored) == int(total):
            server.finished = True
        if server.drop_next_answer:
            server.drop_next_answer = False
            self.close_connection = True
            return  # persisted, but the client never hears of it
        if server.finished:
            resource = json.dumps({"generation": "7", "crc32c": _crc32c(server.stored)})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(resource)))
            self.end_headers()
            self.wfile.write(resource.encode())
            return
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


def _crc32c(data: bytes) -> str:
    return base64.b64encode(google_crc32c.value(bytes(data)).to_bytes(4, "big")).decode()


def session_on(server: ProtocolServer, discarded: list[int] | None = None
               ) -> ResumableSession:
    url = f"http://127.0.0.1:{server.server_address[1]}/upload?upload_id=x"
    return ResumableSession(requests.Session(), url, PART, (5.0, 5.0),
                            (discarded if discarded is not None else []).append)


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
    # The repeated part went into the whole's CRC32C once: the last chunk's hash is right.
    assert server.hashes[-1] == f"crc32c={_crc32c(server.stored)}"
    assert set(server.hashes[:-1]) == {None}


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


def test_a_commit_the_server_stored_damaged_is_discarded_and_refused(
    server: ProtocolServer,
) -> None:
    discarded: list[int] = []
    session = session_on(server, discarded)
    session.write_part(0, b"c" * PART)
    server.damage_next_chunk = True
    with pytest.raises(IntegrityError, match="other bytes than were sent"):
        session.commit(1, b"tail")
    assert discarded == [7]  # the generation the damaged object was made as
    sent = len(server.hashes)
    with pytest.raises(IntegrityError):  # a repeat: the session is spent, nothing is sent
        session.commit(1, b"tail")
    assert len(server.hashes) == sent and discarded == [7]
