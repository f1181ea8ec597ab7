"""Blob commands: ``cat``, ``append``, ``rm``, ``snapshot``, ``props``, ``meta``."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from xtstore.cli.address import Address
from xtstore.cli.cmd_containers import container_properties
from xtstore.cli.context import confirm, get_state, parse_address_arg, parse_key_value
from xtstore.cli.globbing import split_pattern
from xtstore.cli.output import emit_json, iso_time, print_table
from xtstore.cli.resolve import Selection, resolve_remote
from xtstore.errors import Unsupported
from xtstore.interface import ProgressCallback
from xtstore.transfer import DEFAULT_WORKERS, Transfer, run_transfers
from xtstore.values import SnapshotInfo

if TYPE_CHECKING:
    from xtstore.store import Store

__all__ = ["COMMANDS", "blob_address", "write_blob_to_stdout"]

_COPY_CHUNK = 1024 * 1024


def blob_address(text: str) -> Address:
    address = parse_address_arg(text)
    if not address.path or address.has_wildcard:
        raise click.BadParameter(f"{text!r} must name one blob: [service:]container/path",
                                 param_hint="ADDRESS")
    return address


# ---- cat / append ----


def write_blob_to_stdout(store: Store, container: str, blob: str,
                         snapshot: str | None = None) -> None:
    """Stream a blob's exact bytes to stdout. Whatever the provider prints while reading goes
    to stderr, so stdout carries the blob and nothing else (XT's FileStore prints from
    get_blob_to_path)."""
    out = sys.stdout.buffer  # taken before the redirection: the blob's bytes go here
    try:
        with contextlib.redirect_stdout(sys.stderr), \
                store.open_blob(container, blob, snapshot=snapshot) as stream:
            while chunk := stream.read(_COPY_CHUNK):
                out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # The reader went away (``xtstore cat ... | head``): not an error. Point stdout at
        # devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@click.command("cat")
@click.argument("address", metavar="[SERVICE:]CONTAINER/PATH")
@click.option("--snapshot", metavar="ID", help="Read this snapshot of the blob.")
def cat_command(address: str, snapshot: str | None) -> None:
    """Write a blob's exact bytes to stdout."""
    state = get_state()
    parsed = blob_address(address)
    write_blob_to_stdout(state.store_for(parsed), parsed.container, parsed.path, snapshot)


@click.command("append")
@click.argument("address", metavar="[SERVICE:]CONTAINER/PATH")
@click.argument("text", required=False)
@click.option("--rewrite", is_flag=True,
              help="Read-modify-write under an etag condition (append_with_rewrite).")
def append_command(address: str, text: str | None, rewrite: bool) -> None:
    """Append TEXT (exactly as given), or stdin when TEXT is omitted or '-', to a blob,
    creating it if missing."""
    state = get_state()
    parsed = blob_address(address)
    data: str | bytes = sys.stdin.buffer.read() if text in (None, "-") else str(text)
    state.store_for(parsed).append_blob(parsed.container, parsed.path, data,
                                        append_with_rewrite=rewrite)


# ---- rm ----


def _delete_action(store: Store, container: str, name: str) -> Callable[[ProgressCallback], None]:
    def action(progress: ProgressCallback) -> None:
        store.delete_blob(container, name)
    return action


def _delete_many(store: Store, container: str, names: list[str]) -> None:
    transfers = [Transfer(name, 0, _delete_action(store, container, name)) for name in names]
    run_transfers(transfers, workers=DEFAULT_WORKERS)


def _names_folders(address: Address, selection: Selection) -> bool:
    """True if the selection holds a whole folder (not just blobs a pattern matched)."""
    if selection.kind != "pattern":
        return selection.kind == "folder"
    pattern = split_pattern(address.path)
    return any(pattern.match(item.relative) != item.relative for item in selection.items)


@click.command("rm")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@click.option("-r", "--recursive", is_flag=True, help="Delete folders and containers too.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting a folder.")
@click.option("--snapshot", metavar="ID", help="Delete only this snapshot of the blob.")
def rm_command(addresses: tuple[str, ...], recursive: bool, yes: bool,
               snapshot: str | None) -> None:
    """Delete blobs (with their snapshots), folders and containers (-r). Asks before
    deleting a whole folder or container on a terminal, unless --yes."""
    state = get_state()
    for text in addresses:
        address = parse_address_arg(text)
        store = state.store_for(address)
        if snapshot is not None:
            store.delete_blob(address.container, blob_address(text).path, snapshot=snapshot)
            continue
        if not address.path:
            if not recursive:
                raise click.UsageError(f"{text!r} is a whole container: use -r to delete it")
            store.get_container_properties(address.container)  # fails early if missing
            confirm(f"Delete container {text!r} with every blob in it?", yes)
            store.delete_container(address.container)
            continue
        selection = resolve_remote(store, address)
        names = [item.ref for item in selection.items]
        if selection.kind == "file":
            store.delete_blob(address.container, names[0])
            continue
        if _names_folders(address, selection) and not recursive:
            raise click.UsageError(f"{text!r} names a folder: use -r to delete it")
        noun = "blob" if len(names) == 1 else "blobs"
        confirm(f"Delete {len(names)} {noun} under {text!r}?", yes)
        _delete_many(store, address.container, names)


