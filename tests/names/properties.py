"""Property-based checks of docs/contract.md §1 "Names", shared by every provider's tests.

Three properties, each run by hypothesis on a real store:

* :func:`check_valid_names`: a valid name, and every look-alike of it (other Unicode
  normalisation forms, other case, trailing dots and spaces added or removed, a leading ``/``),
  is written, read, listed (exactly, also through a ``*`` prefix and a one-level listing) and
  deleted as itself; two different names never meet in one blob. A provider that cannot hold
  a name (store-file: a segment longer than the file system allows) refuses it with a typed
  error and holds nothing under it.
* :func:`check_invalid_names`: every name argument of every method, given an invalid container
  name, blob path or list path (``../*`` and its relatives included), raises ``InvalidName``
  and the provider behind the Store is never called.
* the caller compares what lies outside the container (other containers, the file system
  around a store's root) before and after; :func:`tree_outside` does it for a folder.

The number of examples is ``XTSTORE_NAME_EXAMPLES`` (local providers) and
``XTSTORE_CLOUD_NAME_EXAMPLES`` (Azurite, moto); see docs/reliability.md, "Names".
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xtstore.errors import BlobAlreadyExists, InvalidName
from xtstore.names import MAX_BLOB_PATH_BYTES, normalize_blob_path, parse_list_path
from xtstore.store import Store

CI_LOCAL_EXAMPLES = 150
CI_CLOUD_EXAMPLES = 25


def example_count(variable: str, ci_size: int) -> int:
    """The number of examples: ``$variable`` if set (the full-size run), else the CI size."""
    value = os.environ.get(variable)
    return int(value) if value else ci_size


def property_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# ---- names ----

# Characters that stores, URLs, XML, file systems and Unicode treat specially, drawn often;
# the rest of Unicode (no surrogates, no control characters, no '/' or '\\') drawn too.
TRICKY = (
    ".", " ", "-", "_", "~", "*", "?", "#", "%", "%2F", "%2e", "+", "&", "&amp;", "=", ";", ":",
    "@", "!", "$", "'", '"', "<", ">", "[", "]", "{", "}", "|", "^", "`", ",",
    "é", "e\u0301", "ß", "ẞ", "İ", "\u0131", "Å", "\u212b", "\u00c5", "ﬁ", "ǅ", "Σ", "ς",
    "\u0085", "\u009f", "\u00a0", "\u200b", "\u200d", "\u2028", "\ufeff", "\ufffd", "\ufffc",
    "\U0001d11e", "\U0001f600", "\U0010fffd", "日本", "\u0627\u0644",
)
_EXCLUDED = "/\\" + "".join(chr(c) for c in range(0x20)) + "\x7f\ufffe\uffff"
_ANY_CHARACTER = st.characters(exclude_categories=["Cs"], exclude_characters=_EXCLUDED)
_PIECE = st.one_of(st.sampled_from(TRICKY), st.text(_ANY_CHARACTER, min_size=1, max_size=6))

# Each example's names live under a folder of their own (``e<n>/``): a file store cannot hold
# a blob and a folder of one name, and two examples must not meet.
_FOLDER_ROOM = 16
_MAX_NAME_BYTES = MAX_BLOB_PATH_BYTES - _FOLDER_ROOM


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


@st.composite
def segments(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 15)) == 0:
        # Very long: around the 255-byte limit of one file name, and beyond it.
        unit = draw(st.sampled_from(["a", "é", "日", "\U0001f600", "ab."]))
        size = draw(st.integers(200, 700))
        return (unit * size).encode("utf-8")[:size].decode("utf-8", "ignore") or "a"
    segment = "".join(draw(st.lists(_PIECE, min_size=1, max_size=6)))
    return segment if segment not in (".", "..") else segment + "x"


@st.composite
def valid_names(draw: st.DrawFn) -> str:
    parts = draw(st.lists(segments(), min_size=1, max_size=4))
    name = "/".join(parts)
    while _utf8_size(name) > _MAX_NAME_BYTES and len(parts) > 1:
        parts.pop()
        name = "/".join(parts)
    if _utf8_size(name) > _MAX_NAME_BYTES:
        name = name.encode("utf-8")[:_MAX_NAME_BYTES].decode("utf-8", "ignore")
    normalize_blob_path(name)  # the strategy's own promise
    return name


def _each_segment(name: str, change: Callable[[str], str]) -> str:
    return "/".join(change(segment) for segment in name.split("/"))


LOOK_ALIKES: tuple[Callable[[str], str], ...] = (
    lambda n: unicodedata.normalize("NFC", n),
    lambda n: unicodedata.normalize("NFD", n),
    lambda n: unicodedata.normalize("NFKC", n),
    lambda n: unicodedata.normalize("NFKD", n),
    str.lower,
    str.upper,
    str.casefold,
    lambda n: _each_segment(n, lambda s: s.rstrip(". ")),
    lambda n: _each_segment(n, lambda s: s + "."),
    lambda n: _each_segment(n, lambda s: s + " "),
    lambda n: n + ".",
    lambda n: n + " ",
    lambda n: n.strip(),
)


def look_alikes(name: str) -> list[str]:
    """``name`` and its valid look-alikes, each once, ``name`` first."""
    found = [name]
    for change in LOOK_ALIKES:
        other = change(name)
        if other in found or _utf8_size(other) > _MAX_NAME_BYTES:
            continue
        try:
            if normalize_blob_path(other) == other:
                found.append(other)
        except InvalidName:
            pass
    return found


@st.composite
def invalid_blob_paths(draw: st.DrawFn) -> object:
    """A blob path that breaks exactly the rules at random places of an otherwise valid name."""
    kind = draw(st.sampled_from(
        ["control", "backslash", "dot", "dotdot", "empty", "trailing", "long", "type", "bare",
         "surrogate"]
    ))
    name = draw(valid_names())
    parts = name.split("/")
    where = draw(st.integers(0, len(parts)))
    if kind == "control":
        bad = chr(draw(st.sampled_from([*range(0x20), 0x7F, 0xFFFE, 0xFFFF])))
        segment = parts[min(where, len(parts) - 1)]
        cut = draw(st.integers(0, len(segment)))
        parts[min(where, len(parts) - 1)] = segment[:cut] + bad + segment[cut:]
    elif kind == "backslash":
        parts[min(where, len(parts) - 1)] += "\\"
    elif kind == "surrogate":
        parts[min(where, len(parts) - 1)] += chr(draw(st.integers(0xD800, 0xDFFF)))
    elif kind in ("dot", "dotdot", "empty"):
        parts.insert(where, {"dot": ".", "dotdot": "..", "empty": ""}[kind])
        if kind == "empty" and where == 0:
            parts.insert(0, "x")  # a leading '/' is dropped, not empty
    elif kind == "trailing":
        parts.append("")
    elif kind == "long":
        parts.append("x" * (MAX_BLOB_PATH_BYTES + 1 - _utf8_size(name)))
    elif kind == "type":
        return draw(st.sampled_from([None, 7, b"a/b", ["a"], Path("a")]))
    else:
        return draw(st.sampled_from(["", "/", "//"]))
    return "/".join(parts)


@st.composite
def escaping_list_paths(draw: st.DrawFn) -> str:
    """A list path that tries to leave its folder or container: a ``.``/``..``/empty segment
    anywhere before the last ``/``, or a character no name may hold."""
    head = draw(st.lists(segments(), max_size=2))
    bad = draw(st.sampled_from(["..", ".", ""]))
    tail = draw(st.lists(segments(), max_size=2))
    lead = draw(st.sampled_from(["", "/", "//"]))
    end = draw(st.sampled_from(["/*", "/", "/x*", "/..*", "/.*"]))
    if bad == "" and not head:
        head = ["x"]  # leading slashes are dropped, not an empty segment
    path = lead + "/".join([*head, bad, *tail]) + end
    if draw(st.booleans()):
        bad_character = draw(st.sampled_from(["\x00", "\x01", "\t", "\x1f", "\x7f", "\\"]))
        path = path[:-1] + bad_character + "*"
    return path


BAD_CONTAINERS = st.one_of(
    st.sampled_from(["..", ".", "", "../other", "a/b", "ab", ".xtstore", "UPPER", "x" * 64,
                     "a--b", "-ab", "has space", "runs/..", "runs\x00", None, 3]),
    st.text(max_size=70).filter(lambda s: not _is_container_name(s)),
)


def _is_container_name(text: str) -> bool:
    from xtstore.names import validate_container_name

    try:
        validate_container_name(text)
    except InvalidName:
        return False
    return True


# ---- the properties ----

def check_valid_names(store: Store, container: str, examples: int) -> int:
    """Run the valid-name property on ``container`` (left empty afterwards); returns the number
    of names written."""
    numbers = itertools.count()
    written = [0]

    @property_settings(examples)
    @given(name=valid_names(), leading_slash=st.booleans(), cut=st.integers(0, 1024))
    def valid_name_round_trips(name: str, leading_slash: bool, cut: int) -> None:
        folder = f"e{next(numbers)}/"
        names = [folder + alike for alike in look_alikes(name)]
        kept: dict[str, str] = {}
        for index, full in enumerate(names):
            content = f"{index}:{full}"
            given_as = "/" + full if leading_slash else full
            try:
                store.create_blob(container, given_as, content)
            except (InvalidName, BlobAlreadyExists) as refusal:
                # A provider may refuse a name it cannot hold apart, typed and named.
                assert refusal.container == container, refusal
                _holds_nothing(store, container, full)
                continue
            kept[full] = content
        written[0] += len(kept)
        for full, content in kept.items():
            assert store.get_blob_text(container, full) == content, (full, "collided")
        expected = sorted(kept)
        assert store.list_blobs(container, folder + "*") == expected
        assert store.list_blobs(container, folder) == expected
        assert _names(store.iter_blobs(container, folder + "*")) == expected
        for full in kept:
            prefix = full[: len(folder) + cut % (len(full) - len(folder) + 1)]
            if "*" in prefix:
                # A list path holds one '*', at its end: such a prefix cannot be asked for.
                with pytest.raises(InvalidName):
                    store.list_blobs(container, prefix + "*")
                continue
            assert store.list_blobs(container, prefix + "*") == sorted(
                n for n in kept if n.startswith(prefix)), prefix
        assert store.list_blobs(container, folder, recursive=False) == _one_level(kept, folder)
        for full in kept:
            store.delete_blob(container, full)
        for full in kept:
            assert not store.does_blob_exist(container, full), full
        assert store.list_blobs(container, folder + "*") == []

    valid_name_round_trips()
    # Seen with pytest -s: what a full-size run did (docs/reliability.md, "Names").
    print(f"\nvalid-name property on {store.service_name}: {next(numbers)} examples, "
          f"{written[0]} names written")
    return written[0]


def _holds_nothing(store: Store, container: str, name: str) -> None:
    try:
        exists = store.does_blob_exist(container, name)
    except InvalidName:
        return  # refused again, as the write was
    assert not exists, name


def _names(entries: Iterator[Any]) -> list[str]:
    return [entry.name for entry in entries]


def _one_level(names: dict[str, str], folder: str) -> list[str]:
    entries = set()
    for name in names:
        rest = name[len(folder):]
        entries.add(folder + rest.split("/")[0] + "/" if "/" in rest else name)
    return sorted(entries)


class RecordingProvider:
    """Stands in for a provider behind a Store and records every call made to it (then makes
    it on the real provider): an invalid name must never get this far."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def capabilities(self) -> Any:
        return self.inner.capabilities()

    def get_service_name(self) -> str:
        return str(self.inner.get_service_name())

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return recorded


