"""azure-blob (issue 2.5): metadata given to an upload goes in the request that commits the
content (Put Blob, or Put Block List after staged blocks), never in a Set Blob Metadata after
it; metadata Azure cannot take fails typed before any request; ``BlobProperties.checksums``
is the Content-MD5 every blob the provider writes keeps, in properties and listings."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.providers.uploads import upload_methods
from xtstore.errors import InvalidArgument

TAGS = {"mtime": "1764633600.123456789", "Stage": "train"}
SMALL = b"small content"
LARGE = bytes(range(256)) * 2048
"""512 KiB: above the tests' max-single-put-size (256 KiB), so staged blocks and a commit."""
BAD = [({"bad key": "v"}, "C# identifiers"), ({"1st": "v"}, "C# identifiers"),
       ({"ké": "v"}, "C# identifiers"), ({"k": "välue"}, "printable ASCII"),
       ({"k": "two\nlines"}, "printable ASCII"), ({"Key": "1", "key": "2"}, "only in case")]


@pytest.fixture
def store(make_store: Callable[..., Any]) -> Any:
    return make_store()


def test_metadata_goes_with_the_commit_never_after_it(
    store: Any, container: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any) -> None:
        raise AssertionError("set_blob_metadata called after an upload")

    monkeypatch.setattr(store.provider, "set_blob_metadata", refused)
    assert store.capabilities().create_metadata
    for method, upload in upload_methods(store, container, tmp_path).items():
        for size, data in (("small", SMALL), ("large", LARGE)):
            blob = f"{method}/{size}.bin"
            upload(blob, data, TAGS)
            assert store.get_blob_metadata(container, blob) == TAGS, blob
            assert store.get_blob_bytes(container, blob) == data


@pytest.mark.parametrize(("metadata", "reason"), BAD)
def test_metadata_azure_cannot_take_is_refused_before_any_request(
    store: Any, container: str, tmp_path: Path, metadata: dict[str, str], reason: str
) -> None:
    for method, upload in upload_methods(store, container, tmp_path).items():
        with pytest.raises(InvalidArgument, match=reason) as caught:
            upload(f"{method}.bin", LARGE, metadata)
        assert (caught.value.service, caught.value.container, caught.value.blob) == (
            "az", container, f"{method}.bin")
    assert store.list_blobs(container) == []
    store.create_blob(container, "kept.txt", "kept", metadata={"old": "yes"})
    with pytest.raises(InvalidArgument, match=reason):
        store.set_blob_metadata(container, "kept.txt", metadata)
    assert store.get_blob_metadata(container, "kept.txt") == {"old": "yes"}
    with pytest.raises(InvalidArgument, match=reason):
        store.set_container_metadata(container, metadata)


def test_every_blob_written_states_its_md5_in_properties_and_listings(
    store: Any, container: str, tmp_path: Path
) -> None:
    written = {}
    for method, upload in upload_methods(store, container, tmp_path).items():
        for size, data in (("small", SMALL), ("large", LARGE), ("empty", b"")):
            blob = f"{method}/{size}.bin"
            upload(blob, data, {})
            written[blob] = hashlib.md5(data).hexdigest()
    for blob, md5 in written.items():
        assert store.get_blob_properties(container, blob).properties.checksums == {"md5": md5}
    listed = {entry.name: entry.properties.checksums
              for entry in store.list_blobs(container, return_names=False)}
    assert listed == {blob: {"md5": md5} for blob, md5 in written.items()}


def test_an_append_blob_states_no_checksum_and_keeps_its_metadata(
    store: Any, container: str
) -> None:
    store.append_blob(container, "log.txt", "one\n")
    store.set_blob_metadata(container, "log.txt", TAGS)
    store.append_blob(container, "log.txt", "two\n")
    properties = store.get_blob_properties(container, "log.txt").properties
    assert properties.checksums == {}  # Azure keeps no MD5 of an append blob
    assert properties.metadata == TAGS
    store.create_blob(container, "made.txt", "made\n", metadata=TAGS)
    store.append_blob(container, "made.txt", "more\n")  # a block blob: rewritten
    rewritten = store.get_blob_properties(container, "made.txt").properties
    assert rewritten.metadata == TAGS
    assert rewritten.checksums == {"md5": hashlib.md5(b"made\nmore\n").hexdigest()}
