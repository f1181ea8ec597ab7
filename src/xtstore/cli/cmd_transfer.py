"""``upload``, ``download``, ``cp`` and ``mv``: many files in parallel with one progress report
(docs/cli.md "upload, download, cp, mv").

Every command plans first and moves after: the sources are listed (``--include`` /
``--exclude`` applied there), the destination container and every destination name checked,
files the destination already has set aside (``--skip-existing`` / ``--update``); only then
does the batch run, past failed files unless ``--fail-fast``, and end in one summary.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import click

from xtstore.cli.address import Address
from xtstore.cli.cmd_blobs import blob_address, write_blob_to_stdout
from xtstore.cli.context import CliState, get_state, parse_address_arg
from xtstore.cli.options import (
    dry_run_option,
    fail_fast_option,
    filter_options,
    path_filter,
    progress_option,
    skip_invalid_option,
    workers_option,
)
from xtstore.cli.progress import make_progress
from xtstore.cli.report import Outcome, Planned, finish, show_plan
from xtstore.cli.resolve import (
    Item,
    Selection,
    checked_blob_names,
    join_path,
    list_below,
    remote_folder_exists,
    resolve_local,
    resolve_remote,
    target_path,
)
from xtstore.content_types import is_content_type
from xtstore.errors import ContainerNotFound
from xtstore.transfer import (
    BandwidthLimit,
    Transfer,
    TransferInterrupted,
    TransferSummary,
    copy_transfer,
    download_transfer,
    move_transfer,
    run_transfers,
    upload_transfer,
    workers_for,
)

if TYPE_CHECKING:
    from xtstore.store import Store
    from xtstore.values import BlobInfo

__all__ = ["COMMANDS", "MissingDestination", "parse_rate"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_STDIN_CHUNK = 1024 * 1024

_RESUMES = "running it again with --skip-existing, or 'xtstore sync', resumes"

_RATE = re.compile(r"(\d+(?:\.\d*)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_rate(text: str) -> int:
    """Bytes a second for ``--bwlimit``: a number with an optional binary unit (``512K``,
    ``10M``, ``1.5MiB``, ``1G``; no unit: bytes). Raises ``ValueError``."""
    found = _RATE.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a rate: give bytes a second, e.g. 512K or 10M")
    rate = int(float(found.group(1)) * _UNITS[found.group(2).lower()])
    if rate <= 0:
        raise ValueError(f"{text!r} is not a rate above zero")
    return rate


def _rate(context: click.Context, parameter: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_rate(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _content_type(context: click.Context, parameter: click.Parameter,
                  value: str | None) -> str | None:
    if value is not None and not is_content_type(value):
        raise click.BadParameter(
            f"{value!r} is not a content type ('type/subtype', optionally '; parameters',"
            " in printable ASCII)")
    return value


def _batch_options(function: F) -> F:
    """The options every transfer command shares (docs/cli.md)."""
    for option in reversed([
        click.option("-r", "--recursive", is_flag=True, expose_value=False,
                     help="Accepted for aws/gsutil/azcopy habits; folders are always copied "
                          "with everything in them."),
        workers_option,
        click.option("--skip-existing", is_flag=True,
                     help="Leave alone every file the destination already has."),
        click.option("--update", "-u", is_flag=True,
                     help="Leave alone every file whose destination copy is as new or newer "
                          "(same modification time or later)."),
        skip_invalid_option,
        click.option("--bwlimit", metavar="RATE", callback=_rate,
                     help="Limit the bandwidth of the whole command to RATE bytes a second "
                          "(binary units: 512K, 10M, 1G)."),
        dry_run_option,
        fail_fast_option,
        progress_option,
        filter_options,
    ]):
        function = option(function)
    return function


@dataclass
class _Batch:
    """What a command plans to do: transfers with their dry-run lines, and the files set
    aside."""

    verb: str
    doing: str
    """The progress report's verb (``uploading``)."""
    dry_run: bool = False
    """Whether the plan is only shown: its lines (``actions``) are made only then."""
    transfers: list[Transfer] = field(default_factory=list)
    actions: list[Planned] = field(default_factory=list)
    skipped: int = 0
    moves: bool = False

    def add(self, transfer: Transfer, shown: Callable[[], tuple[str, str]]) -> None:
        """Plan ``transfer``; ``shown()`` gives its source and destination as a dry run
        prints them (asked only for one: thousands of small files pay for no lines)."""
        self.transfers.append(transfer)
        if self.dry_run:
            source, dest = shown()
            self.actions.append(Planned("copy", dest, source, transfer.size))
            if self.moves:
                self.actions.append(Planned("delete", source))


