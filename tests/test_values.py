"""The value types: ``.metadata`` is a plain dict (``json.dumps`` takes it, XT code may change
it), a fresh copy each time, so the values themselves stay immutable."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone
from pathlib import Path

import pytest

import xtstore
from xtstore.store import Store
from xtstore.values import BlobInfo, BlobProperties, ContainerInfo

MOMENT = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_blob_properties_metadata_is_a_fresh_plain_dict() -> None:
    props = BlobProperties(3, MOMENT, 0, '"e"', metadata={"owner": "ann"})
    got = props.metadata
    assert type(got) is dict
    assert json.dumps(got) == '{"owner": "ann"}'
    got["owner"] = "bob"
    got["extra"] = "x"
    assert props.metadata == {"owner": "ann"}
    assert props.metadata is not props.metadata


def test_the_constructors_copy_what_they_are_given() -> None:
    given = {"k": "v"}
    props = BlobProperties.from_ns(1, 5, '"e"', metadata=given)
    container = ContainerInfo("runs", MOMENT, metadata=given)
    given["k"] = "changed"
    assert props.metadata == {"k": "v"}
    assert container.metadata == {"k": "v"}


def test_container_and_blob_info_metadata_are_plain_dicts() -> None:
    container = ContainerInfo("runs", MOMENT, {"team": "ml"})
    assert type(container.metadata) is dict
    assert json.dumps(container.metadata) == '{"team": "ml"}'
    container.metadata["team"] = "other"
    assert container.metadata == {"team": "ml"}
    info = BlobInfo("a.txt", properties=BlobProperties.from_datetime(1, MOMENT, '"e"',
                                                                    metadata={"a": "1"}))
    assert type(info.metadata) is dict and info.metadata == {"a": "1"}
    folder = BlobInfo("a/", is_dir=True)
    assert type(folder.metadata) is dict and folder.metadata == {}


def test_values_compare_hash_and_pickle_with_their_metadata() -> None:
    one = BlobProperties(1, MOMENT, 0, '"e"', metadata={"a": "1", "b": "2"})
    same = BlobProperties(1, MOMENT, 0, '"e"', metadata={"b": "2", "a": "1"})
    other = BlobProperties(1, MOMENT, 0, '"e"', metadata={"a": "1"})
    assert one == same and hash(one) == hash(same)
    assert one != other
    assert pickle.loads(pickle.dumps(one)) == one
    container = ContainerInfo("runs", MOMENT, {"x": "y"})
    assert pickle.loads(pickle.dumps(container)).metadata == {"x": "y"}
    # Frozen (CPython 3.11's slotted frozen dataclasses raise TypeError for a property).
    with pytest.raises((AttributeError, TypeError)):
        one.metadata = {}  # type: ignore[misc]


@pytest.mark.parametrize("provider", ["store-file", "store-memory"])
def test_stores_return_plain_dict_metadata(tmp_path: Path, provider: str) -> None:
    # Only store-file takes a path: an unknown key on a built-in provider is a ConfigError.
    where = {"path": str(tmp_path)} if provider == "store-file" else {}
    config = {"external-services": {"s": {"type": "storage", "provider": provider, **where}}}
    store: Store = xtstore.get_storage("s", config=config)
    store.create_container("runs")
    store.create_blob("runs", "a.txt", "x")
    store.set_blob_metadata("runs", "a.txt", {"owner": "ann"})
    store.set_container_metadata("runs", {"team": "ml"})
    props = store.get_blob_properties("runs", "a.txt")
    assert json.dumps(props.metadata) == '{"owner": "ann"}'
    assert isinstance(props.properties.metadata if props.properties else None, dict)
    props.metadata["owner"] = "bob"
    assert props.metadata == {"owner": "ann"}
    container = store.get_container_properties("runs")
    assert json.dumps(container.metadata) == '{"team": "ml"}'
    listed = store.list_blobs("runs", return_names=False)
    assert [type(entry.metadata) for entry in listed] == [dict]  # type: ignore[union-attr]