# ---- snapshot / props / meta ----


def _snapshot_json(info: SnapshotInfo) -> dict[str, Any]:
    return {"container": info.container, "blob": info.blob, "snapshot": info.snapshot,
            "created": iso_time(info.created)}


@click.command("snapshot")
@click.argument("address", metavar="[SERVICE:]CONTAINER/PATH")
@click.option("--list", "list_them", is_flag=True, help="List the blob's snapshots instead.")
def snapshot_command(address: str, list_them: bool) -> None:
    """Snapshot a blob and print the snapshot id (read it with cat --snapshot ID)."""
    state = get_state()
    parsed = blob_address(address)
    store = state.store_for(parsed)
    if list_them:
        snapshots = store.list_snapshots(parsed.container, parsed.path)
        if state.json:
            emit_json([_snapshot_json(info) for info in snapshots])
        else:
            print_table([[info.snapshot, str(iso_time(info.created))] for info in snapshots])
        return
    info = store.snapshot_blob(parsed.container, parsed.path)
    if state.json:
        emit_json(_snapshot_json(info))
    else:
        click.echo(info.snapshot)


@click.command("props")
@click.argument("address", metavar="[SERVICE:]CONTAINER[/PATH]")
def props_command(address: str) -> None:
    """Show a blob's (or a container's) properties and metadata."""
    state = get_state()
    parsed = parse_address_arg(address)
    if not parsed.path:
        container_properties(parsed)
        return
    parsed = blob_address(address)
    store = state.store_for(parsed)
    info = store.get_blob_properties(parsed.container, parsed.path)
    properties = info.properties
    if properties is None:  # a provider that broke the contract; say so instead of crashing
        raise Unsupported("the provider returned no properties for this blob",
                          service=store.get_service_name(), container=parsed.container,
                          blob=parsed.path)
    metadata = dict(properties.metadata)
    data: dict[str, Any] = {
        "name": info.name,
        "size": properties.content_length,
        "last_modified": iso_time(properties.last_modified),
        "modified_ns": properties.modified_ns,
        "etag": properties.etag,
        "content_type": properties.content_type,
        "metadata": metadata,
    }
    if state.json:
        emit_json(data)
        return
    rows = [[f"{key.replace('_', ' ')}:", str(value)] for key, value in data.items()
            if key != "metadata" and value is not None]
    rows += [[f"metadata.{key}:", value] for key, value in sorted(metadata.items())]
    print_table(rows)


@click.command("meta")
@click.argument("address", metavar="[SERVICE:]CONTAINER[/PATH]")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--replace", is_flag=True, help="Replace all metadata instead of merging.")
@click.option("--delete", "deletes", multiple=True, metavar="KEY", help="Remove this key.")
def meta_command(address: str, pairs: tuple[str, ...], replace: bool,
                 deletes: tuple[str, ...]) -> None:
    """Show a blob's or container's metadata, or set KEY=VALUE pairs (merged into it)."""
    state = get_state()
    parsed = parse_address_arg(address)
    if parsed.path:
        parsed = blob_address(address)
    store = state.store_for(parsed)
    on_blob = bool(parsed.path)
    current = (store.get_blob_metadata(parsed.container, parsed.path) if on_blob
               else store.get_container_metadata(parsed.container))
    if not pairs and not deletes and not replace:
        if state.json:
            emit_json(dict(current))
        else:
            print_table([[f"{key}:", value] for key, value in sorted(current.items())])
        return
    updated = {} if replace else dict(current)
    updated.update(parse_key_value(text, "KEY=VALUE") for text in pairs)
    for key in deletes:
        updated.pop(key, None)
    if on_blob:
        store.set_blob_metadata(parsed.container, parsed.path, updated)
    else:
        store.set_container_metadata(parsed.container, updated)


COMMANDS = [cat_command, append_command, rm_command, snapshot_command, props_command,
            meta_command]
