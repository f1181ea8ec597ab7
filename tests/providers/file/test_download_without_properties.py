"""``Store.get_blob_to_path(..., properties=False)`` (docs/contract.md, "get_blob_to_path
returns"): the bytes arrive whole, None is returned, and store-file then reads neither the
blob's record nor its metadata and content-type attributes, only its content; every other
guarantee of the download (confinement, whole or nothing, the CRC-32 check, typed errors)
holds as with ``properties=True``. A provider whose ``get_blob_to_path`` has no such
parameter (an XT-style signature) is called exactly as before and keeps working.

At e238914 the keyword did not exist, and every CLI download from store-file read each
blob's record and attributes for properties it then threw away.

What is read is seen by a Python audit hook (``os.getxattr`` and ``open`` events) in a child
process, so that the hook, which cannot be removed, never outlives the test."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import xtstore
from xtstore.errors import AccessDenied, BlobNotFound, IntegrityError
from xtstore.interface import ProgressCallback
from xtstore.providers.file.store import FileProvider
from xtstore.store import Store
from xtstore.transfer import download_transfer
from xtstore.values import BlobProperties

NAMES = [f"run/{index}.json" for index in range(12)]
TAGS = {"mtime": "1764633600.123456789", "stage": "train"}


def _content(name: str) -> bytes:
    return (name.encode() + b"\n") * 300


def _store(root: Path, **keys: Any) -> Store:
    entry = {"type": "storage", "provider": "store-file", "path": str(root), **keys}
    store = xtstore.get_storage("local", config={"external-services": {"local": entry}})
    store.create_container("box")
    return store


def _fill(store: Store) -> None:
    """Blobs with a content type and metadata (attributes), one with a metadata record too,
    so that there is a record folder to look in."""
    for name in NAMES:
        store.create_blob("box", name, _content(name), metadata=TAGS)
    store.set_blob_metadata("box", NAMES[0], {"kept": "in the record"})


def test_the_bytes_arrive_and_none_is_returned(tmp_path: Path) -> None:
    store = _store(tmp_path / "root")
    _fill(store)
    seen: list[tuple[int, int]] = []
    for name in NAMES:
        dest = tmp_path / "out" / name
        got = store.get_blob_to_path("box", name, str(dest), progress_callback=lambda done,
                                     total: seen.append((done, total)), properties=False)
        assert got is None, name
        assert dest.read_bytes() == _content(name), name
        size = len(_content(name))
        assert seen[-1] == (size, size), name
    local = sorted(f"run/{path.name}" for path in (tmp_path / "out" / "run").iterdir())
    assert local == sorted(NAMES)  # and no temporary file left beside them
    # The control: the default still returns what the download read.
    described = store.get_blob_to_path("box", NAMES[1], str(tmp_path / "again"))
    assert isinstance(described, BlobProperties)
    assert described.metadata == TAGS
    assert described.content_type == "application/json"


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    store = _store(tmp_path / "root")
    _fill(store)
    dest = tmp_path / "dest.json"
    dest.write_bytes(b"old content, longer than nothing")
    assert store.get_blob_to_path("box", NAMES[2], str(dest), properties=False) is None
    assert dest.read_bytes() == _content(NAMES[2])


_WATCHED = r"""
import json, os, sys

root, mode, out = sys.argv[1:4]
watching = [False]
events = []


def hook(event, args):
    if not watching[0]:
        return
    if event in ("os.getxattr", "os.listxattr"):
        target = args[0]
        events.append([event, "fd" if isinstance(target, int) else "path",
                       args[1] if event == "os.getxattr" else ""])
    elif event == "open" and "/.xtstore/meta/" in str(args[0]):
        events.append([event, "path", os.path.basename(str(args[0]))])


sys.addaudithook(hook)

if mode == "cli":
    from xtstore.cli.main import main

    watching[0] = True
    code = main(["--config", os.path.join(root, "config.yaml"), "download", "box/run",
                 os.path.join(out, "cli")])
    watching[0] = False
    json.dump({"code": code, "events": events}, sys.stdout)
    sys.exit(0)

import xtstore

entry = {"type": "storage", "provider": "store-file", "path": os.path.join(root, "store")}
if mode == "crc32":
    entry["checksum"] = "crc32"
store = xtstore.get_storage("local", config={"external-services": {"local": entry}})
names = sorted(store.list_blobs("box"))
found = {}
for properties in (True, False):
    del events[:]
    watching[0] = True
    for name in names:
        store.get_blob_to_path("box", name, os.path.join(out, str(properties), name),
                               properties=properties)
    watching[0] = False
    found[str(properties)] = list(events)