@dataclass(frozen=True)
class _Flags:
    """The options of a transfer command that shape its plan and run."""

    skip_existing: bool
    update: bool
    skip_invalid: bool
    dry_run: bool
    fail_fast: bool
    progress: bool
    bwlimit: int | None
    workers: int | None

    @property
    def reuse(self) -> bool:
        """A destination that holds the source's copy is that copy (no nesting)."""
        return self.skip_existing or self.update


def _plain_destination(text: str) -> Address:
    address = parse_address_arg(text, "DEST")
    if address.has_wildcard:
        raise click.BadParameter("a destination cannot contain wildcards", param_hint="DEST")
    return address


def _remote(address: Address, blob: str) -> str:
    """How a blob is shown: ``[service:]container/blob``, as the user wrote the address."""
    return str(Address(address.service, address.container, blob))


class MissingDestination(ContainerNotFound, click.ClickException):
    """The destination container is missing: a ``ContainerNotFound`` whose one-line message
    says how to create it (click prints it as it is)."""

    def __init__(self, store: Store, address: Address) -> None:
        ContainerNotFound.__init__(self, "container not found",
                                   service=store.get_service_name(),
                                   container=address.container)
        service = f"{address.service}:" if address.service else ""
        self.message = (f"{self} (create it with 'xtstore containers create "
                        f"{service}{address.container}')")


def _require_container(store: Store, address: Address) -> None:
    """Fail before anything moves when the destination container is missing."""
    if not store.does_container_exist(address.container):
        raise MissingDestination(store, address)


def _into(sources: tuple[str, ...], selection: Selection, dest_text: str, *, dest_folder: bool,
          exists_as_folder: bool, dest_name: str, reuse: bool) -> bool:
    """``cp -r`` naming: whether the sources go *into* DEST by name (else the one source
    becomes DEST). Refuses the silent nest of a re-run: one folder source whose copy DEST
    already is (an existing folder of the same name, no trailing '/'), unless ``reuse``
    takes DEST as that copy."""
    if len(sources) > 1 or dest_folder:
        return True
    if not exists_as_folder:
        return False
    if selection.kind in ("folder", "container") and selection.name == dest_name:
        if reuse:
            return False
        nested = f"{dest_text.rstrip('/' + os.sep)}/{selection.name}"
        raise click.ClickException(
            f"'{dest_text}' already holds a copy of '{selection.name}' (copying again would "
            f"nest it as {nested}): to update it run 'xtstore sync {sources[0]} {dest_text}', "
            f"to nest on purpose give '{dest_text.rstrip('/')}/'")
    return True


def _blob_mtime(store: Store, container: str, info: BlobInfo) -> int | None:
    """A blob's modification time: its ``mtime`` metadata where the store can keep one (one
    request, unless the store's listings carry metadata), else its ``last_modified``."""
    from xtstore.fingerprints import mtime_ns

    properties = info.properties
    capabilities = store.capabilities()
    if capabilities.create_metadata and not (properties and properties.metadata) and not (
            properties and capabilities.listing_metadata):
        properties = store.get_blob_properties(container, info.name).properties
    return mtime_ns(properties) if properties is not None else None


def _stays(flags: _Flags, source_mtime: Callable[[], int | None],
           dest_mtime: Callable[[], int | None] | None) -> bool:
    """Whether a file is set aside: the destination has it (``dest_mtime`` not None) and
    ``--skip-existing``, or ``--update`` and its copy is as new or newer."""
    if dest_mtime is None:
        return False
    if flags.skip_existing:
        return True
    if flags.update:
        source, dest = source_mtime(), dest_mtime()
        return source is not None and dest is not None and dest >= source
    return False


