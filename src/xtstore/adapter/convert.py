"""Turning what a foreign (XT-style) provider returns into the library's value types.

XT's providers return whatever their store hands them: XT's ``utils.PropertyBag`` (``.name``,
``.properties.content_length``, ``.properties.last_modified`` as a naive local-time datetime),
an ``os.stat_result`` for a container, azure-storage 2.1's ``Blob`` / ``Container`` models, or
a bag with only ``.snapshot``. Anything shaped like those (attributes or mapping keys) is
accepted; a value that lacks what is needed raises a :class:`StoreError` naming the provider
class, the method and the missing field, never a raw ``AttributeError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from xtstore.errors import StoreError
from xtstore.values import (
    BlobInfo,
    BlobProperties,
    ContainerInfo,
    SnapshotInfo,
    datetime_from_ns,
)

__all__ = [
    "Origin",
    "blob_info",
    "container_info",
    "listing",
    "metadata",
    "snapshot_info",
    "synthetic_etag",
]

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Origin:
    """Which provider call produced a value (for error messages)."""

    provider: str
    method: str

    def error(self, value: object, problem: str) -> StoreError:
        return StoreError(
            f"{self.provider}.{self.method} returned {_describe(value)}, which {problem}"
        )


def _describe(value: object) -> str:
    kind = type(value)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"a {module}{kind.__qualname__}"


def _field(value: Any, name: str) -> Any:
    """``value.name`` or ``value[name]``; ``_MISSING`` when it has neither (or it is None)."""
    if isinstance(value, Mapping):
        found = value.get(name, _MISSING)
    else:
        found = getattr(value, name, _MISSING)
    return _MISSING if found is None else found


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def synthetic_etag(size: int, modified_ns: int) -> str:
    """A stable etag for a provider that reports none: the same size and time give the same
    etag, and any write that changes either changes it."""
    return f'"{size:x}-{modified_ns:x}"'


def _modified_ns(holder: Any, origin: Origin, whole: Any) -> int:
    """Nanoseconds since the epoch from ``modified_ns``, ``st_mtime_ns`` or ``last_modified``
    (a datetime, naive meaning local time as ``datetime.fromtimestamp`` makes it, or epoch
    seconds)."""
    for name in ("modified_ns", "st_mtime_ns"):
        found = _int(_field(holder, name))
        if found is not None:
            return found
    when = _field(holder, "last_modified")
    if when is _MISSING:
        when = _field(holder, "st_mtime")
    if isinstance(when, datetime):
        # A naive datetime is local time (XT's FileStore uses fromtimestamp); astimezone
        # reads it so.
        aware = when.astimezone(timezone.utc)
        delta = aware - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return int(when * 1_000_000_000)
    raise origin.error(whole, "has no modification time (properties.last_modified or "
                              "properties.modified_ns)")


def metadata(value: Any, origin: Origin) -> dict[str, str]:
    """A metadata mapping as a plain ``dict`` of str to str (None means none)."""
    if value is None or value is _MISSING:
        return {}
    if not isinstance(value, Mapping):
        raise origin.error(value, "is not a mapping of metadata")
    return {str(key): str(item) for key, item in value.items()}


def _content_type(properties: Any) -> str | None:
    settings = _field(properties, "content_settings")
    found = _field(settings, "content_type") if settings is not _MISSING else _MISSING
    if found is _MISSING:
        found = _field(properties, "content_type")
    return found if isinstance(found, str) else None


def _properties(value: Any, origin: Origin, with_metadata: bool) -> BlobProperties:
    properties = _field(value, "properties")
    if properties is _MISSING:
        if _int(_field(value, "st_size")) is None:
            raise origin.error(value, "has no 'properties'")
        properties = value
    size = _int(_field(properties, "content_length"))
    if size is None:
        size = _int(_field(properties, "st_size"))
    if size is None:
        raise origin.error(value, "has no integer 'properties.content_length'")
    modified_ns = _modified_ns(properties, origin, value)
    etag = _field(properties, "etag")
    if not isinstance(etag, str) or not etag:
        etag = synthetic_etag(size, modified_ns)
    found: dict[str, str] = {}
    if with_metadata:
        own = _field(value, "metadata")
        found = metadata(own if own is not _MISSING else _field(properties, "metadata"), origin)
    return BlobProperties.from_ns(
        size, modified_ns, etag, content_type=_content_type(properties), metadata=found
    )


def blob_info(value: Any, origin: Origin, *, name: str | None = None,
              with_metadata: bool = False) -> BlobInfo:
    """A :class:`BlobInfo` from a listing entry or a properties result. ``name`` (the blob the
    caller asked about) replaces the value's own name; folder entries (a name ending in
    ``/``, or ``is_dir``) carry no properties."""
    if isinstance(value, BlobInfo):
        return value if name is None or value.name == name else BlobInfo(
            name, value.is_dir, value.properties)
    if isinstance(value, str):
        own_name: Any = value
    else:
        own_name = _field(value, "name")
    if name is None:
        if not isinstance(own_name, str):
            raise origin.error(value, "has no 'name'")
        name = own_name.lstrip("/")
    if name.endswith("/") or _field(value, "is_dir") is True:
        return BlobInfo(name=name if name.endswith("/") else name + "/", is_dir=True)
    if isinstance(value, str):
        raise origin.error(value, "is a name where an object with properties was asked for "
                                  "(return_names=False)")
    return BlobInfo(name=name, properties=_properties(value, origin, with_metadata))


def container_info(value: Any, container: str, origin: Origin) -> ContainerInfo:
    """A :class:`ContainerInfo` named ``container`` from an ``os.stat_result``, an azure
    ``Container`` (``.properties.last_modified``, ``.metadata``) or its properties alone."""
    if isinstance(value, ContainerInfo):
        return value if value.name == container else ContainerInfo(
            container, value.last_modified, value.metadata)
    properties = _field(value, "properties")
    holder = value if properties is _MISSING else properties
    modified_ns = _modified_ns(holder, origin, value)
    own = _field(value, "metadata")
    found = metadata(own if own is not _MISSING else _field(holder, "metadata"), origin)
    return ContainerInfo(name=container, last_modified=datetime_from_ns(modified_ns),
                         metadata=found)


def snapshot_info(value: Any, container: str, blob: str, origin: Origin,
                  taken: datetime) -> SnapshotInfo:
    """A :class:`SnapshotInfo` from an object with ``.snapshot`` (or the id itself). Its time
    is the value's own (``created``, ``properties.last_modified``) or else ``taken``."""
    if isinstance(value, SnapshotInfo):
        return value
    snapshot = value if isinstance(value, str) else _field(value, "snapshot")
    if not isinstance(snapshot, str) or not snapshot:
        raise origin.error(value, "has no snapshot id ('snapshot')")
    created = _field(value, "created")
    if not isinstance(created, datetime):
        properties = _field(value, "properties")
        when = _field(properties, "last_modified") if properties is not _MISSING else _MISSING
        created = when if isinstance(when, datetime) else taken
    return SnapshotInfo(container=container, blob=blob, snapshot=snapshot,
                        created=created.astimezone(timezone.utc))