def blob_calls(store: Store, container: str, blob: Any, source: str, dest: str) -> list[
        tuple[str, Callable[[], object]]]:
    """Every method call that takes ``blob`` as a blob path."""
    return [
        ("does_blob_exist", lambda: store.does_blob_exist(container, blob)),
        ("create_blob", lambda: store.create_blob(container, blob, "x")),
        ("create_blob fail_if_exists",
         lambda: store.create_blob(container, blob, "x", fail_if_exists=True)),
        ("create_blob_from_path", lambda: store.create_blob_from_path(container, blob, source)),
        ("create_blob_from_stream",
         lambda: store.create_blob_from_stream(container, blob, io.BytesIO(b"x"))),
        ("append_blob", lambda: store.append_blob(container, blob, "x")),
        ("append_blob rewrite",
         lambda: store.append_blob(container, blob, "x", append_with_rewrite=True)),
        ("delete_blob", lambda: store.delete_blob(container, blob)),
        ("get_blob_text", lambda: store.get_blob_text(container, blob)),
        ("get_blob_bytes", lambda: store.get_blob_bytes(container, blob)),
        ("open_blob", lambda: store.open_blob(container, blob)),
        ("get_blob_to_path", lambda: store.get_blob_to_path(container, blob, dest)),
        ("get_blob_properties", lambda: store.get_blob_properties(container, blob)),
        ("get_blob_metadata", lambda: store.get_blob_metadata(container, blob)),
        ("set_blob_metadata", lambda: store.set_blob_metadata(container, blob, {"k": "v"})),
        ("copy_blob from", lambda: store.copy_blob(container, blob, container, "copy")),
        ("copy_blob to", lambda: store.copy_blob(container, "source", container, blob)),
        ("snapshot_blob", lambda: store.snapshot_blob(container, blob)),
        ("list_snapshots", lambda: store.list_snapshots(container, blob)),
    ]


