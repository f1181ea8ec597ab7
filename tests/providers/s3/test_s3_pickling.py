"""store-s3 with its keys written inline in the config file: the pickled store holds neither
key, and a spawned worker reads the file again and uses the same bucket on moto_server."""

from __future__ import annotations

import multiprocessing
import pickle
import uuid
from pathlib import Path

import pytest
import yaml

import xtstore
from tests.servers.s3_server import MotoServer

SECRET_ACCESS_KEY = "inline-9d3e51c2-S3-SECRET-ACCESS-KEY"
SESSION_TOKEN = "inline-2b7f04aa-S3-SESSION-TOKEN"


def _use_in_worker(payload: bytes, container: str) -> tuple[str, str]:
    store = pickle.loads(payload)
    text = store.get_blob_text(container, "from-parent.txt")
    store.create_blob(container, "from-worker.txt", "written by the worker")
    return type(store.provider).__name__, text


@pytest.mark.timeout(180)
def test_store_s3_with_inline_keys_pickles_without_them_and_works_in_a_worker(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    service = moto_server.service_config(**{
        "access-key-id": "AKIAINLINEEXAMPLE", "secret-access-key": SECRET_ACCESS_KEY,
        "session-token": SESSION_TOKEN})
    config = tmp_path / "team.yaml"
    config.write_text(yaml.safe_dump({"external-services": {"s3inline": service}}))
    store = xtstore.get_storage("s3inline", str(config))
    container = f"pickled-{uuid.uuid4().hex[:12]}"
    store.create_container(container)
    store.create_blob(container, "from-parent.txt", "written by the parent")

    payload = pickle.dumps(store)
    for secret in (SECRET_ACCESS_KEY, SESSION_TOKEN):
        assert secret.encode() not in payload and repr(secret).encode() not in payload
        assert secret not in repr(store) + repr(store.origin)

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.apply_async(_use_in_worker, (payload, container)).get(120)
    assert result == ("S3Provider", "written by the parent")
    assert store.get_blob_text(container, "from-worker.txt") == "written by the worker"
    store.delete_container(container)
