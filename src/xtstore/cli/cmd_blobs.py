"""Blob commands: ``cat``, ``append``, ``rm``, ``snapshot``, ``props``, ``meta``."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from xtstore.cli.address import Address
from xtstore.cli.cmd_containers import container_properties
from xtstore.cli.context import confirm, get_state, parse_address_arg, parse_key_value
from xtstore.cli.errors import FolderNotBlob, not_a_blob
from xtstore.cli.filters import PathFilter
from xtstore.cli.globbing import split_pattern
from xtstore.cli.options import dry_run_option, fail_fast_option, filter_options, path_filter
from xtstore.cli.output import emit_json, iso_time, print_table
from xtstore.cli.report import Outcome, finish
from xtstore.cli.resolve import Item, Selection, resolve_remote
from xtstore.errors import BlobAlreadyExists, BlobNotFound, Unsupported
from xtstore.interface import ProgressCallback
from xtstore.transfer import (
    DEFAULT_WORKERS,
    Failure,
    Transfer,
    TransferInterrupted,
    TransferSummary,
    run_transfers,
)
from xtstore.values import SnapshotInfo

if TYPE_CHECKING:
    from xtstore.store import Store

__all__ = ["COMMANDS", "blob_address", "one_blob", "write_blob_to_stdout"]

_COPY_CHUNK = 1024 * 1024
_DELETE_BATCH = 1000
"""Names per ``delete_blobs`` call of ``rm`` on a store that deletes many at once (S3's
DeleteObjects takes 1,000 keys)."""


def blob_address(text: str) -> Address:
    address = parse_address_arg(text)
    if not address.path or address.has_wildcard:
        raise click.BadParameter(f"{text!r} must name one blob: [service:]container/path",
                                 param_hint="ADDRESS")
    return address


@contextlib.contextmanager
def one_blob(store: Store, address: Address, snapshot: str | None = None) -> Iterator[None]:
    """Around a call on the one blob ``address`` names: a folder there, or nothing, is said
    the way every command says it ("it is a folder: use ls or download -r", "no blob or
    folder by this name"). The check costs a listing, on the error path only; a missing
    snapshot of a blob keeps the store's own message."""
    if address.folder:  # 'runs/exp1/' names the folder even where a blob 'exp1' exists
        raise not_a_blob(store, address.container, address.path)
    try:
        yield
    except FolderNotBlob:
        raise
    except BlobNotFound:
        if snapshot is not None:
            raise
        raise not_a_blob(store, address.container, address.path) from None
    except BlobAlreadyExists as clash:  # a store whose folders are real: a folder is in the way
        explained = not_a_blob(store, address.container, address.path)
        if isinstance(explained, FolderNotBlob):
            raise explained from None
        raise clash


# ---- cat / append ----


def write_blob_to_stdout(store: Store, container: str, blob: str,
                         snapshot: str | None = None, *, folder: bool = False) -> None:
    """Stream a blob's exact bytes to stdout. Whatever the provider prints while reading goes
    to stderr, so stdout carries the blob and nothing else (XT's FileStore prints from
    get_blob_to_path). ``folder``: the address ended in '/'. A folder or a missing path is
    the one message for each (:func:`one_blob`)."""
    out = sys.stdout.buffer  # taken before the redirection: the blob's bytes go here
    address = Address(store.get_service_name(), container, blob, folder)
    try:
        with one_blob(store, address, snapshot), contextlib.redirect_stdout(sys.stderr), \
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
    write_blob_to_stdout(state.store_for(parsed), parsed.container, parsed.path, snapshot,
                         folder=parsed.folder)


@click.command("append")
@click.argument("address", metavar="[SERVICE:]CONTAINER/PATH")
@click.argument("text", required=False)
@click.option("-n", "--newline", is_flag=True, help="Append a newline after TEXT (or stdin).")
@click.option("--rewrite", is_flag=True,
              help="Read-modify-write under an etag condition (append_with_rewrite).")
def append_command(address: str, text: str | None, newline: bool, rewrite: bool) -> None:
    """Append TEXT (exactly as given), or stdin when TEXT is omitted or '-', to a blob,
    creating it if missing.

    -n adds a newline after it, as echo does: 'xtstore append -n runs/log.txt "epoch 3"'.
    """
    state = get_state()
    parsed = blob_address(address)
    ending = "\n" if newline else ""
    data: str | bytes = (sys.stdin.buffer.read() + ending.encode() if text in (None, "-")
                         else str(text) + ending)
    store = state.store_for(parsed)
    with one_blob(store, parsed):
        store.append_blob(parsed.container, parsed.path, data, append_with_rewrite=rewrite)


# ---- rm ----


@dataclass
class _Removal:
    """What one ``rm`` address deletes: blob ``names`` of ``container``, or, with
    ``whole_container``, the container itself (``names`` then lists what goes with it)."""

    store: Store
    shown: str
    """``[service:]container/`` as the user wrote the service: the start of each line."""
    container: str
    names: list[str]
    whole_container: bool = False


def _names_folders(address: Address, selection: Selection) -> bool:
    """True if the selection holds a whole folder (not just blobs a pattern matched)."""
    if selection.kind != "pattern":
        return selection.kind == "folder"
    pattern = split_pattern(address.path)
    return any(pattern.match(item.relative) != item.relative for item in selection.items)


def _below_source(selection: Selection, item: Item) -> str:
    """The path ``--include`` / ``--exclude`` match: inside the folder, below a pattern's
    literal part, the blob's name in a container, a single blob's own name."""
    if selection.kind == "folder":
        return item.relative.split("/", 1)[1]
    if selection.kind == "container":
        return item.ref
    return item.relative


def _plan_removal(store: Store, text: str, recursive: bool, yes: bool, dry_run: bool,
                  selected: PathFilter) -> _Removal:
    """Resolve one address into what goes, refusing (before anything is deleted) what needs
    ``-r`` or, off a terminal, ``--yes``; asks on a terminal."""
    address = parse_address_arg(text)
    shown = (f"{address.service}:" if address.service else "") + address.container + "/"
    if not address.path and not recursive:
        raise click.UsageError(f"{text!r} is a whole container: use -r to delete it")
    selection = resolve_remote(store, address)
    names = [item.ref for item in selection.items
             if selected.accepts(_below_source(selection, item))]
    removal = _Removal(store, shown, address.container, names)
    count = f"{len(names)} blob{'' if len(names) == 1 else 's'}"
    if selection.kind == "container" and not selected.active:
        removal.whole_container = True
        if dry_run:
            return removal
        if not yes and not sys.stdin.isatty():
            raise click.ClickException(
                f"{text!r} is a whole container ({count}): add --yes to delete it, or "
                "--dry-run to list what would go")
        confirm(f"Delete container {text!r} with its {count}?", yes)
        return removal
    if selection.kind != "file" and _names_folders(address, selection) and not recursive:
        raise click.UsageError(f"{text!r} names a folder: use -r to delete it")
    if selection.kind != "file" and not dry_run:
        confirm(f"Delete {count} under {text!r}?", yes)
    return removal


class _Deletions:
    """The batch of deletions: each deleted blob is one stdout line when ``listing``; a
    blob that failed within a batch of names is one of ``failures``."""

    def __init__(self, listing: bool, fail_fast: bool) -> None:
        self.listing = listing
        self.fail_fast = fail_fast
        self.deleted = 0
        self.failures: list[Failure] = []
        self.lock = threading.Lock()

    def gone(self, lines: list[str]) -> None:
        with self.lock:
            self.deleted += len(lines)
            if self.listing:
                for line in lines:
                    click.echo(line)

    def of_blobs(self, removal: _Removal, names: list[str]) -> Transfer:
        """One ``delete_blobs`` of ``names``: one request per 1,000 on a store that deletes
        many at once, each name's failure its own."""
        def action(progress: ProgressCallback) -> None:
            outcomes = removal.store.delete_blobs(removal.container, names)
            self.gone([removal.shown + name for name, error in outcomes.items()
                       if error is None])
            failed = [Failure(removal.shown + name, error) for name, error in outcomes.items()
                      if error is not None]
            if failed and self.fail_fast:
                raise failed[0].error
            with self.lock:
                self.failures.extend(failed)
        return Transfer(removal.shown + names[0], 0, action)

    def of_container(self, removal: _Removal) -> Transfer:
        def action(progress: ProgressCallback) -> None:
            removal.store.delete_container(removal.container)
            self.gone([removal.shown + name for name in removal.names])
        return Transfer(removal.shown.rstrip("/"), 0, action)


def _dry_run(removals: list[_Removal], as_json: bool) -> Outcome:
    lines = [removal.shown + name for removal in removals for name in removal.names]
    if as_json:
        emit_json([{"action": "delete", "path": line} for line in lines])
    else:
        for line in lines:
            click.echo(f"delete {line}")
    return Outcome("would delete", deleted=len(lines))


@click.command("rm")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@click.option("-r", "--recursive", is_flag=True, help="Delete folders and containers too.")
@click.option("--yes", "-y", is_flag=True,
              help="Do not ask (off a terminal: needed to delete a whole container).")
@click.option("--snapshot", metavar="ID", help="Delete only this snapshot of the blob.")
@dry_run_option
@filter_options
@fail_fast_option
def rm_command(addresses: tuple[str, ...], recursive: bool, yes: bool, snapshot: str | None,
               dry_run: bool, include: tuple[str, ...], exclude: tuple[str, ...],
               fail_fast: bool) -> None:
    """Delete blobs (with their snapshots), folders and containers (-r).

    Every address is resolved first; on a terminal rm asks before deleting a whole folder or
    container, unless --yes. Off a terminal a whole container needs --yes, and each deleted
    blob is printed on stdout (none with -q or --json), then a summary on stderr. A failed
    deletion does not stop the others (unless --fail-fast): each is reported and the exit
    code is 1. --dry-run prints 'delete ADDRESS' for each blob and deletes nothing.
    """
    state = get_state()
    selected = path_filter(include, exclude)
    if snapshot is not None:
        for text in addresses:
            address = blob_address(text)
            state.store_for(address).delete_blob(address.container, address.path,
                                                 snapshot=snapshot)
        return
    removals = [_plan_removal(state.store_for(parse_address_arg(text)), text, recursive, yes,
                              dry_run, selected) for text in addresses]
    if dry_run:
        code = finish(_dry_run(removals, state.json), as_json=False, quiet=state.quiet)
        if code:
            raise click.exceptions.Exit(code)
        return
    deletions = _Deletions(listing=not (state.quiet or state.json or sys.stdout.isatty()),
                           fail_fast=fail_fast)
    transfers: list[Transfer] = []
    planned: set[tuple[str, str, str]] = set()  # addresses that overlap delete a blob once
    for removal in removals:
        if removal.whole_container:
            transfers.append(deletions.of_container(removal))
            continue
        names = []
        for name in removal.names:
            key = (removal.store.get_service_name(), removal.container, name)
            if key not in planned:
                planned.add(key)
                names.append(name)
        batch = _DELETE_BATCH if removal.store.deletes_in_batches else 1
        transfers.extend(deletions.of_blobs(removal, names[start:start + batch])
                         for start in range(0, len(names), batch))
    interrupted = False
    try:
        summary = run_transfers(transfers, workers=DEFAULT_WORKERS, keep_going=not fail_fast)
    except TransferInterrupted as stop:
        summary, interrupted = stop.summary, True
    # The batch counts transfers as copies; rm reports them as deletions.
    outcome = Outcome("deleted", TransferSummary(seconds=summary.seconds,
                                                 failures=summary.failures),
                      deleted=deletions.deleted, failures=deletions.failures,
                      interrupted=interrupted,
                      planned=len(planned) + sum(r.whole_container for r in removals),
                      resumes="running the same rm again deletes the rest")
    code = finish(outcome, as_json=state.json, quiet=state.quiet)
    if code:
        raise click.exceptions.Exit(code)


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
        with one_blob(store, parsed):
            snapshots = store.list_snapshots(parsed.container, parsed.path)
            if not snapshots:  # none, or no blob: a store may list a missing blob's as []
                store.get_blob_properties(parsed.container, parsed.path)
        if state.json:
            emit_json([_snapshot_json(info) for info in snapshots])
        else:
            print_table([[info.snapshot, str(iso_time(info.created))] for info in snapshots])
        return
    with one_blob(store, parsed):
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
    with one_blob(store, parsed):
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
    if on_blob:
        with one_blob(store, parsed):
            current = store.get_blob_metadata(parsed.container, parsed.path)
    else:
        current = store.get_container_metadata(parsed.container)
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
