"""Safe repeats of the azure-blob provider's non-idempotent calls (xtstore.attempts) in the
paths the fault matrix does not reach: rewrite-appends, blobs committed from blocks, deletes
with snapshots, another writer between a lost attempt and its repeat, and giving up. Azurite
behind the fault proxy; each test injects a fault or two on one named request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import ServiceResponseError

import xtstore
from tests.servers.azurite import Azurite
from tests.servers.fault_proxy import Fault, FaultProxy, running_proxy
from xtstore.attempts import begin_call, end_call
from xtstore.errors import BlobAlreadyExists, TransientError

READ_TIMEOUT = 0.5


@pytest.fixture
def proxy(azurite: Azurite) -> Iterator[FaultProxy]:
    with running_proxy(f"http://127.0.0.1:{azurite.port}", hold_limit=5.0,
                       lifetime=120.0) as running:
        yield running


def _store(azurite: Azurite, endpoint: str, attempts: int = 4) -> Any:
    entry = {
        "type": "storage", "provider": "azure-blob", "timeout": READ_TIMEOUT,
        "connection-string": azurite.connection_string.replace(azurite.endpoint, endpoint),
        "retry": {"attempts": attempts, "base-delay": 0.01, "max-delay": 0.05,
                  "total-timeout": 10},
        "max-single-put-size": 64 * 1024, "max-block-size": 32 * 1024,
    }
    return xtstore.get_storage("safe", config={"external-services": {"safe": entry}})


@pytest.fixture
def stores(azurite: Azurite, proxy: FaultProxy) -> Iterator[tuple[Any, Any, str]]:
    """(through the proxy, direct, a fresh container)."""
    direct = _store(azurite, azurite.endpoint)
    container = f"sr-{uuid.uuid4().hex[:12]}"
    direct.create_container(container)
    yield _store(azurite, proxy.endpoint(azurite.endpoint)), direct, container
    direct.delete_container(container)


def _fired(proxy: FaultProxy, fault: Fault) -> int:
    return sum(entry.fault == fault.kind for entry in proxy.log)


@pytest.mark.parametrize("rewrite", [False, True], ids=["block-blob", "append_with_rewrite"])
def test_a_rewrite_append_whose_response_is_lost_is_applied_once(
    stores: tuple[Any, Any, str], proxy: FaultProxy, rewrite: bool
) -> None:
    store, direct, container = stores
    direct.create_blob(container, "made.txt", "head\n")  # a block blob: rewritten
    fault = Fault.reset_after()
    # The If-Match write of the whole new content (Put Blob) is applied, its answer lost.
    proxy.inject(fault, method="PUT", path=r"made\.txt$")
    store.append_blob(container, "made.txt", "tail\n", append_with_rewrite=rewrite)
    assert _fired(proxy, fault) == 1
    assert direct.get_blob_text(container, "made.txt") == "head\ntail\n"


def test_a_rewrite_append_creating_the_blob_is_applied_once(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, direct, container = stores
    fault = Fault.reset_after()
    proxy.inject(fault, method="PUT", path=r"new\.txt$")  # the If-None-Match: * write
    store.append_blob(container, "new.txt", "only\n", append_with_rewrite=True)
    assert _fired(proxy, fault) == 1
    assert direct.get_blob_text(container, "new.txt") == "only\n"


@pytest.mark.parametrize("fault", [Fault.reset_after(), Fault.error_status(503),
                                   Fault.truncate()], ids=["reset-after", "503", "truncate"])
@pytest.mark.parametrize("existing", [True, False], ids=["existing", "new-blob"])
def test_one_fault_on_the_append_block_itself_ends_in_one_append(
    stores: tuple[Any, Any, str], proxy: FaultProxy, fault: Fault, existing: bool
) -> None:
    # The fault matrix's first request of an append is its HEAD; this is the Append Block.
    store, direct, container = stores
    if existing:
        direct.append_blob(container, "log.txt", "1\n")
    proxy.inject(fault, method="PUT", path="comp=appendblock")
    store.append_blob(container, "log.txt", "2\n")
    assert _fired(proxy, fault) == 1
    assert direct.get_blob_text(container, "log.txt") == ("1\n2\n" if existing else "2\n")


def test_a_lost_append_found_under_another_writers_append_is_not_repeated(
    azurite: Azurite, stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    _, direct, container = stores
    direct.append_blob(container, "log.txt", "1\n")
    provider = _store(azurite, proxy.endpoint(azurite.endpoint)).provider
    fault = Fault.reset_after()
    proxy.inject(fault, method="PUT", path="comp=appendblock")
    attempt, token = begin_call()  # what the Store does around the call and its repeats
    try:
        with pytest.raises(ServiceResponseError):
            provider.append_blob(container, "log.txt", "2\n")  # applied, answer lost
        assert attempt.repeat_safe
        direct.append_blob(container, "log.txt", "x\n")  # another writer, before the repeat
        provider.append_blob(container, "log.txt", "2\n")  # the retry layer's repeat
    finally:
        end_call(token)
    assert _fired(proxy, fault) == 1
    assert direct.get_blob_text(container, "log.txt") == "1\n2\nx\n"


def test_an_append_to_a_missing_blob_that_gives_up_leaves_no_empty_blob(
    azurite: Azurite, stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    _, direct, container = stores
    store = _store(azurite, proxy.endpoint(azurite.endpoint), attempts=2)
    fault = Fault.error_status(503)
    proxy.inject(fault, method="PUT", path="comp=appendblock", times=None)  # every one
    with pytest.raises(TransientError):
        store.append_blob(container, "log.txt", "1\n")
    assert _fired(proxy, fault) == 2
    proxy.clear()
    assert not direct.does_blob_exist(container, "log.txt")  # the old state
    store.append_blob(container, "log.txt", "1\n")
    assert direct.get_blob_text(container, "log.txt") == "1\n"


def test_a_create_only_write_from_blocks_whose_commit_answer_is_lost_succeeds(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, direct, container = stores
    data = bytes(range(256)) * 512  # 128 KiB: four blocks and a commit, no Content-MD5
    fault = Fault.reset_after()
    proxy.inject(fault, method="PUT", path="comp=blocklist")
    store.create_blob(container, "big.bin", data, fail_if_exists=True)
    assert _fired(proxy, fault) == 1
    assert direct.get_blob_bytes(container, "big.bin") == data


def test_a_create_only_write_repeated_onto_another_writers_blob_is_refused(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, direct, container = stores
    direct.create_blob(container, "taken.txt", "theirs")
    fault = Fault.error_status(500)  # may have been applied, as far as the client knows
    proxy.inject(fault, method="PUT", path=r"taken\.txt$")
    with pytest.raises(BlobAlreadyExists):
        store.create_blob(container, "taken.txt", "mine!!", fail_if_exists=True)
    assert _fired(proxy, fault) == 1
    assert direct.get_blob_text(container, "taken.txt") == "theirs"


def test_a_delete_of_a_blob_with_snapshots_whose_answer_is_lost_succeeds(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, direct, container = stores
    direct.create_blob(container, "snapped.txt", "v1")
    direct.snapshot_blob(container, "snapped.txt")
    direct.snapshot_blob(container, "snapped.txt")
    fault = Fault.reset_after()
    proxy.inject(fault, method="DELETE")
    store.delete_blob(container, "snapped.txt")
    assert _fired(proxy, fault) == 1
    assert not direct.does_blob_exist(container, "snapped.txt")
    assert direct.list_snapshots(container, "snapped.txt") == []


def test_a_snapshot_whose_answer_is_lost_is_returned_not_taken_again(
    stores: tuple[Any, Any, str], proxy: FaultProxy
) -> None:
    store, direct, container = stores
    direct.create_blob(container, "s.txt", "v1")
    earlier = direct.snapshot_blob(container, "s.txt")
    fault = Fault.reset_after()
    proxy.inject(fault, method="PUT", path="comp=snapshot")
    made = store.snapshot_blob(container, "s.txt")
    assert _fired(proxy, fault) == 1
    assert [s.snapshot for s in direct.list_snapshots(container, "s.txt")] == \
        [earlier.snapshot, made.snapshot]
    assert direct.get_blob_text(container, "s.txt") == "v1"
