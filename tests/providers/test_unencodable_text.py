"""Text content with no UTF-8 form (a lone surrogate, as ``os.fsdecode`` makes of bytes it
cannot decode) is ``InvalidContent`` naming the service, container and blob, before any write,
on every built-in provider (a raw ``UnicodeEncodeError`` left ``to_bytes`` before)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import xtstore
from tests.servers.azurite import Azurite
from tests.servers.s3_server import MotoServer
from xtstore.errors import InvalidContent

UNENCODABLE = ["x\udcff", "\ud800", "ok then \udfff and more"]


def _local(tmp_path: Path, provider: str) -> Any:
    entry: dict[str, Any] = {"provider": provider}
    if provider == "store-file":
        entry["path"] = str(tmp_path / "store")
    if provider == "store-fsspec":
        entry["url"] = f"memory://unencodable-{uuid.uuid4().hex[:8]}"
    return xtstore.get_storage("svc", config={"external-services": {"svc": entry}})


@pytest.fixture(params=["store-file", "store-memory", "store-fsspec", "azure-blob", "store-s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A store of each provider and a fresh container holding ``kept.txt``."""
    provider = str(request.param)
    if provider == "azure-blob":
        azurite: Azurite = request.getfixturevalue("azurite")
        entry = {"provider": "azure-blob", "connection-string": azurite.connection_string}
        made = xtstore.get_storage("svc", config={"external-services": {"svc": entry}})
    elif provider == "store-s3":
        moto: MotoServer = request.getfixturevalue("moto_server")
        made = xtstore.get_storage("svc", config={"external-services": {
            "svc": moto.service_config(name="svc")}})
    else:
        made = _local(tmp_path, provider)
    container = f"ut-{uuid.uuid4().hex[:12]}"
    made.create_container(container)
    made.create_blob(container, "kept.txt", "before")
    yield made, container
    made.delete_container(container)


Write = Callable[[Any, str, str, str], None]
WRITES: dict[str, Write] = {
    "create_blob": lambda s, c, b, text: s.create_blob(c, b, text),
    "create_blob create-only": lambda s, c, b, text: s.create_blob(c, b, text,
                                                                   fail_if_exists=True),
    "append_blob": lambda s, c, b, text: s.append_blob(c, b, text),
    "append_blob rewrite": lambda s, c, b, text: s.append_blob(c, b, text,
                                                               append_with_rewrite=True),
}


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("blob", ["kept.txt", "new.txt"])
def test_text_without_a_utf8_form_is_invalid_content_before_any_write(
    store: tuple[Any, str], write: str, blob: str
) -> None:
    made, container = store
    for text in UNENCODABLE:
        with pytest.raises(InvalidContent) as raised:
            WRITES[write](made, container, blob, text)
        error = raised.value
        assert isinstance(error, ValueError)
        assert (error.service, error.container, error.blob) == ("svc", container, blob)
        assert str(error).startswith(f"service 'svc', container '{container}', blob '{blob}': "
                                     "the text cannot be stored as UTF-8: surrogates not"
                                     " allowed"), str(error)
        assert error.__cause__ is None and error.__suppress_context__
    # Nothing was written: the existing blob is unchanged and the new one never appeared.
    assert made.get_blob_text(container, "kept.txt") == "before"
    assert list(made.list_blobs(container)) == ["kept.txt"]
