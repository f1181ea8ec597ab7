"""store-file: metadata given to an upload is in the blob's record before the new file takes
the name (``capabilities().create_metadata``). That it is so at every point of the write, also
for a process killed there, is test_crash_safety.py's "given-metadata" cases."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from xtstore.errors import BlobAlreadyExists
from xtstore.providers.file import writes
from xtstore.providers.file.store import FileProvider

TAGS = {"mtime": "1764633600.123456789", "stage": "train"}


@pytest.fixture
def provider(tmp_path: Path) -> FileProvider:
    made = FileProvider({"name": "disk", "path": str(tmp_path / "root")})
    made.create_container("box")
    return made


def record_entries(root: Path, blob: str) -> dict[str, dict[str, str]]:
    """The entries of the blob's metadata record (none if it has no record)."""
    records = list((root / ".xtstore" / "meta" / "box").rglob("*.json"))
    for record in records:
        document = json.loads(record.read_text())
        if document.get("blob") == blob:
            return dict(document["files"])
    return {}


def test_the_provider_itself_stores_metadata_given_to_each_upload(
    provider: FileProvider, tmp_path: Path
) -> None:
    # At 26bebe7 the three create methods took no metadata (TypeError) and the writer dropped it.
    assert provider.capabilities().create_metadata
    source = tmp_path / "source.bin"
    source.write_bytes(b"from a path")
    provider.create_blob("box", "text.txt", "text", metadata=TAGS)
    provider.create_blob_from_path("box", "path.bin", str(source), metadata=TAGS)
    provider.create_blob_from_stream("box", "stream.bin", io.BytesIO(b"streamed"),
                                     metadata=TAGS)
    with provider.open_blob_writer("box", "writer.bin", metadata=TAGS) as writer:
        writer.write(b"written")
    for blob in ("text.txt", "path.bin", "stream.bin", "writer.bin"):
        assert provider.get_blob_metadata("box", blob) == TAGS, blob
        props = provider.get_blob_properties("box", blob).properties
        assert props is not None and props.metadata == TAGS, blob
        assert props.checksums == {}, blob  # no content hash kept (docs/providers/file.md)


@pytest.mark.parametrize("size", [100, writes.LARGE], ids=["rename", "swap"])
def test_an_overwrite_given_metadata_replaces_the_old_and_keeps_the_record_small(
    provider: FileProvider, tmp_path: Path, size: int
) -> None:
    source = tmp_path / "source.bin"
    for number in range(6):
        source.write_bytes(bytes([number]) * size)
        provider.create_blob_from_path("box", "big.bin", str(source),
                                       metadata={"number": str(number)})
        assert provider.get_blob_metadata("box", "big.bin") == {"number": str(number)}
        # The current file's entry and at most the one it replaced: nothing piles up.
        assert len(record_entries(Path(provider.root), "big.bin")) <= 2
    provider.create_blob_from_path("box", "big.bin", str(source))  # none given: none kept
    assert provider.get_blob_metadata("box", "big.bin") == {}
    assert record_entries(Path(provider.root), "big.bin") == {}


def test_a_create_only_write_that_loses_leaves_the_old_blob_its_metadata(
    provider: FileProvider,
) -> None:
    provider.create_blob("box", "once.txt", "first", fail_if_exists=True,
                         metadata={"stage": "first"})
    with pytest.raises(BlobAlreadyExists):
        provider.create_blob("box", "once.txt", "second", fail_if_exists=True,
                             metadata={"stage": "second"})
    assert provider.get_blob_bytes("box", "once.txt") == b"first"
    assert provider.get_blob_metadata("box", "once.txt") == {"stage": "first"}


def test_concurrent_overwrites_given_metadata_end_with_the_last_ones_metadata(
    provider: FileProvider,
) -> None:
    # Without the blob's lock from the entry's addition to the link, a second writer's
    # record dropped the first's entry before its file took the name: the blob was left
    # with the content of one write and no metadata.
    provider.create_blob("box", "race.txt", "first", metadata={"text": "first"})
    errors: list[BaseException] = []

    def overwrite(worker: int) -> None:
        try:
            for number in range(40):
                text = f"{worker}-{number}"
                provider.create_blob("box", "race.txt", text, metadata={"text": text})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=overwrite, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    mismatches = 0
    while any(thread.is_alive() for thread in threads):
        props = provider.get_blob_properties("box", "race.txt").properties
        assert props is not None
        # Each version has its text in its metadata: a version seen without is a lost entry.
        mismatches += "text" not in props.metadata
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert mismatches == 0
    text = provider.get_blob_text("box", "race.txt")
    assert provider.get_blob_metadata("box", "race.txt") == {"text": text}