def container_calls(store: Store, container: Any, source: str, dest: str) -> list[
        tuple[str, Callable[[], object]]]:
    """Every method call that takes ``container`` as a container name."""
    calls = [
        ("does_container_exist", lambda: store.does_container_exist(container)),
        ("create_container", lambda: store.create_container(container)),
        ("delete_container", lambda: store.delete_container(container)),
        ("get_container_properties", lambda: store.get_container_properties(container)),
        ("get_container_metadata", lambda: store.get_container_metadata(container)),
        ("set_container_metadata",
         lambda: store.set_container_metadata(container, {"k": "v"})),
        ("list_blobs", lambda: store.list_blobs(container)),
        ("iter_blobs", lambda: list(store.iter_blobs(container))),
        ("copy_blob into", lambda: store.copy_blob("runs", "source", container, "copy")),
    ]
    return calls + blob_calls(store, container, "a.txt", source, dest)


def list_calls(store: Store, container: str, path: str) -> list[
        tuple[str, Callable[[], object]]]:
    return [
        ("list_blobs", lambda: store.list_blobs(container, path)),
        ("list_blobs one level", lambda: store.list_blobs(container, path, recursive=False)),
        ("list_blobs infos", lambda: store.list_blobs(container, path, return_names=False)),
        ("iter_blobs", lambda: list(store.iter_blobs(container, path))),
    ]


