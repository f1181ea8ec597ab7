"""store-s3's public class used bare, as XT builds it from the service dict (moto server)."""

from __future__ import annotations

from tests.providers.bare_contract import check_bare_store, check_builds_one_stack
from tests.servers.s3_server import MotoServer
from xtstore.providers.s3.store import S3Provider, S3Store


def test_bare_s3_store_keeps_the_contract(moto_server: MotoServer) -> None:
    check_bare_store(S3Store(moto_server.service_config(name="s3-bare")), "s3-bare")


def test_bare_s3_store_is_one_store_around_its_provider(moto_server: MotoServer) -> None:
    check_builds_one_stack(S3Store, moto_server.service_config(name="s3-bare"), S3Provider)
