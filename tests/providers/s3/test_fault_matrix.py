"""The fault matrix on S3 (moto behind the fault proxy): see tests/providers/fault_matrix.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.providers.fault_matrix import (
    READ_TIMEOUT,
    Known,
    run_matrix,
    run_unsafe_matrix,
)
from tests.servers.fault_proxy import FaultProxy, running_proxy
from tests.servers.s3_server import MotoServer

# A response cut inside its head (HEAD requests: the truncate fault) used to reach the S3
# store's code without the headers it reads (issue 2.3's "KeyError: 'ContentLength'"); it is
# a TransientError now, retried where the call is idempotent. No raw exception is known.
KNOWN_RAW: Known = {}
# Every fault is absorbed, also on the requests made after the call returned: iter_blobs'
# later pages (xtstore/paging.py) and open_blob's reads (providers/_blob_reader.py).
KNOWN_NOT_ABSORBED: Known = {}


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    with running_proxy(moto_server.endpoint_url, hold_limit=10.0, lifetime=600.0) as running:
        yield running


def _store(moto_server: MotoServer, endpoint: str) -> Any:
    entry = moto_server.service_config(**{
        "endpoint-url": endpoint, "connect-timeout": READ_TIMEOUT, "read-timeout": READ_TIMEOUT,
        "retry": {"attempts": 4, "base-delay": 0.02, "max-delay": 0.1, "total-timeout": 15}})
    return xtstore.get_storage("matrix", config={"external-services": {"matrix": entry}})


def test_every_idempotent_call_under_every_fault(
    moto_server: MotoServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    problems = run_matrix("S3", _store(moto_server, proxy.url),
                          _store(moto_server, moto_server.endpoint_url), proxy, tmp_path,
                          known_raw=KNOWN_RAW, known_not_absorbed=KNOWN_NOT_ABSORBED)
    assert not problems, "\n".join(problems)


# (call, fault) -> the cell still seen where the state or the error is wrong (see the table in
# docs/reliability.md); nothing else may be.
KNOWN_UNSAFE: Known = {}
# Every non-idempotent call of store-s3 is safe to repeat (docs/reliability.md, "S3: safe
# repeats"): one transient fault on any of them must end in success.
MADE_SAFE = frozenset({
    "create_blob(fail_if_exists)", "create_blob_from_stream", "append_blob (new blob)",
    "append_blob (existing)", "delete_blob", "snapshot_blob", "create_container",
    "delete_container",
})


def test_every_non_idempotent_call_under_every_fault_leaves_the_old_or_the_new_state(
    moto_server: MotoServer, proxy: FaultProxy
) -> None:
    problems = run_unsafe_matrix("S3", _store(moto_server, proxy.url),
                                 _store(moto_server, moto_server.endpoint_url), proxy,
                                 known=KNOWN_UNSAFE, made_safe=MADE_SAFE)
    assert not problems, "\n".join(problems)
