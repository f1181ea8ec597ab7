"""Clause "get_blob_to_path" of docs/contract.md §1, its return value: the properties of the
version written where ``capabilities().download_properties`` is declared, equal to what
``get_blob_properties`` gives for it (size, etag, content type, metadata, checksums; the time
within the store's precision), also after ``set_blob_metadata`` and after an overwrite; None
(not known) or the same properties elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from xtstore.fingerprints import MTIME_KEY, format_mtime
from xtstore.store import Store
from xtstore.testing.base import SuiteBase, put_bytes
from xtstore.testing.checks import check, check_equal, properties_of, short
from xtstore.values import BlobProperties, Support

__all__ = ["DownloadPropertiesClauses"]

RETURNED = ("get_blob_to_path: returns the BlobProperties of the version written where "
            "capabilities().download_properties, else None or those, equal to "
            "get_blob_properties' (size, etag, content type, metadata, checksums; "
            "last_modified within the store's precision), after set_blob_metadata and after "
            "an overwrite too")

PRECISION_NS = 1_000_000_000
"""How far two readings of one version's time may differ: an HTTP date's one second (a
listing or a HEAD may state sub-seconds a GET's header does not)."""


def check_same_version(got: BlobProperties, expected: BlobProperties, data: bytes,
                       what: str) -> None:
    """``got`` (from a download of ``data``) states what ``expected`` (the HEAD) does."""
    check_equal(got.content_length, len(data), RETURNED, f"{what}: content_length")
    for field in ("etag", "content_type", "metadata", "checksums"):
        check_equal(getattr(got, field), getattr(expected, field), RETURNED,
                    f"{what}: {field}")
    check(abs(got.modified_ns - expected.modified_ns) < PRECISION_NS, RETURNED,
          f"{what}: modified_ns {got.modified_ns} vs get_blob_properties' "
          f"{expected.modified_ns}")
    check(abs(got.last_modified.timestamp() * 1e9 - got.modified_ns) < PRECISION_NS, RETURNED,
          f"{what}: last_modified {got.last_modified} is not modified_ns {got.modified_ns}")


class DownloadPropertiesClauses(SuiteBase):
    def test_get_blob_to_path_returns_the_written_versions_properties(
        self, store: Store, container: str, tmp_path: Path
    ) -> None:
        blob = "props/model.csv"
        typed = store.capabilities().content_types
        first = b"a,b\n1,2\n"
        if typed:
            store.create_blob(container, blob, first.decode(), content_type="text/csv")
        else:
            put_bytes(store, container, blob, first)
        returned = downloaded(store, container, blob, tmp_path / "first.csv", first, "a new blob")
        declared = store.capabilities().download_properties
        check(returned is not None or not declared, RETURNED,
              "a new blob: None, where capabilities().download_properties is declared")
        if returned is None:
            pytest.skip("capabilities().download_properties is False: get_blob_to_path returned "
                        "None (checked; allowed: not known)")
        steps: list[tuple[str, bytes, dict[str, str] | None]] = [
            ("an overwrite", b"x,y\n3,4\n5,6\n", None)]
        if store.capabilities().metadata is not Support.UNSUPPORTED:
            stated = {MTIME_KEY: format_mtime(1_700_000_000_123_456_789), "stage": "train"}
            steps = [("set_blob_metadata", first, stated),
                     ("set_blob_metadata again", first, {"stage": "eval"}),
                     *steps,
                     ("set_blob_metadata after the overwrite", steps[0][1], {"run": "7"})]
        for number, (what, data, metadata) in enumerate(steps):
            if metadata is None:
                put_bytes(store, container, blob, data)
            else:
                store.set_blob_metadata(container, blob, metadata)
            got = downloaded(store, container, blob, tmp_path / f"step-{number}.csv", data,
                             f"after {what}")
            check(got is not None, RETURNED, f"after {what}: None, where the first was not")
            if metadata is not None and got is not None:
                check_equal(got.metadata, metadata, RETURNED, f"after {what}: metadata")


def downloaded(store: Store, container: str, blob: str, local: Path, data: bytes,
               what: str) -> BlobProperties | None:
    """``get_blob_to_path`` of ``blob`` (whose content is ``data``) to ``local``: what it
    returned, checked against ``get_blob_properties`` unless None."""
    got = store.get_blob_to_path(container, blob, str(local))
    check_equal(local.read_bytes(), data, RETURNED, f"{what}: the file")
    if got is None:
        return None
    check(isinstance(got, BlobProperties), RETURNED, f"{what}: returned {short(got)}")
    head = properties_of(store.get_blob_properties(container, blob), RETURNED, blob)
    check_same_version(got, head, data, what)
    return got