def listing(entries: Iterable[Any], path: str, recursive: bool, origin: Origin, *,
            objects: bool) -> list[BlobInfo]:
    """The contract's listing of ``path`` (canonical: ``""``, ``"foo/"`` or ``"foo*"``) from
    what the provider returned: names with a leading ``/`` dropped, only entries under the
    path (never ``foobar`` for ``foo/``), folder entries only when not recursive and each
    child folder once, sorted by name. With ``objects``, every blob entry must carry its
    properties; otherwise names are enough."""
    prefix = path[:-1] if path.endswith("*") else path
    folder = prefix[: prefix.rfind("/") + 1]
    by_name: dict[str, BlobInfo] = {}
    for entry in entries:
        if isinstance(entry, str) and not objects:
            name = entry.lstrip("/")
            info = BlobInfo(name=name, is_dir=name.endswith("/"))
        else:
            info = blob_info(entry, origin)
        if not info.name.startswith(prefix) or info.name == folder:
            continue
        rest = info.name[len(folder):]
        if not recursive and "/" in rest.rstrip("/"):
            child = folder + rest.split("/", 1)[0] + "/"
            by_name.setdefault(child, BlobInfo(name=child, is_dir=True))
            continue
        if info.is_dir and recursive:
            continue
        by_name[info.name] = info
    return [by_name[name] for name in sorted(by_name)]

