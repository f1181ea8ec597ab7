"""``du``: the size and blob count of each folder below an address, and the total.

Sizes are in bytes unless ``-h``, as ``ls -l`` and GNU ``du`` (``du -h``) print them. Folders are
summed as the store pages the listing: names sharing a folder are adjacent in a sorted listing
(docs/contract.md §2), so a folder is complete, and printed, as soon as a name outside it comes
by. Memory stays bounded by the depth, never by the number of blobs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from xtstore.cli.address import Address
from xtstore.cli.cmd_ls import human_option
from xtstore.cli.context import get_state, parse_address_arg
from xtstore.cli.errors import missing_path
from xtstore.cli.filters import PathFilter
from xtstore.cli.options import filter_options, path_filter
from xtstore.cli.output import emit_json_array, human_bytes
from xtstore.errors import BlobNotFound

if TYPE_CHECKING:
    from xtstore.store import Store

__all__ = ["COMMANDS", "Usage", "folder_usage"]

_SIZE_WIDTH = 12
_COUNT_WIDTH = 8


@dataclass
class Usage:
    """The blobs below one folder: ``path`` is relative to the address ("" for the address
    itself, else ending in '/'), ``size`` their bytes, ``blobs`` how many."""

    path: str
    size: int = 0
    blobs: int = 0


def folder_usage(blobs: Iterable[tuple[str, int]], max_depth: int) -> Iterator[Usage]:
    """The usage of every folder at most ``max_depth`` levels below the root, each once its
    last blob went by (children before their parent, as ``du`` prints them), then the root:
    the total. ``blobs`` are ``(relative name, size)`` pairs in sorted order."""
    root = Usage("")
    opened: list[Usage] = []  # the folders holding the current blob, outermost first
    for relative, size in blobs:
        folders = relative.split("/")[:-1][:max_depth]
        keep = 0
        while keep < len(opened) and keep < len(folders) and \
                opened[keep].path == "/".join(folders[:keep + 1]) + "/":
            keep += 1
        while len(opened) > keep:
            yield opened.pop()
        for depth in range(keep, len(folders)):
            opened.append(Usage("/".join(folders[:depth + 1]) + "/"))
        for usage in (root, *opened):
            usage.size += size
            usage.blobs += 1
    while opened:
        yield opened.pop()
    yield root


def _sized_blobs(store: Store, address: Address, selected: PathFilter
                 ) -> Iterator[tuple[str, int]]:
    """``(name below the address, size)`` of each blob the filters take. Raises
    ``BlobNotFound`` (the one missing-path message) when the path names nothing."""
    prefix = address.path + "/" if address.path else ""
    empty = True
    for entry in store.iter_blobs(address.container, prefix or None, recursive=True):
        if entry.is_dir:
            continue
        empty = False
        relative = entry.name[len(prefix):]
        if selected.accepts(relative):
            properties = entry.properties
            yield relative, properties.content_length if properties is not None else 0
    if empty and address.path:
        missing = missing_path(store.get_service_name(), address.container, address.path)
        if address.folder:
            raise missing
        try:
            info = store.get_blob_properties(address.container, address.path)
        except BlobNotFound:
            raise missing from None
        name = address.path.rpartition("/")[2]
        if selected.accepts(name):
            properties = info.properties
            yield "", properties.content_length if properties is not None else 0


def _shown(address: Address, usage: Usage) -> str:
    """The folder as an address: ``runs/exp1/run1/``; the root as given (``runs/exp1``)."""
    root = str(address)
    if not usage.path:
        return root
    return f"{root}/{usage.path}"


@click.command("du")
@click.argument("address", metavar="[SERVICE:]CONTAINER[/PATH]")
@click.option("-d", "--max-depth", type=click.IntRange(min=0), default=1, show_default=True,
              metavar="N", help="Show folders down to N levels below ADDRESS.")
@click.option("-s", "--summarize", is_flag=True, help="Only the total (same as -d 0).")
@human_option
@filter_options
def du_command(address: str, max_depth: int, summarize: bool, human: bool,
               include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Show the size and blob count of each folder below ADDRESS, and the total.

    One line per folder (size, blobs, folder), deepest first, then the total for ADDRESS
    itself; sizes in bytes, or as 1.5 KiB with -h. --include / --exclude count only the
    blobs they take (patterns match the path below ADDRESS). With --json, a list of
    {"path", "size", "blobs"} objects, the total last.
    """
    state = get_state()
    selected = path_filter(include, exclude)
    parsed = parse_address_arg(address)
    if parsed.has_wildcard:
        raise click.BadParameter(f"{address!r}: du takes a container or folder, not a pattern "
                                 "(filter with --include / --exclude)", param_hint="ADDRESS")
    store = state.store_for(parsed)
    usages = folder_usage(_sized_blobs(store, parsed, selected), 0 if summarize else max_depth)
    if state.json:
        emit_json_array({"path": _shown(parsed, usage), "size": usage.size,
                         "blobs": usage.blobs} for usage in usages)
        return
    for usage in usages:
        size = human_bytes(usage.size) if human else str(usage.size)
        click.echo(f"{size:>{_SIZE_WIDTH}}  {usage.blobs:>{_COUNT_WIDTH}}  "
                   f"{_shown(parsed, usage)}")


COMMANDS = [du_command]