def _run(state: CliState, batch: _Batch, flags: _Flags, stores: list[Store]) -> None:
    """Run the plan (or print it with ``--dry-run``) and end with the summary's exit code."""
    if flags.dry_run:
        code = show_plan(batch.actions, skipped=batch.skipped, as_json=state.json,
                         quiet=state.quiet)
    else:
        progress = make_progress(batch.doing, quiet=state.quiet or state.json,
                                 forced=flags.progress)
        interrupted = False
        try:
            summary = run_transfers(batch.transfers,
                                    workers=workers_for(flags.workers, stores, batch.transfers),
                                    progress=progress, keep_going=not flags.fail_fast,
                                    bwlimit=flags.bwlimit)
        except TransferInterrupted as stop:
            summary, interrupted = stop.summary, True
        code = finish(Outcome(batch.verb, summary, skipped=batch.skipped,
                              deleted=summary.files if batch.moves else 0,
                              interrupted=interrupted, planned=len(batch.transfers),
                              resumes=_RESUMES),
                      as_json=state.json, quiet=state.quiet)
    if code:
        raise click.exceptions.Exit(code)


def _flags(options: dict[str, Any]) -> _Flags:
    return _Flags(**{name: options[name] for name in _Flags.__dataclass_fields__})


# ---- upload ----


def _upload_stdin(state: CliState, dest: str, content_type: str | None, flags: _Flags) -> None:
    """``upload - DEST``: stdin becomes the one blob DEST, whole or not at all (a broken
    stdin or Ctrl-C leaves the blob as it was), in bounded memory."""
    address = blob_address(dest)
    if address.folder:
        raise click.BadParameter("stdin is uploaded to one blob: give its name, not a "
                                 "folder", param_hint="DEST")
    store = state.store_for(address)
    _require_container(store, address)
    label = _remote(address, address.path)
    # stdin is as new as it gets: --update always uploads it, --skip-existing only if new.
    if flags.skip_existing and store.does_blob_exist(address.container, address.path):
        _run(state, _Batch("uploaded", "uploading", flags.dry_run, skipped=1), flags, [store])
        return
    if flags.dry_run:
        show_plan([Planned("copy", label, "-")], skipped=0, as_json=state.json,
                  quiet=state.quiet)
        return
    limit = BandwidthLimit(flags.bwlimit) if flags.bwlimit is not None else None
    summary = TransferSummary()
    started = time.monotonic()
    stdin = sys.stdin.buffer
    with store.open_blob(address.container, address.path, mode="wb",
                         content_type=content_type) as writer:
        while chunk := stdin.read(_STDIN_CHUNK):
            writer.write(chunk)
            summary.bytes += len(chunk)
            if limit is not None:
                time.sleep(limit.reserve(len(chunk)))
    summary.files, summary.labels = 1, [label]
    summary.seconds = time.monotonic() - started
    code = finish(Outcome("uploaded", summary), as_json=state.json, quiet=state.quiet)
    if code:
        raise click.exceptions.Exit(code)


@click.command("upload", short_help="Upload files and folders (or stdin) to a store.")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...", type=click.Path())
@click.argument("dest", metavar="DEST")
@click.option("--content-type", metavar="TYPE", callback=_content_type,
              help="The content type of every file uploaded [default: guessed from each "
                   "blob's name].")
