"""The resumable upload session under ``open_blob(..., mode="wb")``: each part of the
:class:`~xtstore.writer.BlobWriter` is one chunk of the session, the commit its last chunk
with the total size, the abort its cancellation (GCS's protocol: chunks of multiples of
256 KiB, ``Content-Range: bytes a-b/*``; the object appears only when the last chunk lands).

The last chunk carries the CRC32C of the whole content (``x-goog-hash: crc32c=``), which GCS
checks before it makes the object: damaged bytes are refused, not stored. A server that does
not check it (fake-gcs-server) is caught by the object's own crc32c in the last response:
that object is discarded and the commit raises ``IntegrityError``. Every step is
repeatable: a repeat first asks the session how much it persisted
(``Content-Range: bytes */*``) and sends only what is missing of its chunk, so a chunk whose
response was lost is never stored twice, and a commit that already finished is not sent
again. The session URL is a bearer capability: it is never put in a message.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import google_crc32c

from xtstore.errors import IntegrityError, StoreError
from xtstore.providers.gcs.errors import http_error

__all__ = ["ResumableSession", "crc32c_base64", "stored_other_bytes"]


def crc32c_base64(crc: int) -> str:
    """A CRC32C as GCS states it (``crc32c`` of an object, ``x-goog-hash``): 4 bytes
    big-endian, base64."""
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


def stored_other_bytes(resource: Any, sent: str, discard: Callable[[int], None]) -> None:
    """After an upload whose content's CRC32C was ``sent`` (base64): if the object resource
    GCS answered with states another crc32c, the server stored damaged bytes without checking
    them (GCS itself refuses them: fake-gcs-server does not), so discard that object (its
    generation) and raise ``IntegrityError``."""
    stored = resource.get("crc32c") if isinstance(resource, dict) else None
    if stored is None or stored == sent:
        return
    generation = resource.get("generation")
    if generation is not None:
        discard(int(generation))
    raise IntegrityError(f"GCS stored other bytes than were sent (crc32c {stored}, sent"
                         f" {sent}); the damaged object was removed", algorithm="crc32c")

_DONE = (200, 201)
_INCOMPLETE = 308
_PERSISTED = re.compile(r"bytes=0-(\d+)")


class ResumableSession:
    """A :class:`~xtstore.writer.PartSink` over one GCS resumable upload session."""

    def __init__(self, http: Any, url: str, part_size: int, timeout: tuple[float, float],
                 discard: Callable[[int], None]) -> None:
        self.part_size = part_size
        self._discard = discard
        """Deletes the object of a generation (one that holds damaged bytes)."""
        self._damaged: str | None = None
        """Why the commit discarded the object the session made: the session is spent, so
        a repeat of the commit fails the same way (not "finished")."""
        self._http = http
        self._url = url
        self._timeout = timeout
        self._sent: set[int] = set()
        """Parts (and ``-1`` for the commit) sent at least once: only their repeats ask."""
        self._whole = 0
        """The CRC32C of the parts hashed so far."""
        self._hashed = 0
        """How many parts (and the tail, as one more) went into ``_whole``."""

    def _hash(self, index: int, data: bytes) -> None:
        if index == self._hashed:
            self._whole = int(google_crc32c.extend(self._whole, data))
            self._hashed += 1

    def write_part(self, index: int, data: bytes) -> None:
        self._hash(index, data)
        start = index * self.part_size
        end = start + len(data)
        if index in self._sent:
            persisted = self._persisted(total=None)
            if persisted is None or persisted >= end:
                return
            data, start = data[persisted - start:], max(start, persisted)
        self._sent.add(index)
        self._put(data, f"bytes {start}-{end - 1}/*", expect=(_INCOMPLETE,))

    def commit(self, parts: int, tail: bytes) -> None:
        if self._damaged is not None:
            raise IntegrityError(self._damaged, algorithm="crc32c")
        self._hash(parts, tail)
        start = parts * self.part_size
        total = start + len(tail)
        crc32c = crc32c_base64(self._whole)
        if -1 in self._sent:
            persisted = self._persisted(total=total)
            if persisted is None:
                return  # finished by the attempt whose response was lost
            tail, start = tail[persisted - start:], max(start, persisted)
        self._sent.add(-1)
        content_range = (f"bytes {start}-{total - 1}/{total}" if tail
                         else f"bytes */{total}")
        response = self._put(tail, content_range, expect=_DONE, hashes=f"crc32c={crc32c}")
        try:
            resource = response.json()
        except ValueError:  # a server that answers without the object resource
            resource = None
        try:
            stored_other_bytes(resource, crc32c, self._discard)
        except IntegrityError as error:
            self._damaged = error.reason
            raise

    def abort(self) -> None:
        # GCS answers a cancelled session with 499; nothing was made visible either way.
        self._http.delete(self._url, timeout=self._timeout)

    def _persisted(self, total: int | None) -> int | None:
        """How many bytes the session holds; None once it is finished."""
        size = "*" if total is None else str(total)
        response = self._http.put(self._url, data=b"", timeout=self._timeout,
                                  headers={"Content-Range": f"bytes */{size}"})
        if response.status_code in _DONE:
            return None
        if response.status_code != _INCOMPLETE:
            raise http_error(response)
        match = _PERSISTED.fullmatch(response.headers.get("Range", ""))
        return int(match[1]) + 1 if match else 0

    def _put(self, data: bytes, content_range: str, expect: tuple[int, ...],
             hashes: str | None = None) -> Any:
        headers = {"Content-Range": content_range}
        if hashes is not None:
            headers["x-goog-hash"] = hashes
        response = self._http.put(self._url, data=data, timeout=self._timeout,
                                  headers=headers)
        if response.status_code not in expect:
            if response.status_code < 400:
                raise StoreError(f"GCS answered a resumable upload chunk with HTTP"
                                 f" {response.status_code}")
            raise http_error(response)
        return response
