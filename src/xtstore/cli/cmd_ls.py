"""``ls``: blobs and folders of a container, by level, recursively or by pattern."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from xtstore.cli.address import Address
from xtstore.cli.cmd_containers import list_containers
from xtstore.cli.context import get_state, parse_address_arg
from xtstore.cli.globbing import split_pattern
from xtstore.cli.output import emit_json, iso_time, print_table
from xtstore.errors import BlobNotFound
from xtstore.values import BlobInfo

if TYPE_CHECKING:
    from xtstore.store import Store

__all__ = ["COMMANDS"]


def _entry_json(entry: BlobInfo) -> dict[str, Any]:
    properties = entry.properties
    return {
        "name": entry.name,
        "is_dir": bool(entry.is_dir),
        "size": properties.content_length if properties is not None else None,
        "last_modified": iso_time(properties.last_modified) if properties is not None else None,
        "etag": properties.etag if properties is not None else None,
    }


def _collapse(entries: list[BlobInfo], prefix: str, depth: int) -> list[BlobInfo]:
    """Blobs at most ``depth`` folders below ``prefix``; deeper ones become folder entries."""
    result: dict[str, BlobInfo] = {}
    for entry in entries:
        segments = entry.name[len(prefix):].split("/")
        if len(segments) - 1 <= depth:
            result[entry.name] = entry
        else:
            folder = prefix + "/".join(segments[: depth + 1]) + "/"
            result.setdefault(folder, BlobInfo(name=folder, is_dir=True))
    return [result[name] for name in sorted(result)]


def _listing(store: Store, address: Address, recursive: bool, subdirs: int | None
             ) -> list[BlobInfo]:
    if address.has_wildcard:
        pattern = split_pattern(address.path)
        prefix = pattern.base + "/" if pattern.base else ""
        deep = recursive or subdirs is not None or pattern.max_depth != 1
        entries = list(store.iter_blobs(address.container, prefix or None, recursive=deep))
        if deep:
            matched = [e for e in entries if pattern.match(e.name[len(prefix):]) is not None]
        else:
            regex = pattern.regex
            matched = [e for e in entries if regex.fullmatch(e.name[len(prefix):].rstrip("/"))]
        if not matched:
            raise BlobNotFound("no blob matches this pattern", service=store.get_service_name(),
                               container=address.container, blob=address.path)
        return matched
    prefix = address.path + "/" if address.path else ""
    deep = recursive or subdirs is not None
    entries = list(store.iter_blobs(address.container, prefix or None, recursive=deep))
    if not entries and address.path:
        if address.folder:
            raise BlobNotFound("no folder by this name", service=store.get_service_name(),
                               container=address.container, blob=address.path)
        return [store.get_blob_properties(address.container, address.path)]
    if subdirs is not None and not recursive:
        return _collapse(list(entries), prefix, subdirs)
    return list(entries)


@click.command("ls")
@click.argument("address", required=False, metavar="[[SERVICE:]CONTAINER[/PATH]]")
@click.option("-r", "--recursive", is_flag=True, help="Every blob below the path.")
@click.option("-l", "--long", "long_format", is_flag=True, help="Show size and time.")
@click.option("--subdirs", type=click.IntRange(min=0), metavar="N",
              help="Include blobs up to N folder levels down.")
def ls_command(address: str | None, recursive: bool, long_format: bool,
               subdirs: int | None) -> None:
    """List blobs and folders (folders end in '/'); with no address, list containers.

    The path may use *, ? (within a folder) and ** (across folders); quote it.
    """
    state = get_state()
    if address is None or (address.endswith(":") and "/" not in address):
        list_containers(address[:-1] if address else None)
        return
    parsed = parse_address_arg(address)
    entries = _listing(state.store_for(parsed), parsed, recursive, subdirs)
    if state.json:
        emit_json([_entry_json(entry) for entry in entries])
        return
    if not long_format:
        for entry in entries:
            click.echo(entry.name)
        return
    rows = []
    for entry in entries:
        properties = entry.properties
        if entry.is_dir or properties is None:
            rows.append(["-", "-", entry.name])
        else:
            when = properties.last_modified.strftime("%Y-%m-%d %H:%M:%S")
            rows.append([str(properties.content_length), when, entry.name])
    print_table(rows, align_right=frozenset({0}))


COMMANDS = [ls_command]