json.dump({"names": len(names), "events": found}, sys.stdout)
"""


def _watched(root: Path, out: Path, mode: str) -> dict[str, Any]:
    """What the child process ``_WATCHED`` saw read in ``mode``."""
    source = os.path.dirname(os.path.dirname(xtstore.__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-c", _WATCHED, str(root), mode, str(out)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("checksum", ["none", "crc32"])
def test_the_record_and_attributes_are_not_read(tmp_path: Path, checksum: str) -> None:
    store = _store(tmp_path / "root" / "store", checksum=checksum)
    _fill(store)
    seen = _watched(tmp_path / "root", tmp_path / "out", "crc32" if checksum == "crc32"
                    else "plain")
    assert seen["names"] == len(NAMES)
    with_properties, without = seen["events"]["True"], seen["events"]["False"]
    # The control, which shows that the hook sees these reads: each download with its
    # properties reads the content-type and metadata attributes of its file, and looks for
    # its record.
    read = [name for event, kind, name in with_properties if event == "os.getxattr"]
    assert read.count("user.xtstore.content-type") == len(NAMES), with_properties
    assert read.count("user.xtstore.metadata") >= len(NAMES) - 1, with_properties
    assert sum(event == "open" for event, _, _ in with_properties) == len(NAMES)
    # Without: nothing of the record or attributes, only a checksum's CRC-32, once a file.
    expected = [["os.getxattr", "fd", "user.xtstore.crc32"]] * len(NAMES)
    assert without == (expected if checksum == "crc32" else []), without
    for name in NAMES:
        assert (tmp_path / "out" / "False" / name).read_bytes() == _content(name)


def test_the_cli_download_reads_no_attribute_of_an_open_blob(tmp_path: Path) -> None:
    """``xtstore download`` from store-file gets each file's time from the listing, so its
    downloads read no attribute of the files they copy (the listing reads the metadata
    attribute by path, once a blob)."""
    root = tmp_path / "root"
    store = _store(root / "store")
    for name in NAMES:
        store.create_blob("box", name, _content(name), metadata=TAGS)
    (root / "config.yaml").write_text(json.dumps({
        "external-services": {"local": {"type": "storage", "provider": "store-file",
                                        "path": str(root / "store")}},
        "xt-services": {"storage": "local"}}))
    seen = _watched(root, tmp_path / "out", "cli")
    assert seen["code"] == 0
    assert [event for event in seen["events"] if event[1] == "fd"] == [], seen["events"]
    for name in NAMES:
        local = tmp_path / "out" / "cli" / name.removeprefix("run/")
        assert local.read_bytes() == _content(name)
        assert local.stat().st_mtime_ns == 1764633600123456789  # the time from the listing


def test_a_damaged_blob_is_still_refused(tmp_path: Path) -> None:
    store = _store(tmp_path / "root", checksum="crc32")
    _fill(store)
    with open(tmp_path / "root" / "box" / NAMES[3], "r+b") as handle:
        handle.write(b"X")  # the first byte changed in place: its CRC-32 attribute stays
    dest = tmp_path / "dest.json"
    dest.write_bytes(b"kept")
    with pytest.raises(IntegrityError) as raised:
        store.get_blob_to_path("box", NAMES[3], str(dest), properties=False)
    error = raised.value
    assert (error.service, error.container, error.blob) == ("local", "box", NAMES[3])
    assert dest.read_bytes() == b"kept"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dest.json", "root"]


def test_confinement_and_typed_errors_hold(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = _store(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "box" / "escape").symlink_to(outside)
    (root / "box" / "secret-link").symlink_to(outside / "secret.txt")
    dest = tmp_path / "got.txt"
    for blob in ("escape/secret.txt", "secret-link"):
        with pytest.raises(AccessDenied) as denied:
            store.get_blob_to_path("box", blob, str(dest), properties=False)
        assert (denied.value.service, denied.value.container, denied.value.blob) == (
            "local", "box", blob)
    with pytest.raises(BlobNotFound) as missing:
        store.get_blob_to_path("box", "no/such.bin", str(dest), properties=False)
    assert (missing.value.service, missing.value.container, missing.value.blob) == (
        "local", "box", "no/such.bin")
    assert str(missing.value).startswith("service 'local', container 'box', blob 'no/such.bin'")
    assert not dest.exists()


# ---- providers whose get_blob_to_path has no such parameter ----


class _XtSignature(FileProvider):
    """store-file with ``get_blob_to_path`` overridden in XT's signature (no ``properties``):
    it logs the keywords it is given and returns the properties, as it always did."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.given: list[dict[str, Any]] = []

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,  # type: ignore[override]
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None
                         ) -> BlobProperties | None:
        self.given.append({"snapshot": snapshot, "progress": progress_callback is not None})
        return super().get_blob_to_path(container, blob_path, dest_fn, snapshot,
                                        progress_callback)


