"""The conformance suite catches broken providers, clause by clause, and passes correct ones.

Each broken provider in :mod:`tests.testing.broken_providers` is a correct built-in provider
with one bug; running the suite on it must fail the clause that bug breaks, with a message
quoting that clause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import xtstore
from xtstore.store import Store
from xtstore.testing import ConformanceReport, SuiteOptions, run_conformance
from xtstore.testing.options import MiB

BROKEN = "tests.testing.broken_providers"
MEMORY_OPTIONS = SuiteOptions(bounded_memory=False)
FILE_OPTIONS = SuiteOptions(large_blob_size=48 * MiB)
THREADS = SuiteOptions(bounded_memory=False, processes=False)
PROCESSES = SuiteOptions(large_blob_size=48 * MiB, processes=True)
RACE_RUNS = 20


def factory(provider: str, root: Path | None = None) -> Callable[[], Store]:
    settings = {"type": "storage", "provider": provider}
    if root is not None:
        settings["path"] = str(root)

    def make() -> Store:
        return xtstore.get_storage("suite", config={"external-services": {"suite": settings}})

    return make


def failures(report: ConformanceReport) -> dict[str, str]:
    return {result.clause: result.message for result in report.failed}


@dataclass(frozen=True)
class Case:
    provider: str
    select: str
    clause: str
    quote: str
    on_file: bool = False
    options: SuiteOptions = MEMORY_OPTIONS


CASES = [
    Case("PrefixListing", "list_blobs", "list_blobs_folder_path_never_matches_sibling_prefix",
         "'foo', 'foo/' and '/foo' all mean the blobs under foo/ (never foobar)"),
    Case("UnsortedListing", "list_blobs", "list_blobs_names_are_full_paths_sorted",
         "sorted — listing: same entries, different order: expected ['A', "),
    Case("ListsSnapshots", "snapshot", "snapshots_never_appear_in_list_blobs",
         "snapshots never appear in list_blobs"),
    Case("CheckThenWrite", "race", "fail_if_exists_race_exactly_one_creator_wins",
         "of N concurrent creators exactly one succeeds (8 threads)", options=THREADS),
    Case("CheckThenWriteFile", "race", "fail_if_exists_race_exactly_one_creator_wins",
         "of N concurrent creators exactly one succeeds (8 processes)", on_file=True,
         options=PROCESSES),
    Case("CheckThenWriteUntyped", "race", "fail_if_exists_race_exactly_one_creator_wins",
         "creators succeeded", on_file=True, options=THREADS),
    Case("UntypedLosers", "race", "fail_if_exists_race_exactly_one_creator_wins",
         "the losers raised RuntimeError: blob already exists", on_file=True, options=THREADS),
    Case("StaleDownloadProperties", "get_blob_to_path_returns",
         "get_blob_to_path_returns_the_written_versions_properties",
         "after set_blob_metadata: metadata: expected"),
    Case("DeclaredDownloadPropertiesNone", "get_blob_to_path_returns",
         "get_blob_to_path_returns_the_written_versions_properties",
         "a new blob: None, where capabilities().download_properties is declared"),
    Case("NoProgress", "progress", "progress_is_non_decreasing_and_ends_at_total",
         "the provider's own create_blob_from_path: progress_callback was never called"),
    Case("CopyIntoPlace", "upload_failing", "upload_failing_part_way_leaves_the_old_blob",
         "neither the old content (11 bytes) nor the whole new file", on_file=True,
         options=FILE_OPTIONS),
    Case("InterleavingAppend", "concurrent_appends_lose",
         "concurrent_appends_lose_nothing_and_never_interleave",
         "never interleave inside one call's text"),
    Case("LostUpdateRewrite", "concurrent_appends_with_rewrite",
         "concurrent_appends_with_rewrite_lose_nothing_and_never_interleave",
         "append_with_rewrite=True (read-modify-write under an etag condition) is just as safe"),
    Case("TornOverwrite", "partly_written", "reader_never_sees_a_partly_written_blob",
         "a reader never sees a partly written blob"),
    Case("PartialDownload", "download", "download_failing_part_way_leaves_no_partial_file",
         "a download never leaves a partial dest_fn behind after a failure"),
    Case("DeleteKeepsSnapshots", "delete_blob", "delete_blob_deletes_all_its_snapshots",
         "delete_blob with snapshot=None deletes the blob and all its snapshots"),
    Case("NaiveTimes", "properties", "blob_properties_have_the_listing_shape_plus_metadata",
         "is naive, not timezone-aware"),
    Case("SilentSnapshots", "unsupported", "unsupported_features_raise_unsupported",
         "raises Unsupported, never silently does nothing (snapshots)"),
    Case("EmptyListingOfMissingContainer", "missing_container",
         "list_blobs_missing_container_raises_container_not_found",
         "a missing container raises ContainerNotFound"),
    Case("LiveSnapshots", "snapshot", "snapshot_reads_content_as_it_was_after_overwrite",
         "get_blob_to_path with the snapshot id reads the content as it was"),
    Case("SizeEtag", "etag", "etag_changes_on_every_write", "the etag changes on every write"),
    Case("CopyKeepsDestination", "copy", "copy_blob_overwrites_destination_across_containers",
         "copy_blob overwrites the destination"),
    Case("NoParentFolders", "parent_folders", "get_blob_to_path_creates_parent_folders",
         "get_blob_to_path creates the parent folders of dest_fn"),
    Case("UnsortedContainers", "listed_sorted", "create_container_exists_and_is_listed_sorted",
         "list_containers returns sorted names"),
    Case("MemoryHungryUpload", "bounded_memory", "streaming_uses_bounded_memory",
         "memory bounded independently of the blob's size", on_file=True,
         options=SuiteOptions(large_blob_size=160 * MiB, memory_limit=32 * MiB)),
    Case("RangeOffByOne", "get_blob_range_returns", "get_blob_range_returns_the_slice",
         "returns content[start:end], end exclusive"),
    Case("RangePastTheEndFails", "get_blob_range_returns", "get_blob_range_returns_the_slice",
         "raised OSError: 416 Range Not Satisfiable"),
    Case("UnseekableStream", "readable_and_seekable", "open_blob_is_readable_and_seekable",
         "the stream is readable and seekable: seek (SEEK_SET, SEEK_CUR, SEEK_END), tell, "
         "read(n), readinto and read() agree with the blob's bytes — seekable() is False"),
    Case("UnseekableStream", "columnar", "columnar_reader_pattern_reads_the_footer_then_"
         "scattered_ranges", "seekable() is False"),
    Case("UnseekableStream", "zip_archive", "zip_archive_round_trips_through_the_writer_and_a_"
         "seeking_reader", "reading the archive raised BadZipFile"),
    Case("DropsTheTail", "zip_archive", "zip_archive_round_trips_through_the_writer_and_a_"
         "seeking_reader", "reading the archive raised BadZipFile"),
    Case("SeekCurFromStart", "random_seeks",
         "random_seeks_and_reads_over_a_large_blob_match_the_bytes",
         "random seeks and reads over a large blob match the bytes — step"),
    Case("MixedVersions", "never_mixes", "open_blob_never_mixes_two_versions_after_an_overwrite",
         "gave both versions"),
    Case("WholeBlobInMemory", "random_seeks",
         "random_seeks_and_reads_over_a_large_blob_match_the_bytes",
         "use memory bounded independently of the blob's size", on_file=True,
         options=SuiteOptions(large_blob_size=96 * MiB, memory_limit=24 * MiB)),
    Case("WritesInPlace", "visible_whole", "writer_content_is_visible_whole_on_close_once",
         "until then readers see the old blob or none — after", on_file=True),
    Case("WritesInPlace", "killed_writer", "killed_writer_leaves_the_old_blob",
         "nothing becomes visible if the writing process is killed (a process killed with "
         "SIGKILL) — while the worker holds", on_file=True, options=PROCESSES),
    Case("WritesInPlace", "killed_writer", "killed_writer_leaves_the_old_blob",
         "(a thread that never closes its writer", on_file=True, options=THREADS),
    Case("WritesInPlace", "aborted_writer", "aborted_writer_leaves_the_old_blob",
         "an exception left the with block after 307200 bytes: the blob exists", on_file=True,
         options=SuiteOptions(writer_size=300 * 1024)),
    Case("WriterCannotOpen", "killed_writer", "killed_writer_leaves_the_old_blob",
         "never finished writing 9437201 bytes: RuntimeError: no writer here",
         on_file=True, options=PROCESSES),
    Case("WriterCannotOpen", "killed_writer", "killed_writer_leaves_the_old_blob",
         "never finished writing 9437201 bytes: RuntimeError: no writer here", on_file=True,
         options=THREADS),
    Case("CommitsOnEveryClose", "visible_whole", "writer_content_is_visible_whole_on_close_once",
         "after a second close() (it must commit once)"),
    Case("CommitsWhenCollected", "aborted_writer", "aborted_writer_leaves_the_old_blob",
         "the writer was collected unclosed after"),
    Case("DropsTheTail", "exactly_the_bytes", "writer_stores_exactly_the_bytes_written",
         "the blob's size"),
    Case("WriterKeepsMetadata", "clears_its_metadata",
         "writer_replaces_the_blob_and_clears_its_metadata", "metadata after close()"),
    Case("WriterChecksContainerOnClose", "container_not_found_at_open",
         "writer_to_a_missing_container_raises_container_not_found_at_open",
         "raised by the open_blob call itself — expected ContainerNotFound, but the call "
         "returned"),
    Case("MemoryHungryWriter", "writer_memory", "writer_memory_is_bounded_for_many_small_writes",
         "memory is bounded by one part", on_file=True,
         options=SuiteOptions(large_blob_size=96 * MiB, memory_limit=24 * MiB)),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{case.provider}-{case.select}" for case in CASES])
def test_suite_fails_the_clause_a_broken_provider_breaks(case: Case, tmp_path: Path) -> None:
    make = factory(f"{BROKEN}.{case.provider}", tmp_path / "store" if case.on_file else None)
    report = run_conformance(make, case.options, select=case.select)
    failed = failures(report)
    assert not report.ok
    assert case.clause in failed, f"{case.clause} did not fail; results: {report.results}"
    message = failed[case.clause]
    assert case.quote in message, message
    assert " — " in message, message  # "<the clause quoted> — <expected vs got>"


def test_suite_fails_only_the_broken_clauses(tmp_path: Path) -> None:
    report = run_conformance(factory(f"{BROKEN}.PrefixListing"), MEMORY_OPTIONS)
    failed = set(failures(report))
    assert {
        "list_blobs_folder_path_forms_all_mean_the_folder",
        "list_blobs_folder_path_never_matches_sibling_prefix",
        "list_blobs_non_recursive_gives_blobs_and_child_folders_once",
    } <= failed
    # Every clause that fails is one that lists a folder path: nothing unrelated breaks.
    assert all("list_blobs" in name for name in failed), failed
    assert "list_blobs_star_is_a_raw_name_prefix" not in failed
    assert len(report.passed) > 50


MEMORY_NOT_MEASURED = {
    "streaming_uses_bounded_memory",
    "random_seeks_and_reads_over_a_large_blob_match_the_bytes",
    "writer_memory_is_bounded_for_many_small_writes",
}
"""The clauses skipped (after checking the bytes) where SuiteOptions(bounded_memory=False)."""


def content_type_skips(make: Callable[[], Store]) -> set[str]:
    """The content-type clause is skipped where the store keeps no content types, the
    listing-metadata clause where listings carry no metadata."""
    capabilities = make().capabilities()
    return (set() if capabilities.content_types else {"content_type_is_read_back_in_properties"}
            ) | (set() if capabilities.listing_metadata else {
                "list_blobs_listing_metadata_is_the_blobs_metadata"})


def test_correct_memory_provider_passes_the_whole_suite() -> None:
    report = run_conformance(factory("store-memory"), MEMORY_OPTIONS)
    assert report.ok, [result for result in report.results if result.outcome != "passed"]
    skipped = {result.clause for result in report.skipped}
    assert skipped == MEMORY_NOT_MEASURED | content_type_skips(factory("store-memory"))
    assert all("the bytes matched" in result.message for result in report.skipped
               if result.clause in MEMORY_NOT_MEASURED - {"streaming_uses_bounded_memory"})
    assert report.summary().startswith(f"{len(report.results) - len(skipped)} passed, 0 failed")


def test_correct_file_provider_passes_the_whole_suite(tmp_path: Path) -> None:
    make = factory("store-file", tmp_path / "store")
    report = run_conformance(make, FILE_OPTIONS)
    assert report.ok, [result for result in report.results if result.outcome != "passed"]
    assert {result.clause for result in report.skipped} == content_type_skips(make)


def test_report_names_each_clause_once_in_run_order() -> None:
    report = run_conformance(factory("store-memory"), MEMORY_OPTIONS, select="list_blobs")
    names = [result.clause for result in report.results]
    assert len(names) == len(set(names)) > 5
    assert all("list_blobs" in name for name in names)
    assert all(result.outcome == "passed" and result.message == "" for result in report.results)


def test_a_store_that_cannot_be_built_fails_every_clause_with_the_reason() -> None:
    def broken_factory() -> Store:
        raise RuntimeError("no such cloud")

    report = run_conformance(broken_factory, MEMORY_OPTIONS, select="list_blobs")
    assert not report.ok
    assert report.results and report.failed == report.results
    assert all("error in setup" in r.message and "no such cloud" in r.message
               for r in report.results), report.results


def test_selecting_nothing_is_not_ok() -> None:
    report = run_conformance(factory("store-memory"), MEMORY_OPTIONS, select="no_such_clause")
    assert report.results == []
    assert not report.ok


def test_race_clause_catches_check_then_write_without_sleep_19_of_20(tmp_path: Path) -> None:
    # XT FileStore's create-only, exists-then-write with no sleep: a window of microseconds.
    caught = 0
    for run in range(RACE_RUNS):
        make = factory(f"{BROKEN}.CheckThenWriteFile", tmp_path / f"store-{run}")
        report = run_conformance(make, THREADS, select="race")
        message = failures(report).get("fail_if_exists_race_exactly_one_creator_wins", "")
        caught += "creators succeeded" in message
    assert caught >= RACE_RUNS - 1, f"caught in {caught} of {RACE_RUNS} runs"


def test_clauses_about_other_things_pass_with_xt_limits(tmp_path: Path) -> None:
    # str-only create_blob and no parent folders for downloads: the clauses whose subject is
    # neither must pass, and the one about bytes names the call that failed.
    make = factory(f"{BROKEN}.WithXtLimits", tmp_path / "store")
    select = ("bounded_memory or partly_written or failing_part_way or content_length or "
              "get_blob_text_returns or copy_blob_overwrites or get_blob_bytes or "
              "bytes_are_stored or zero_byte")
    report = run_conformance(make, SuiteOptions(large_blob_size=48 * MiB), select=select)
    failed = failures(report)
    assert set(failed) == {"bytes_are_stored_exactly_all_256_values"}, report.results
    assert len(report.passed) == 9, report.results
    message = failed["bytes_are_stored_exactly_all_256_values"]
    assert message.startswith("Store.create_blob(container='xtc-"), message
    assert "blob_path='bytes.bin', text=<1028 bytes>" in message, message
    assert message.endswith("raised TypeError: write() argument must be str, not bytes")


def test_a_failed_precondition_says_the_clause_could_not_run() -> None:
    report = run_conformance(factory(f"{BROKEN}.BrokenUpload"), MEMORY_OPTIONS,
                             select="get_blob_text_returns_str")
    message = failures(report)["get_blob_text_returns_str"]
    assert message.startswith("Text and bytes: get_blob_text returns str — could not run: "
                              "uploading UTF-8 bytes with create_blob_from_path: "
                              "Store.create_blob_from_path(container='xtc-"), message
    assert message.endswith("raised TypeError: upload is not implemented yet"), message
