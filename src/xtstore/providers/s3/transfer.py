"""Managed S3 transfers (s3transfer, the engine of boto3's ``upload_file``/``download_file``):
multipart uploads, ranged concurrent downloads and multipart copies with bounded memory.

s3transfer's own download retries are off (``num_download_attempts=1`` in the config), so the
Store's retry layer is the only one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import IO, Any

from s3transfer.manager import TransferManager  # type: ignore[import-untyped]
from s3transfer.subscribers import BaseSubscriber  # type: ignore[import-untyped]

from xtstore.interface import ProgressCallback
from xtstore.localfiles.atomic import atomic_local_file

__all__ = ["Transfers"]


class _Progress(BaseSubscriber):  # type: ignore[misc]
    """Turns s3transfer's per-chunk increments (from worker threads) into
    ``callback(current, total)`` calls with non-decreasing values."""

    def __init__(self, callback: ProgressCallback, total: int | None = None) -> None:
        self._callback = callback
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        with self._lock:
            self._done += bytes_transferred
            total = self._total if self._total is not None else future.meta.size
            self._callback(self._done, max(int(total or 0), self._done))


def _subscribers(callback: ProgressCallback | None, total: int | None = None) -> list[Any]:
    return [_Progress(callback, total)] if callback is not None else []


class Transfers:
    """Upload, download and copy through one client with one TransferConfig."""

    def __init__(self, client: Any, config: Any) -> None:
        self.client = client
        self.config = config

    def _manager(self) -> TransferManager:
        return TransferManager(self.client, self.config)

    def upload(
        self,
        source: str | IO[bytes],
        bucket: str,
        key: str,
        progress: ProgressCallback | None = None,
        total: int | None = None,
    ) -> None:
        """Upload a file name or a readable stream; the object appears only when complete
        (a failed multipart upload is aborted). Raises ``ContainerNotFound``."""
        with self._manager() as manager:
            manager.upload(source, bucket, key,
                           subscribers=_subscribers(progress, total)).result()

    def download_to_path(
        self, bucket: str, key: str, dest_fn: str, progress: ProgressCallback | None = None
    ) -> None:
        """Download whole-or-nothing into ``dest_fn`` (see
        :func:`~xtstore.localfiles.atomic.atomic_local_file`): the transfer manager writes the
        parts into the writer's file object. Raises ``BlobNotFound``."""
        with (
            atomic_local_file(dest_fn) as fd,
            os.fdopen(fd, "wb", closefd=False) as sink,
            self._manager() as manager,
        ):
            manager.download(bucket, key, sink, subscribers=_subscribers(progress)).result()

    def copy(
        self, source_bucket: str, source_key: str, bucket: str, key: str,
        extra_args: Mapping[str, Any],
    ) -> None:
        """Multipart server-side copy (``UploadPartCopy``), for objects beyond CopyObject's
        5 GiB. Raises ``BlobNotFound``, ``ContainerNotFound``."""
        with self._manager() as manager:
            manager.copy({"Bucket": source_bucket, "Key": source_key}, bucket, key,
                         extra_args=dict(extra_args)).result()