class _CatchAll(FileProvider):
    """``get_blob_to_path(..., **kwargs)`` that hands its keywords on to XT's signature: a
    ``**kwargs`` is not taken for a ``properties`` parameter."""

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,  # type: ignore[override]
                         snapshot: str | None = None, **kwargs: Any) -> BlobProperties | None:
        assert set(kwargs) <= {"progress_callback"}, kwargs
        return super().get_blob_to_path(container, blob_path, dest_fn, snapshot, **kwargs)


@pytest.mark.parametrize("provider_class", [_XtSignature, _CatchAll])
def test_a_provider_without_the_keyword_still_works(tmp_path: Path,
                                                    provider_class: type[FileProvider]) -> None:
    provider = provider_class({"name": "disk", "path": str(tmp_path / "root")})
    store = Store(provider, "disk")
    store.create_container("box")
    _fill(store)
    seen: list[tuple[int, int]] = []
    for name in NAMES:
        dest = tmp_path / "out" / name
        assert store.get_blob_to_path("box", name, str(dest), properties=False,
                                      progress_callback=lambda done, total:
                                      seen.append((done, total))) is None
        assert dest.read_bytes() == _content(name)
        size = len(_content(name))
        assert seen[-1] == (size, size)
    if isinstance(provider, _XtSignature):
        assert provider.given == [{"snapshot": None, "progress": True}] * len(NAMES)
    # And the default still hands back what the provider returns.
    described = store.get_blob_to_path("box", NAMES[1], str(tmp_path / "again"))
    assert described is not None and described.metadata == TAGS
    with pytest.raises(BlobNotFound) as missing:
        store.get_blob_to_path("box", "no/such.bin", str(tmp_path / "x"), properties=False)
    assert (missing.value.service, missing.value.container) == ("disk", "box")


def test_the_signature_is_looked_up_once_per_provider_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Fresh(FileProvider):
        """A class no earlier download has seen."""

    looked_up: list[object] = []
    real = inspect.signature

    def counted(target: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(target)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(inspect, "signature", counted)
    store = Store(Fresh({"name": "disk", "path": str(tmp_path / "root")}), "disk")
    store.create_container("box")
    store.create_blob("box", "a.txt", b"a")
    looked_up.clear()
    for number in range(5):
        store.get_blob_to_path("box", "a.txt", str(tmp_path / f"{number}.txt"),
                               properties=False)
    assert looked_up == [Fresh.get_blob_to_path]


class _Recording(FileProvider):
    """store-file that logs the ``properties`` each download is given."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.asked: list[bool] = []

    def get_blob_to_path(self, container: str, blob_path: str, dest_fn: str,
                         snapshot: str | None = None,
                         progress_callback: ProgressCallback | None = None, *,
                         properties: bool = True) -> BlobProperties | None:
        self.asked.append(properties)
        return super().get_blob_to_path(container, blob_path, dest_fn, snapshot,
                                        progress_callback, properties=properties)


def test_the_download_transfer_asks_for_no_properties_it_does_not_use(tmp_path: Path) -> None:
    provider = _Recording({"name": "disk", "path": str(tmp_path / "root")})
    store = Store(provider, "disk")
    store.create_container("box")
    _fill(store)
    dest = tmp_path / "plain.json"
    download_transfer(store, "box", NAMES[1], str(dest), 0,
                      mtime_ns=1_000_000_000).action(lambda done, total: None)
    assert dest.read_bytes() == _content(NAMES[1])
    assert dest.stat().st_mtime_ns == 1_000_000_000
    assert provider.asked == [False]
    # Where the time comes from the download, its properties are asked for.
    timed = tmp_path / "timed.json"
    download_transfer(store, "box", NAMES[1], str(timed), 0,
                      read_mtime=True).action(lambda done, total: None)
    assert provider.asked == [False, True]
    assert timed.stat().st_mtime_ns == 1764633600123456789
