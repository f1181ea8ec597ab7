"""The four upload methods that take ``metadata=`` (contract §1 "Metadata"), as one callable
each, for the providers' tests of metadata given at upload."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from xtstore.store import Store

Upload = Callable[[str, bytes, dict[str, str]], None]


def upload_methods(store: Store, container: str, tmp_path: Path) -> dict[str, Upload]:
    """``{method name: upload(blob, data, metadata)}`` for create_blob,
    create_blob_from_path, create_blob_from_stream (of unknown and of known length) and
    open_blob_writer."""

    def from_path(blob: str, data: bytes, metadata: dict[str, str]) -> None:
        source = tmp_path / "source.bin"
        source.write_bytes(data)
        store.create_blob_from_path(container, blob, str(source), metadata=metadata)

    def writer(blob: str, data: bytes, metadata: dict[str, str]) -> None:
        with store.open_blob(container, blob, mode="wb", metadata=metadata) as out:
            out.write(data)

    return {
        "create_blob": lambda blob, data, metadata: store.create_blob(
            container, blob, data, metadata=metadata),
        "create_blob_from_path": from_path,
        "create_blob_from_stream": lambda blob, data, metadata: store.create_blob_from_stream(
            container, blob, io.BytesIO(data), metadata=metadata),
        # Of known length: on some providers another path (GCS: one request, as create_blob).
        "create_blob_from_stream(length)": lambda blob, data, metadata:
            store.create_blob_from_stream(container, blob, io.BytesIO(data), len(data),
                                          metadata=metadata),
        "open_blob_writer": writer,
    }
