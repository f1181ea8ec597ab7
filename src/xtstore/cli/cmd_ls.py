"""``ls``: blobs and folders of a container, by level, recursively or by pattern."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import click

from xtstore.cli.address import Address
from xtstore.cli.cmd_containers import list_containers
from xtstore.cli.context import get_state, parse_address_arg
from xtstore.cli.errors import missing_path
from xtstore.cli.filters import PathFilter
from xtstore.cli.globbing import split_pattern
from xtstore.cli.options import filter_options, path_filter
from xtstore.cli.output import emit_json_array, human_bytes, iso_time
from xtstore.errors import BlobNotFound
from xtstore.values import BlobInfo

if TYPE_CHECKING:
    from xtstore.store import Store

__all__ = ["COMMANDS", "human_option"]

_SIZE_WIDTH = 12  # bytes, right-aligned: up to 999 GB keeps the columns straight


def human_option(function: Any) -> Any:
    """``-h`` / ``-H`` / ``--human`` as ``human: bool`` (``ls`` and ``du``): sizes as
    ``1.5 KiB`` instead of bytes, as ``ls -lh`` and ``du -h`` print them."""
    return click.option("-h", "-H", "--human", "human", is_flag=True,
                        help="Sizes in KiB, MiB, GiB (powers of 1024), not bytes.")(function)


def _keeps(selected: PathFilter, entry: BlobInfo, prefix: str) -> bool:
    """Whether ``--include`` / ``--exclude`` keep ``entry``, matched on its path below
    ``prefix``. A folder shown as one entry may hold blobs an include matches, so only an
    exclude that matches the folder itself drops it."""
    if not selected.active:
        return True
    relative = entry.name[len(prefix):] if entry.name.startswith(prefix) else entry.name
    if entry.is_dir:
        return PathFilter(exclude=selected.exclude).accepts(relative)
    return selected.accepts(relative)


def _entry_json(entry: BlobInfo) -> dict[str, Any]:
    properties = entry.properties
    return {
        "name": entry.name,
        "is_dir": bool(entry.is_dir),
        "size": properties.content_length if properties is not None else None,
        "last_modified": iso_time(properties.last_modified) if properties is not None else None,
        "etag": properties.etag if properties is not None else None,
    }


def _collapse(entries: Iterable[BlobInfo], prefix: str, depth: int) -> Iterator[BlobInfo]:
    """Blobs at most ``depth`` folders below ``prefix``; deeper ones become one folder entry
    each. Names sharing a prefix are adjacent in a sorted listing, so this streams."""
    last_folder = None
    for entry in entries:
        segments = entry.name[len(prefix):].split("/")
        if len(segments) - 1 <= depth:
            yield entry
            continue
        folder = prefix + "/".join(segments[: depth + 1]) + "/"
        if folder != last_folder:
            last_folder = folder
            yield BlobInfo(name=folder, is_dir=True)


def _matching(store: Store, address: Address, recursive: bool, subdirs: int | None,
              selected: PathFilter) -> Iterator[BlobInfo]:
    pattern = split_pattern(address.path)
    prefix = pattern.base + "/" if pattern.base else ""
    deep = recursive or subdirs is not None or pattern.max_depth != 1
    found = False
    for entry in store.iter_blobs(address.container, prefix or None, recursive=deep):
        relative = entry.name[len(prefix):]
        # One level: entries (folders too) matched by name; deeper: blobs and what holds them.
        hit = pattern.match(relative) if deep else pattern.regex.fullmatch(relative.rstrip("/"))
        if hit is not None:
            found = True
            if _keeps(selected, entry, prefix):
                yield entry
    if not found:
        raise BlobNotFound("no blob matches this pattern", service=store.get_service_name(),
                           container=address.container, blob=address.path)


def _listing(store: Store, address: Address, recursive: bool, subdirs: int | None,
             selected: PathFilter) -> Iterator[BlobInfo]:
    """The entries to show, as the store pages them (a huge container is never held whole).
    Raises ``ContainerNotFound``, and ``BlobNotFound`` when a path or pattern names nothing."""
    if address.has_wildcard:
        yield from _matching(store, address, recursive, subdirs, selected)
        return
    prefix = address.path + "/" if address.path else ""
    deep = recursive or subdirs is not None
    entries = store.iter_blobs(address.container, prefix or None, recursive=deep)
    if subdirs is not None and not recursive:
        entries = _collapse(entries, prefix, subdirs)
    empty = True
    for entry in entries:
        empty = False
        if _keeps(selected, entry, prefix):
            yield entry
    if empty and address.path:
        missing = missing_path(store.get_service_name(), address.container, address.path)
        if address.folder:
            raise missing
        try:
            blob = store.get_blob_properties(address.container, address.path)
        except BlobNotFound:
            raise missing from None
        if _keeps(selected, blob, address.path.rpartition("/")[0] + "/"):
            yield blob


def _long_line(entry: BlobInfo, human: bool) -> str:
    properties = entry.properties
    if entry.is_dir or properties is None:
        return f"{'-':>{_SIZE_WIDTH}}  {'-':19}  {entry.name}"
    when = properties.last_modified.strftime("%Y-%m-%d %H:%M:%S")
    size = properties.content_length
    shown = human_bytes(size) if human else str(size)
    return f"{shown:>{_SIZE_WIDTH}}  {when}  {entry.name}"


@click.command("ls")
@click.argument("address", required=False, metavar="[[SERVICE:]CONTAINER[/PATH]]")
@click.option("-r", "--recursive", is_flag=True, help="Every blob below the path.")
@click.option("-l", "--long", "long_format", is_flag=True, help="Show size and time.")
@human_option
@click.option("--subdirs", type=click.IntRange(min=0), metavar="N",
              help="Include blobs up to N folder levels down.")
@filter_options
def ls_command(address: str | None, recursive: bool, long_format: bool, human: bool,
               subdirs: int | None, include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """List blobs and folders (folders end in '/'); with no address, list containers.

    The path may use *, ? (within a folder) and ** (across folders); quote it. -h implies
    -l. --include / --exclude match the path below the listed folder (below a pattern's
    literal part); a folder entry is left out only by an exclude that matches it.
    """
    state = get_state()
    selected = path_filter(include, exclude)
    if address is None or (address.endswith(":") and "/" not in address):
        list_containers(address[:-1] if address else None)
        return
    parsed = parse_address_arg(address)
    entries = _listing(state.store_for(parsed), parsed, recursive, subdirs, selected)
    if state.json:
        emit_json_array(_entry_json(entry) for entry in entries)
        return
    for entry in entries:
        click.echo(_long_line(entry, human) if long_format or human else entry.name)


COMMANDS = [ls_command]