@_batch_options
def upload_command(sources: tuple[str, ...], dest: str, content_type: str | None,
                   include: tuple[str, ...], exclude: tuple[str, ...],
                   **options: Any) -> None:
    """Upload files and folders to DEST ([service:]container[/path]).

    SOURCE may be a file, a folder (uploaded with everything in it) or a pattern with *, ?
    and ** (quote it); '-' uploads stdin to the one blob DEST. Several sources, DEST ending
    in '/', or an existing DEST folder receive the sources by name; otherwise the one source
    becomes DEST (like cp -r). A folder whose copy DEST already is (same name) is refused
    rather than nested again: run 'xtstore sync', add --skip-existing or --update, or end
    DEST with '/' to nest on purpose. Each blob keeps its file's modification time (metadata
    'mtime') where the store can keep it with the content. Each blob's content type is
    guessed from its name (.csv: text/csv, .parquet: application/vnd.apache.parquet,
    unknown: application/octet-stream) unless --content-type gives one for all.
    """
    state = get_state()
    flags = _flags(options)
    if "-" in sources:
        if len(sources) != 1:
            raise click.UsageError("SOURCE '-' (stdin) must be the only source")
        _upload_stdin(state, dest, content_type, flags)
        return
    filters = path_filter(include, exclude)
    address = _plain_destination(dest)
    store = state.store_for(address)
    _require_container(store, address)
    selections = [resolve_local(source, filters) for source in sources]
    into = _into(sources, selections[0], dest, dest_folder=address.folder,
                 exists_as_folder=remote_folder_exists(store, address),
                 dest_name=address.path.rsplit("/", 1)[-1], reuse=flags.reuse)
    pairs = [(item.ref, join_path(address.path, target_path(selection, item, into)), item)
             for selection in selections for item in selection.items]
    pairs = checked_blob_names(pairs, address.container, flags.skip_invalid)
    existing = list_below(store, address.container, address.path) if flags.reuse else {}
    keep_mtime = store.capabilities().create_metadata
    batch = _Batch("uploaded", "uploading", flags.dry_run)
    for source, blob, item in pairs:
        info = existing.get(blob)
        if info is not None and _stays(flags, partial(_file_mtime, item),
                                       partial(_blob_mtime, store, address.container, info)):
            batch.skipped += 1
            continue
        batch.add(upload_transfer(store, address.container, blob, item.ref, item.size,
                                  content_type=content_type, keep_mtime=keep_mtime,
                                  mtime_ns=item.mtime_ns),
                  partial(_shown, source, address, blob))
    _run(state, batch, flags, [store])


def _sources(state: CliState, texts: tuple[str, ...], include: tuple[str, ...],
             exclude: tuple[str, ...]) -> list[tuple[Address, Store, Selection]]:
    filters = path_filter(include, exclude)
    resolved = []
    for text in texts:
        address = parse_address_arg(text, "SOURCE")
        store = state.store_for(address)
        resolved.append((address, store, resolve_remote(store, address, filters)))
    return resolved


# ---- download ----


@click.command("download", short_help="Download blobs, folders or containers here (or to stdout).")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.argument("dest", metavar="DEST", type=click.Path(file_okay=True, dir_okay=True))
@_batch_options
def download_command(sources: tuple[str, ...], dest: str, include: tuple[str, ...],
                     exclude: tuple[str, ...], **options: Any) -> None:
    """Download blobs, folders or containers to the local path DEST.

    SOURCE is [service:]container[/path], with *, ? and ** allowed in the path (quote it).
    Folders are recreated below DEST with their relative paths; naming follows cp -r, and a
    folder whose copy DEST already is (same name) is refused rather than nested again (see
    upload). Each file gets its blob's modification time (metadata 'mtime', else
    last_modified). DEST '-' writes the one blob SOURCE names to stdout (like cat).
    """
    state = get_state()
    flags = _flags(options)
    if dest == "-":
        if len(sources) != 1:
            raise click.UsageError("DEST '-' (stdout) takes exactly one blob SOURCE")
        address = blob_address(sources[0])
        write_blob_to_stdout(state.store_for(address), address.container, address.path)
        return
    resolved = _sources(state, sources, include, exclude)
    into = _into(sources, resolved[0][2], dest,
                 dest_folder=dest.endswith(("/", os.sep)), exists_as_folder=os.path.isdir(dest),
                 dest_name=os.path.basename(os.path.normpath(dest)), reuse=flags.reuse)
    batch = _Batch("downloaded", "downloading", flags.dry_run)
    from xtstore.fingerprints import mtime_ns as fingerprints_mtime

    for address, store, selection in resolved:
        capabilities = store.capabilities()
        # The mtime metadata comes with the listing where the store lists metadata, else
        # with each download's own response (a HEAD first only where a provider's download
        # returns no properties: transfer.download_transfer).
        in_listing = capabilities.listing_metadata
        read_mtime = capabilities.create_metadata and not in_listing
        for item in selection.items:
            relative = target_path(selection, item, into)
            local = os.path.join(dest, *relative.split("/")) if relative else dest
            # A local copy is looked for only where it may be left alone.
            if flags.reuse and _stays(flags, partial(_item_mtime, store, address.container,
                                                     item), _local_mtime(local)):
                batch.skipped += 1
                continue
            when = None
            if item.properties is not None and not read_mtime:
                when = (fingerprints_mtime(item.properties) if in_listing
                        else item.properties.modified_ns)
            batch.add(download_transfer(store, address.container, item.ref, local, item.size,
                                        mtime_ns=when, read_mtime=read_mtime),
                      partial(_remote_to_local, address, item.ref, local))
    _run(state, batch, flags, [store for _, store, _ in resolved])


