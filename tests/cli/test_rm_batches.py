"""``rm -r`` on S3 deletes through ``delete_blobs``: one DeleteObjects for up to 1,000 blobs
(at 7b3926e: a HeadObject, a ListObjectsV2 and a DeleteObject for each), its lines and
summary as before. Requests are counted by a logging proxy between the CLI and moto."""

from __future__ import annotations

import uuid

import xtstore
from tests.cli.cloud import write_cloud_config
from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok
from tests.servers.fault_proxy import FaultProxy
from tests.servers.s3_server import MotoServer


def test_rm_r_on_s3_sends_one_delete_objects(
    services: Services, xt: Runner, moto_server: MotoServer, moto_proxy: FaultProxy
) -> None:
    write_cloud_config(services, MotoServer(moto_proxy.url, moto_server.log_path))
    store = xtstore.get_storage("s3", config={"external-services": {
        "s3": moto_server.service_config()}})
    bucket = "xtrm-" + uuid.uuid4().hex[:12]
    store.create_container(bucket)
    try:
        names = [f"run/{index:02d}.txt" for index in range(25)]
        for name in names:
            store.create_blob(bucket, name, name)
        store.create_blob(bucket, "keep.txt", "k")
        moto_proxy.clear()
        result = xt("rm", "-r", f"s3:{bucket}/run")
        assert sorted(ok(result).splitlines()) == [f"s3:{bucket}/{name}" for name in names]
        assert "deleted: 25 deleted" in result.stderr.decode()
        assert store.list_blobs(bucket) == ["keep.txt"]
        assert len(moto_proxy.requests("POST", r"\?delete")) == 1, [
            e.target for e in moto_proxy.log]
        assert moto_proxy.requests("DELETE") == []
        assert moto_proxy.requests("HEAD", r"/run/") == []  # none per blob (resolving heads 'run')
    finally:
        store.delete_container(bucket)
