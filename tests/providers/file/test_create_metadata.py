"""store-file: metadata given to an upload is kept with the new file (an extended attribute)
before it takes the name, or in the blob's record where the file system keeps no such
attribute (``capabilities().create_metadata``). That it is so at every point of the write, also
for a process killed there, is test_crash_safety.py's "given-metadata" cases."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest

from xtstore.errors import BlobAlreadyExists
from xtstore.providers.file import records, writes
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
        (listed,) = provider.list_blobs("box", return_names=False)
        assert listed.properties is not None
        # A listing pairs one version's size with that version's metadata: "0-5" is 3 bytes.
        text = listed.properties.metadata.get("text", "")
        mismatches += listed.properties.content_length != len(text)
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert mismatches == 0
    text = provider.get_blob_text("box", "race.txt")
    assert provider.get_blob_metadata("box", "race.txt") == {"text": text}


def test_metadata_given_to_an_upload_is_kept_with_its_file_and_needs_no_record(
    provider: FileProvider, tmp_path: Path
) -> None:
    # Before 2.6 each upload given metadata wrote a record beside it, under the blob's lock:
    # two more files made and renamed per upload, and one record read per listed blob.
    provider.create_blob("box", "d/a.txt", "text", metadata=TAGS)
    blob_file = tmp_path / "root" / "box" / "d" / "a.txt"
    assert records.METADATA in os.listxattr(blob_file)
    assert records.attribute_metadata(str(blob_file)) == TAGS
    assert record_entries(tmp_path / "root", "d/a.txt") == {}
    (listed,) = provider.list_blobs("box", return_names=False)
    assert listed.properties is not None and listed.properties.metadata == TAGS


def test_metadata_set_later_wins_over_the_uploads_also_when_cleared(
    provider: FileProvider,
) -> None:
    provider.create_blob("box", "a", "text", metadata=TAGS)
    snapshot = provider.snapshot_blob("box", "a")
    provider.set_blob_metadata("box", "a", {"stage": "eval"})
    assert provider.get_blob_metadata("box", "a") == {"stage": "eval"}
    provider.set_blob_metadata("box", "a", {})
    assert provider.get_blob_metadata("box", "a") == {}
    (listed,) = provider.list_blobs("box", return_names=False)
    assert listed.properties is not None and listed.properties.metadata == {}
    # The copy and the snapshot share the file, and with it the upload's attribute: the
    # copy takes the metadata the source has now, and the source's stays cleared.
    provider.copy_blob("box", "a", "box", "b")
    assert provider.get_blob_metadata("box", "b") == {}
    provider.append_blob("box", "a", "+", append_with_rewrite=True)
    assert provider.get_blob_metadata("box", "a") == {}
    assert provider.get_blob_bytes("box", "a", snapshot=snapshot.snapshot) == b"text"


@pytest.mark.parametrize("kept", ["no attributes", "too large for one"])
def test_metadata_the_file_cannot_keep_goes_to_the_record(
    provider: FileProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: str
) -> None:
    tags = dict(TAGS)
    if kept == "no attributes":
        monkeypatch.setattr(records, "_ATTRIBUTES", False)
    else:
        tags["notes"] = "x" * 70_000  # past ext4's one block and XFS's 64 KiB per attribute
    provider.create_blob("box", "a", "text", metadata=tags)
    assert provider.get_blob_metadata("box", "a") == tags
    assert list(record_entries(tmp_path / "root", "a").values()) == [tags]
    provider.append_blob("box", "a", "+", append_with_rewrite=True)
    assert provider.get_blob_metadata("box", "a") == tags


def test_a_listing_after_an_append_in_place_pairs_the_new_size_with_the_metadata(
    provider: FileProvider,
) -> None:
    # The attribute names the version it was given to by its etag, which an append in place
    # changes: the listing then checks the pairing by a second stat instead.
    provider.create_blob("box", "log.txt", "one\n", metadata=TAGS)
    provider.append_blob("box", "log.txt", "two\n")
    (listed,) = provider.list_blobs("box", return_names=False)
    assert listed.properties is not None
    assert (listed.properties.content_length, listed.properties.metadata) == (8, TAGS)
    described = provider.get_blob_properties("box", "log.txt").properties
    assert described is not None and listed.properties.etag == described.etag


def test_a_listing_that_stat_ed_a_version_since_replaced_pairs_the_new_one_whole(
    provider: FileProvider, tmp_path: Path
) -> None:
    # The listing's stat, then a replacing write, then the metadata read by path: the
    # attribute read is the new version's, so the listing must give the new version's stat.
    provider.create_blob("box", "a", "old", metadata={"text": "old"})
    read = provider._records.listing_reader("box")
    listed_before = os.stat(tmp_path / "root" / "box" / "a")
    provider.create_blob("box", "a", "newer", metadata={"text": "newer"})
    st, metadata = read("a", listed_before)
    assert (st.st_size, metadata) == (5, {"text": "newer"})