def _item_mtime(store: Store, container: str, item: Item) -> int | None:
    from xtstore.values import BlobInfo

    return _blob_mtime(store, container, BlobInfo(item.ref, False, item.properties))


def _file_mtime(item: Item) -> int | None:
    """A local file's modification time, as its listing stated it."""
    return item.mtime_ns


def _shown(source: str, address: Address, blob: str) -> tuple[str, str]:
    return source, _remote(address, blob)


def _remote_to_local(address: Address, blob: str, local: str) -> tuple[str, str]:
    return _remote(address, blob), local


def _local_mtime(path: str) -> Callable[[], int | None] | None:
    """The modification time of the local file at ``path``, or None when there is none."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return None
    return lambda: mtime


# ---- cp / mv ----


def _copy_batch(state: CliState, sources: tuple[str, ...], dest: str, include: tuple[str, ...],
                exclude: tuple[str, ...], flags: _Flags, moves: bool) -> None:
    address = _plain_destination(dest)
    dest_store = state.store_for(address)
    _require_container(dest_store, address)
    resolved = _sources(state, sources, include, exclude)
    into = _into(sources, resolved[0][2], dest, dest_folder=address.folder,
                 exists_as_folder=remote_folder_exists(dest_store, address),
                 dest_name=address.path.rsplit("/", 1)[-1], reuse=flags.reuse)
    existing = list_below(dest_store, address.container, address.path) if flags.reuse else {}
    make = move_transfer if moves else copy_transfer
    batch = (_Batch("moved", "moving", flags.dry_run, moves=True) if moves
             else _Batch("copied", "copying", flags.dry_run))
    pairs = [(_remote(source_address, item.ref),
              join_path(address.path, target_path(selection, item, into)),
              (source_address, source_store, item))
             for source_address, source_store, selection in resolved
             for item in selection.items]
    for source, blob, (source_address, source_store, item) in checked_blob_names(
            pairs, address.container, flags.skip_invalid):
        same = (source_store.get_service_name() == dest_store.get_service_name()
                and source_address.container == address.container and item.ref == blob)
        if moves and same:
            raise click.ClickException(f"'{source}' is its own destination: nothing to move")
        info = existing.get(blob)
        if info is not None and _stays(
                flags, partial(_item_mtime, source_store, source_address.container, item),
                partial(_blob_mtime, dest_store, address.container, info)):
            batch.skipped += 1
            continue
        batch.add(make(source_store, source_address.container, item.ref, dest_store,
                       address.container, blob, item.size),
                  partial(_shown, source, address, blob))
    _run(state, batch, flags, [dest_store, *(store for _, store, _ in resolved)])


@click.command("cp", short_help="Copy blobs, folders or containers, within or between services.")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.argument("dest", metavar="DEST")
@_batch_options
def cp_command(sources: tuple[str, ...], dest: str, include: tuple[str, ...],
               exclude: tuple[str, ...], **options: Any) -> None:
    """Copy blobs, folders or containers to DEST, within a service (server-side) or between
    two services (streamed, no temporary file), keeping metadata and modification times.
    Naming follows cp -r; a folder whose copy DEST already is is refused rather than nested
    again (see upload)."""
    _copy_batch(get_state(), sources, dest, include, exclude, _flags(options), moves=False)


@click.command("mv", short_help="Move blobs, folders or containers (copy, then delete the source).")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.argument("dest", metavar="DEST")
@_batch_options
def mv_command(sources: tuple[str, ...], dest: str, include: tuple[str, ...],
               exclude: tuple[str, ...], **options: Any) -> None:
    """Move blobs, folders or containers to DEST: each blob is copied as cp does (server-side
    within a service) and deleted only once its copy succeeded, so a failed copy deletes
    nothing. Files left alone by --skip-existing or --update stay at the source too."""
    _copy_batch(get_state(), sources, dest, include, exclude, _flags(options), moves=True)


COMMANDS = [upload_command, download_command, cp_command, mv_command]
