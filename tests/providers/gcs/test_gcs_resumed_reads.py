"""The resumed-read tests of tests/providers/test_resumed_reads.py (a body cut or reset
mid-way resumed where it broke off, a 503 there retried, an overwrite mid-read a
``PreconditionFailed``, snapshot reads, seeks, one GET for a sequential read, bounded ranges
after seeks, a large read against the SDK's download, pyarrow), run on store-gcs:
fake-gcs-server behind the same fault proxy. The tests are imported from there, so both run
the same code; only ``setup`` differs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import xtstore
from tests.providers.test_resumed_reads import (
    CONTENT,
    RETRY,
    Setup,
    test_a_blob_overwritten_mid_read_is_a_precondition_failure,
    test_a_body_cut_short_is_resumed_where_it_broke_off_and_a_503_there_is_retried,
    test_a_body_reset_mid_way_is_resumed,
    test_a_sequential_read_makes_one_get,
    test_a_sequential_read_of_a_large_blob_costs_no_more_gets_than_the_sdks_download,
    test_a_snapshot_read_resumes_on_the_snapshot,
    test_pyarrow_reads_parquet_through_open_blob_in_a_few_ranged_gets,
    test_random_seeks_and_reads_ask_bounded_ranges_one_get_a_read_at_most,
    test_reading_on_after_a_seek_asks_for_growing_ranges,
    test_seek_and_read_give_the_bytes_at_every_offset,
    test_when_the_retries_run_out_the_error_is_typed_and_names_the_blob,
)
from tests.servers.fault_proxy import running_proxy
from tests.servers.gcs_server import FakeGCSServer

__all__ = [
    "test_a_blob_overwritten_mid_read_is_a_precondition_failure",
    "test_a_body_cut_short_is_resumed_where_it_broke_off_and_a_503_there_is_retried",
    "test_a_body_reset_mid_way_is_resumed",
    "test_a_sequential_read_makes_one_get",
    "test_a_sequential_read_of_a_large_blob_costs_no_more_gets_than_the_sdks_download",
    "test_a_snapshot_read_resumes_on_the_snapshot",
    "test_pyarrow_reads_parquet_through_open_blob_in_a_few_ranged_gets",
    "test_random_seeks_and_reads_ask_bounded_ranges_one_get_a_read_at_most",
    "test_reading_on_after_a_seek_asks_for_growing_ranges",
    "test_seek_and_read_give_the_bytes_at_every_offset",
    "test_when_the_retries_run_out_the_error_is_typed_and_names_the_blob",
]


@pytest.fixture
def setup(fake_gcs: FakeGCSServer) -> Iterator[Setup]:
    def make(endpoint: str) -> object:
        entry = fake_gcs.service_config(**{"endpoint-url": endpoint, "retry": RETRY,
                                           "timeout": {"connect": 5, "read": 10}})
        return xtstore.get_storage("resumed", config={"external-services": {"resumed": entry}})

    direct = make(fake_gcs.endpoint_url)
    container = f"rr-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)  # type: ignore[attr-defined]
    direct.create_blob(container, "blob.bin", CONTENT)  # type: ignore[attr-defined]
    with running_proxy(fake_gcs.endpoint_url, hold_limit=5.0, lifetime=120.0) as proxy:
        proxied = make(proxy.endpoint(fake_gcs.endpoint_url))

        def sdk_download(bucket: str, name: str, file: Any) -> None:
            # google-cloud-storage's own download, through the proxy: one media GET.
            client = proxied.provider.client  # type: ignore[attr-defined]
            client.bucket(bucket).blob(name).download_to_file(file)

        yield Setup(proxied, direct, container, proxy, "range", sdk_download)
    direct.delete_container(container)  # type: ignore[attr-defined]
