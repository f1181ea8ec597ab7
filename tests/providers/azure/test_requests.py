"""Round trips per interface call, SDK retry off, and transient errors mapped and retried once
by xtstore's retry layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from tests.providers.azure.counting import RequestCounter
from xtstore.errors import (
    AccessDenied,
    BlobAlreadyExists,
    BlobNotFound,
    ContainerAlreadyExists,
    ContainerNotFound,
    PreconditionFailed,
    StoreError,
    TransientError,
)
from xtstore.providers import azure_blob
from xtstore.providers.azure.errors import Scrubber, translate


@pytest.fixture
def counted(make_store: Callable[..., Any]) -> tuple[Any, RequestCounter]:
    counter = RequestCounter()
    store = make_store(**{"client-options": {"raw_request_hook": counter}})
    return store, counter


def _requests(counter: RequestCounter, action: Callable[[], object]) -> int:
    counter.reset()
    action()
    return counter.count


def test_one_request_for_each_simple_call(
    counted: tuple[Any, RequestCounter], container: str
) -> None:
    store, counter = counted
    assert _requests(counter, lambda: store.create_blob(container, "a.txt", "hello")) == 1
    assert _requests(counter, lambda: store.get_blob_text(container, "a.txt")) == 1
    assert _requests(counter, lambda: store.get_blob_bytes(container, "a.txt")) == 1
    assert _requests(counter, lambda: store.does_blob_exist(container, "a.txt")) == 1
    assert _requests(counter, lambda: store.does_blob_exist(container, "nope.txt")) == 1
    assert _requests(counter, lambda: store.get_blob_properties(container, "a.txt")) == 1
    assert _requests(counter, lambda: store.get_blob_metadata(container, "a.txt")) == 1
    assert _requests(counter, lambda: store.set_blob_metadata(container, "a.txt", {"k": "v"})) == 1
    # The snapshots before, so that a repeat after a lost response finds the one it made.
    assert _requests(counter, lambda: store.snapshot_blob(container, "a.txt")) == 2
    assert _requests(counter, lambda: store.copy_blob(container, "a.txt", container, "b.txt")) == 1
    assert _requests(counter, lambda: store.delete_blob(container, "b.txt")) == 1
    assert _requests(counter, lambda: store.create_blob(container, "a.txt", "x",
                                                        fail_if_exists=False)) == 1
    assert _requests(counter, lambda: store.does_container_exist(container)) == 1
    assert _requests(counter, lambda: store.get_container_metadata(container)) == 1
    assert _requests(counter, lambda: store.list_blobs(container)) == 1
    assert _requests(counter, lambda: store.list_blobs(container, recursive=False)) == 1


def test_appends_to_an_append_blob_take_one_request(
    counted: tuple[Any, RequestCounter], container: str
) -> None:
    store, counter = counted
    # The first append finds no blob (HEAD), creates an append blob and appends at 0: three
    # requests; each later one appends at the position the previous append ended: one.
    assert _requests(counter, lambda: store.append_blob(container, "log.txt", "1\n")) == 3
    for line in range(2, 5):
        assert _requests(counter, lambda n=line: store.append_blob(container, "log.txt",
                                                                    f"{n}\n")) == 1
    assert counter.methods == ["PUT comp=appendblock"]
    assert store.get_blob_text(container, "log.txt") == "1\n2\n3\n4\n"


def test_the_first_append_of_a_process_learns_the_position_with_a_head(
    make_store: Callable[..., Any], container: str
) -> None:
    make_store().append_blob(container, "log.txt", "1\n")
    counter = RequestCounter()
    store = make_store(**{"client-options": {"raw_request_hook": counter}})
    assert _requests(counter, lambda: store.append_blob(container, "log.txt", "2\n")) == 2
    assert counter.methods == ["HEAD", "PUT comp=appendblock"]
    assert _requests(counter, lambda: store.append_blob(container, "log.txt", "3\n")) == 1
    # Another writer moved the end: the stale position is refused, learned again, used.
    make_store().append_blob(container, "log.txt", "x\n")
    assert _requests(counter, lambda: store.append_blob(container, "log.txt", "4\n")) == 3
    assert counter.methods == ["PUT comp=appendblock", "HEAD", "PUT comp=appendblock"]
    assert store.get_blob_text(container, "log.txt") == "1\n2\n3\nx\n4\n"


def test_appends_to_a_block_blob_take_a_read_and_a_conditional_write(
    counted: tuple[Any, RequestCounter], make_store: Callable[..., Any], container: str
) -> None:
    store, counter = counted
    store.create_blob(container, "made.txt", "0\n")
    # The first append learns that the blob is a block blob (HEAD), then rewrites it; later
    # appends go straight to the read and the If-Match write.
    assert _requests(counter, lambda: store.append_blob(container, "made.txt", "1\n")) == 3
    assert _requests(counter, lambda: store.append_blob(container, "made.txt", "2\n")) == 2
    # Another process replaces it with an append blob: the stale memo costs no correctness.
    make_store().delete_blob(container, "made.txt")
    make_store().append_blob(container, "made.txt", "a\n")
    store.append_blob(container, "made.txt", "b\n")
    store.append_blob(container, "made.txt", "c\n")
    assert store.get_blob_text(container, "made.txt") == "a\nb\nc\n"
    assert _requests(counter, lambda: store.append_blob(container, "made.txt", "d\n")) == 1


def test_listing_takes_one_request_per_page(
    counted: tuple[Any, RequestCounter], container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, counter = counted
    for index in range(10):
        store.create_blob(container, f"d/{index:02}.txt", "x")
    monkeypatch.setattr(azure_blob, "PAGE_SIZE", 4)  # Azure's 5,000, scaled down
    assert _requests(counter, lambda: store.list_blobs(container)) == 3
    counter.reset()
    entries = store.iter_blobs(container, "d")
    assert counter.count == 1  # the first page by the call (so that it is retried)
    next(entries)
    assert counter.count == 1  # the others while iterating
    assert len(list(entries)) == 9
    assert counter.count == 3


def test_transfers_of_large_blobs_use_blocks_and_ranges(
    counted: tuple[Any, RequestCounter], container: str, tmp_path: Any
) -> None:
    store, counter = counted
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * 4096)  # 1 MiB = 8 blocks of 128 KiB
    assert _requests(counter, lambda: store.create_blob_from_path(
        container, "big.bin", str(source))) == 8 + 1  # Put Block each, then Put Block List
    assert counter.methods.count("PUT comp=block") == 8
    # One GET streaming the first max-streamed-get-size (256 KiB), then 6 ranges of 128 KiB.
    assert _requests(counter, lambda: store.get_blob_to_path(
        container, "big.bin", str(tmp_path / "out.bin"))) == 1 + 6
    assert (tmp_path / "out.bin").read_bytes() == source.read_bytes()


def test_unreachable_endpoint_is_transient_and_not_sent(make_store: Callable[..., Any]) -> None:
    counter = RequestCounter()
    store = make_store(
        account="http://127.0.0.1:9/devstoreaccount1", key="a2V5",
        retry={"attempts": 3, "base-delay": 0.01, "max-delay": 0.02},
        **{"client-options": {"raw_request_hook": counter}},
    )
    with pytest.raises(TransientError) as caught:
        store.append_blob("box", "log.txt", "x")
    assert caught.value.request_sent is False
    # The SDK's retry is off: each of xtstore's 3 attempts is exactly one request.
    assert counter.count == 3


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses(status: int) -> None:
    error = HttpResponseError(message="busy")
    error.status_code = status
    typed = translate(error, Scrubber(), about_blob=True)
    assert isinstance(typed, TransientError) and typed.request_sent


def test_transport_errors() -> None:
    not_sent = translate(ServiceRequestError("refused"), Scrubber(), about_blob=True)
    assert isinstance(not_sent, TransientError) and not not_sent.request_sent
    cut = translate(ServiceResponseError("reset"), Scrubber(), about_blob=True)
    assert isinstance(cut, TransientError) and cut.request_sent


@pytest.mark.parametrize(
    ("status", "code", "about_blob", "expected"),
    [
        (404, "ContainerNotFound", True, ContainerNotFound),
        (404, "BlobNotFound", True, BlobNotFound),
        (404, None, True, BlobNotFound),  # HEAD responses carry no body
        (404, None, False, ContainerNotFound),
        (409, "ContainerAlreadyExists", False, ContainerAlreadyExists),
        (409, "BlobAlreadyExists", True, BlobAlreadyExists),
        (403, "AuthorizationFailure", True, AccessDenied),
    ],
)
def test_status_and_code_mapping(
    status: int, code: str | None, about_blob: bool, expected: type
) -> None:
    error = HttpResponseError(message="x")
    error.status_code = status
    error.error_code = code
    assert type(translate(error, Scrubber(), about_blob=about_blob)) is expected


def test_container_being_deleted_may_be_repeated() -> None:
    error = HttpResponseError(message="x")
    error.status_code = 409
    error.error_code = "ContainerBeingDeleted"
    typed = translate(error, Scrubber(), about_blob=False)
    assert isinstance(typed, TransientError) and not typed.request_sent


def test_other_statuses_are_not_transient() -> None:
    error = HttpResponseError(message="bad")
    error.status_code = 412
    assert isinstance(translate(error, Scrubber(), about_blob=True), PreconditionFailed)
    error.status_code = 400
    typed = translate(error, Scrubber(), about_blob=True)
    assert isinstance(typed, StoreError) and not isinstance(typed, TransientError)


def test_a_download_up_to_max_streamed_get_size_is_one_get(
    make_store: Callable[..., Any], container: str, tmp_path: Any
) -> None:
    # Above the 256 KiB first GET and 128 KiB chunks the suite sets (the SDK's downloader
    # sent 1 + 6 here), an empty blob too (the SDK's ranged first GET met a 416 and sent
    # another), and a small one.
    counter = RequestCounter()
    store = make_store(**{"client-options": {"raw_request_hook": counter},
                          "max-streamed-get-size": 1024 * 1024})
    contents = {"big.bin": bytes(range(256)) * 4096, "empty.bin": b"", "small.bin": b"x" * 4096}
    for name, content in contents.items():
        store.create_blob(container, name, content)
    seen: list[tuple[int, int]] = []
    for name, content in contents.items():
        seen.clear()
        out = tmp_path / name
        assert _requests(counter, lambda n=name, o=out: store.get_blob_to_path(
            container, n, str(o), progress_callback=lambda c, t: seen.append((c, t)))) == 1
        assert counter.methods == ["GET"]
        assert out.read_bytes() == content
        assert seen[-1] == (len(content), len(content))
        assert _requests(counter, lambda n=name, c=content: store.get_blob_bytes(
            container, n) == c) == 1
