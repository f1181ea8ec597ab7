"""``ConformanceSuite``: every clause group in one class for a provider's test file to subclass."""

from __future__ import annotations

from xtstore.testing.clauses_append import AppendClauses
from xtstore.testing.clauses_blobs import BlobClauses
from xtstore.testing.clauses_containers import ContainerClauses
from xtstore.testing.clauses_create_metadata import ChecksumClauses, CreateMetadataClauses
from xtstore.testing.clauses_download_properties import DownloadPropertiesClauses
from xtstore.testing.clauses_listing import ListingClauses
from xtstore.testing.clauses_listing_shortcuts import ListingShortcutClauses
from xtstore.testing.clauses_names import ErrorClauses, FolderClauses, NameClauses
from xtstore.testing.clauses_process import CapabilityClauses, ProcessClauses
from xtstore.testing.clauses_ranges import RangeClauses
from xtstore.testing.clauses_snapshots import SnapshotClauses
from xtstore.testing.clauses_streaming import StreamingClauses, WholeOrNothingClauses
from xtstore.testing.clauses_values import AdditionClauses, ValueClauses
from xtstore.testing.clauses_writers import ContentTypeClauses, WriterClauses

__all__ = ["ConformanceSuite"]


# pytest collects the last base's tests first: listed in reverse, the clauses run in the
# order of docs/contract.md §1.
class ConformanceSuite(
    AdditionClauses,
    ValueClauses,
    CapabilityClauses,
    ProcessClauses,
    SnapshotClauses,
    AppendClauses,
    ChecksumClauses,
    CreateMetadataClauses,
    ContentTypeClauses,
    WriterClauses,
    RangeClauses,
    DownloadPropertiesClauses,
    WholeOrNothingClauses,
    StreamingClauses,
    ListingShortcutClauses,
    ListingClauses,
    BlobClauses,
    ContainerClauses,
    ErrorClauses,
    FolderClauses,
    NameClauses,
):
    """The whole contract of docs/contract.md §1 as pytest tests, one test per clause.

    Subclass it in a class whose name starts with ``Test``, set ``options`` if the defaults do
    not suit the store, and define a fixture named ``store`` (any scope) returning the
    :class:`xtstore.Store` under test. Every test makes its own uniquely named containers and
    deletes them afterwards, so one store can serve the whole class.
    """