def check_invalid_names(store: Store, container: str, tmp: Path, examples: int) -> int:
    """Run the invalid-name property against ``store``'s provider, recorded; returns the number
    of calls checked. ``container`` exists and holds ``source``."""
    recorder = RecordingProvider(store.provider)
    recorded = Store(recorder, store.service_name)  # type: ignore[arg-type]
    source = str(tmp / "source.bin")
    Path(source).write_bytes(b"source")
    dest = str(tmp / "never" / "dest.bin")
    checked = [0]
    examples_run = itertools.count()

    def refused(label: str, call: Callable[[], object], argument: object) -> None:
        try:
            call()
        except InvalidName as error:
            assert error.service == store.service_name, (label, error)
        except Exception as error:  # the property: nothing but InvalidName
            raise AssertionError(f"{label}({argument!r}) raised {error!r}") from error
        else:
            raise AssertionError(f"{label}({argument!r}) was accepted")
        assert recorder.calls == [], (label, argument, recorder.calls)
        checked[0] += 1

    @property_settings(examples)
    @given(
        blob=invalid_blob_paths(),
        list_path=st.one_of(escaping_list_paths(), invalid_blob_paths().filter(_bad_list_path)),
        bad_container=BAD_CONTAINERS,
    )
    def invalid_names_are_refused_before_any_io(
        blob: object, list_path: Any, bad_container: Any
    ) -> None:
        next(examples_run)
        recorder.calls.clear()
        for label, call in blob_calls(recorded, container, blob, source, dest):
            refused(label, call, blob)
        for label, call in list_calls(recorded, container, list_path):
            refused(label, call, list_path)
        for label, call in container_calls(recorded, bad_container, source, dest):
            refused(label, call, bad_container)
        assert not os.path.lexists(dest)

    invalid_names_are_refused_before_any_io()
    print(f"\ninvalid-name property on {store.service_name}: {next(examples_run)} examples, "
          f"{checked[0]} calls refused")
    return checked[0]


def _bad_list_path(path: object) -> bool:
    # An invalid blob path may still be a valid list path ("" lists the whole container).
    try:
        parse_list_path(path)
    except InvalidName:
        return True
    return False


# ---- what lies outside ----

def tree_outside(top: Path, *inside: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry under ``top`` except those under ``inside``: kind, size and content hash
    (files), link target (symlinks). Compared before and after, it shows any write outside."""
    skipped = {str(path) for path in inside}
    # The folders that hold those areas may appear (a store makes its own on first use).
    holders = {str(parent) for path in inside for parent in path.parents}
    found: dict[str, tuple[str, int, str]] = {}
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skipped]
        for name in dirs + files:
            path = os.path.join(folder, name)
            if path in skipped or path in holders:
                continue
            relative = os.path.relpath(path, top)
            if os.path.islink(path):
                found[relative] = ("link", 0, os.readlink(path))
            elif os.path.isdir(path):
                found[relative] = ("dir", 0, "")
            else:
                data = Path(path).read_bytes()
                found[relative] = ("file", len(data), hashlib.sha256(data).hexdigest())
    return found


def plant_decoys(store: Store, tmp: Path) -> None:
    """Another container with blobs, and files next to the store, for a name to reach."""
    store.create_container("other")
    store.create_blob("other", "secret.txt", "another container's blob")
    store.create_blob("other", "runs/secret.txt", "named like the container under test")
    (tmp / "outside").mkdir(exist_ok=True)
    (tmp / "outside" / "secret.txt").write_text("next to the store")


def decoys_untouched(store: Store) -> None:
    assert store.list_blobs("other") == ["runs/secret.txt", "secret.txt"]
    assert store.get_blob_text("other", "secret.txt") == "another container's blob"
    assert store.get_blob_metadata("other", "secret.txt") == {}
