"""``sync SOURCE DEST`` (make DEST match SOURCE, as ``rclone sync``) and ``check SOURCE DEST``
(report how they differ, as ``rclone check``): local <-> store, store <-> store, across
services (docs/cli.md "sync", "check")."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping

import click

from xtstore.cli.context import CliState, get_state
from xtstore.cli.options import (
    checksum_option,
    dry_run_option,
    fail_fast_option,
    filter_options,
    path_filter,
    progress_option,
    skip_invalid_option,
    workers_option,
)
from xtstore.cli.output import emit_json
from xtstore.cli.plan import Copy, Plan, compare, plan, undecided
from xtstore.cli.progress import make_progress
from xtstore.cli.report import Outcome, Planned, finish, show_plan
from xtstore.cli.tree import Entry, Side, blob_entry, complete, hash_entries, list_side, open_side
from xtstore.errors import IntegrityError
from xtstore.fingerprints import HASH_PREFERENCE, comparable, file_digest
from xtstore.interface import ProgressCallback
from xtstore.localfiles.atomic import atomic_local_path
from xtstore.transfer import (
    DEFAULT_WORKERS,
    Transfer,
    TransferInterrupted,
    copy_transfer,
    download_with_properties,
    run_transfers,
    upload_transfer,
    workers_for,
)

__all__ = ["COMMANDS"]

MAX_UNASKED_DELETES = 100
"""More deletions than this, or more than HALF_GUARD_MIN that are over half of DEST's files,
need ``--yes`` off a terminal, or a "yes" on one."""
HALF_GUARD_MIN = 10



def _sides(state: CliState, source: str, dest: str) -> tuple[Side, Side]:
    source_side = open_side(state, source, "SOURCE")
    dest_side = open_side(state, dest, "DEST", source_side)
    if source_side.local and dest_side.local:
        raise click.UsageError("SOURCE and DEST are both local paths: one of them must be a "
                               "store address ([service:]container[/path])")
    if source_side.same_place(dest_side):
        raise click.UsageError("SOURCE and DEST overlap (one is inside the other): a sync "
                               "between them would copy onto its own source")
    return source_side, dest_side


def _read_properties(source: Side, dest: Side, source_entries: dict[str, Entry],
                     dest_entries: dict[str, Entry], checksum: bool
                     ) -> tuple[dict[str, Entry], dict[str, Entry]]:
    paths = undecided(source_entries, dest_entries, checksum=checksum)
    return complete(source, source_entries, paths), complete(dest, dest_entries, paths)


def _hash_pairs(source: Side, dest: Side, source_entries: dict[str, Entry],
                dest_entries: dict[str, Entry], *, download: bool = False
                ) -> tuple[dict[str, Entry], dict[str, Entry], Counter[str]]:
    """Both sides with a common digest for every pair of equal size, reading a side's bytes
    only where no stored hash will do (``download``: reading both, whatever is stored).
    Returns the entries and how many files of each side (``"source"``, ``"dest"``) were
    read."""
    groups: dict[tuple[str, bool, bool], list[str]] = {}
    for path, entry in source_entries.items():
        other = dest_entries.get(path)
        if other is None or other.size != entry.size:
            continue
        choice = ("md5", True, True) if download else comparable(entry.checksums,
                                                                 other.checksums)
        groups.setdefault(choice, []).append(path)
    read: Counter[str] = Counter()
    for (algorithm, read_source, read_dest), paths in groups.items():
        if read_source:
            source_entries = hash_entries(source, source_entries, paths, algorithm)
            read["source"] += len(paths)
        if read_dest:
            dest_entries = hash_entries(dest, dest_entries, paths, algorithm)
            read["dest"] += len(paths)
    return source_entries, dest_entries, read


def _listed(state: CliState, source: str, dest: str, include: tuple[str, ...],
            exclude: tuple[str, ...], *, by: str
            ) -> tuple[Side, Side, dict[str, Entry], dict[str, Entry], Counter[str]]:
    """Both sides listed, with what comparing them ``by`` ``"time"`` (size and mtime),
    ``"hash"`` (size and the cheapest common hash), ``"size"`` or ``"download"`` (size, then
    both sides read and hashed) needs read first; and how many files were read to hash."""
    selected = path_filter(include, exclude)
    source_side, dest_side = _sides(state, source, dest)
    source_entries = list_side(source_side, selected)
    dest_entries = list_side(dest_side, selected)
    read: Counter[str] = Counter()
    if by in ("time", "hash"):
        source_entries, dest_entries = _read_properties(source_side, dest_side, source_entries,
                                                        dest_entries, by == "hash")
    if by in ("hash", "download"):
        source_entries, dest_entries, read = _hash_pairs(
            source_side, dest_side, source_entries, dest_entries, download=by == "download")
    return source_side, dest_side, source_entries, dest_entries, read


# ---- sync ----


def _download(source: Side, entry: Entry, dest_fn: str, checksum: bool
              ) -> Callable[[ProgressCallback], None]:
    """A download installed whole with the blob's mtime; with ``checksum`` the file is
    hashed under its temporary name and installed only if it matches the blob's stored
    hash."""
    store = source.store
    assert store is not None

    def action(progress: ProgressCallback) -> None:
        known = entry
        with atomic_local_path(dest_fn) as temp:
            if known.complete:
                # The entry has the mtime and hashes already: the download need not read
                # the blob's properties (docs/contract.md, "get_blob_to_path returns").
                store.get_blob_to_path(source.container, entry.ref, temp,
                                       progress_callback=progress, properties=False)
            else:
                # The kept mtime and the hashes, from the download itself where it gives them.
                properties = download_with_properties(store, source.container, entry.ref,
                                                      temp, progress)
                if properties is not None:
                    known = blob_entry(properties, entry.ref, entry.precision_ns)
            algorithm = next((name for name in HASH_PREFERENCE if name in known.checksums),
                             None)
            if checksum and algorithm is not None:
                got = file_digest(temp, algorithm)
                if got != known.checksums[algorithm]:
                    raise IntegrityError(
                        f"the downloaded bytes' {algorithm} is {got}, the blob's is "
                        f"{known.checksums[algorithm]}: not installed",
                        service=store.get_service_name(), container=source.container,
                        blob=entry.ref, algorithm=algorithm)
            os.utime(temp, ns=(known.mtime_ns, known.mtime_ns))

    return action


def _upload(dest: Side, entry: Entry, blob: str, checksum: bool) -> Transfer:
    assert dest.store is not None
    store = dest.store
    keep = store.capabilities().create_metadata
    if not (checksum and keep):
        return upload_transfer(store, dest.container, blob, entry.ref, entry.size,
                               keep_mtime=keep, mtime_ns=entry.mtime_ns)

    def action(progress: ProgressCallback) -> None:
        digest = entry.checksums.get("sha256") or file_digest(entry.ref, "sha256")
        upload_transfer(store, dest.container, blob, entry.ref, entry.size, keep_mtime=True,
                        mtime_ns=entry.mtime_ns, sha256=digest).action(progress)

    return Transfer(blob, entry.size, action)


def _copies(source: Side, dest: Side, source_entries: Mapping[str, Entry], copies: list[Copy],
            checksum: bool) -> list[Transfer]:
    transfers = []
    for copy in copies:
        entry = source_entries[copy.path]
        target = dest.ref(copy.path)
        if dest.store is None:
            transfers.append(Transfer(target, entry.size,
                                      _download(source, entry, target, checksum)))
        elif source.store is None:
            transfers.append(_upload(dest, entry, target, checksum))
        else:
            transfers.append(copy_transfer(source.store, source.container, entry.ref,
                                           dest.store, dest.container, target, entry.size))
    return transfers


def _deletions(dest: Side, dest_entries: Mapping[str, Entry], paths: list[str]
               ) -> list[Transfer]:
    store = dest.store

    def remover(ref: str) -> Callable[[ProgressCallback], None]:
        if store is None:
            return lambda progress: os.unlink(ref)
        return lambda progress: store.delete_blob(dest.container, ref)

    return [Transfer(dest.show(path), 0, remover(dest_entries[path].ref)) for path in paths]


def _is_whole(side: Side) -> bool:
    """A container root, the file system's root or the home folder."""
    if side.store is not None:
        return side.root == ""
    where = os.path.realpath(side.root)
    return where in (os.path.realpath(os.sep), os.path.realpath(os.path.expanduser("~")))


def _guard_deletes(dest: Side, deletes: list[str], dest_count: int, yes: bool) -> None:
    """Refuse (off a terminal) or ask (on one) before deletions that may not be what was
    meant: any in a whole container or home folder, more than MAX_UNASKED_DELETES, or more
    than half of DEST's files when that is more than HALF_GUARD_MIN (a SOURCE typed wrong
    empties DEST otherwise)."""
    if not deletes or yes:
        return
    reasons = []
    if _is_whole(dest):
        reasons.append("DEST is a whole container" if dest.store is not None
                       else "DEST is the root or home folder")
    many = len(deletes) > HALF_GUARD_MIN and 2 * len(deletes) > dest_count
    if len(deletes) > MAX_UNASKED_DELETES or many:
        reasons.append(f"that is {len(deletes)} of the {dest_count} files there")
    if not reasons:
        return
    shown = ", ".join(repr(path) for path in deletes[:3]) + (", ..." if len(deletes) > 3 else "")
    question = f"--delete would remove {len(deletes)} files from '{dest.text}' ({shown}); " \
               f"{' and '.join(reasons)}"
    if sys.stdin.isatty() and sys.stderr.isatty():
        click.confirm(f"{question}. Delete them?", abort=True, err=True)
        return
    raise click.ClickException(f"{question}: see them with --dry-run, delete them with --yes")


def _checked_names(dest: Side, copies: list[Copy], skip_invalid: bool) -> list[Copy]:
    """The copies whose DEST names are valid blob names (:func:`checked_blob_names`: the
    same rule and words as ``upload``)."""
    if dest.store is None or not copies:
        return copies
    from xtstore.cli.resolve import checked_blob_names  # only with something to copy

    pairs = [(copy.path, dest.ref(copy.path), copy) for copy in copies]
    return [copy for _, _, copy in checked_blob_names(pairs, dest.container, skip_invalid)]


def _planned(source: Side, dest: Side, actions: Plan) -> list[Planned]:
    """The plan as ``--dry-run`` prints it (report.show_plan, as for upload, cp and mv)."""
    return [
        *(Planned("copy", dest.show(copy.path), source.show(copy.path), copy.size, copy.reason)
          for copy in actions.copies),
        *(Planned("delete", dest.show(path)) for path in actions.deletes),
    ]


@click.command("sync")
@click.argument("source", metavar="SOURCE")
@click.argument("dest", metavar="DEST")
@click.option("--delete", is_flag=True,
              help="Delete files on DEST that SOURCE lacks (never without it; files the "
                   "filters exclude are kept).")
@click.option("--yes", "-y", is_flag=True,
              help="Delete without asking, also in a whole container, more than 100 files or "
                   "more than half of DEST (over 10).")
@dry_run_option
@checksum_option
@filter_options
@skip_invalid_option
@fail_fast_option
@progress_option
@workers_option
def sync_command(source: str, dest: str, delete: bool, yes: bool, dry_run: bool,
                 checksum: bool, include: tuple[str, ...], exclude: tuple[str, ...],
                 skip_invalid: bool, fail_fast: bool, progress: bool,
                 workers: int | None) -> None:
    """Make DEST match SOURCE (as rclone sync).

    DEST is the folder itself, so running it again copies nothing.

    SOURCE and DEST are each a local path or [service:]container[/path] (one of them a
    store; a path starting with '/', '.' or '~', or naming an existing local file or folder,
    is local). Files whose size and modification
    time match are skipped (their content hashes with --checksum); modification times are
    kept on the store in the 'mtime' metadata. --delete removes what SOURCE lacks.
    """
    state = get_state()
    started = time.monotonic()
    source_side, dest_side, source_entries, dest_entries, _ = _listed(
        state, source, dest, include, exclude, by="hash" if checksum else "time")
    actions = plan(source_entries, dest_entries, checksum=checksum, delete=delete)
    actions = actions._replace(copies=_checked_names(dest_side, actions.copies, skip_invalid))
    if dry_run:
        show_plan(_planned(source_side, dest_side, actions), skipped=len(actions.skips),
                  as_json=state.json, quiet=state.quiet)
        return
    _guard_deletes(dest_side, actions.deletes, len(dest_entries), yes)
    transfers = _copies(source_side, dest_side, source_entries, actions.copies, checksum)
    outcome = Outcome("synced", skipped=len(actions.skips), planned=len(transfers))
    sink = make_progress("syncing", quiet=(state.quiet or state.json) and not progress,
                         forced=progress)
    try:
        if transfers:
            outcome.summary = run_transfers(
                transfers, workers=workers_for(
                    workers, [side.store for side in (source_side, dest_side)
                              if side.store is not None], transfers),
                progress=sink, keep_going=not fail_fast)
        if actions.deletes and outcome.summary.failures:
            click.echo(f"xtstore: not deleting {len(actions.deletes)} files on DEST: "
                       f"{len(outcome.summary.failures)} copies failed", err=True)
        elif actions.deletes:
            removed = run_transfers(_deletions(dest_side, dest_entries, actions.deletes),
                                    workers=workers or DEFAULT_WORKERS, keep_going=True)
            outcome.deleted = removed.files
            outcome.failures.extend(removed.failures)
    except TransferInterrupted as stopped:
        if not outcome.summary.files and not outcome.summary.failures:
            outcome.summary = stopped.summary
        outcome.interrupted = True
    # The whole command's time, listings included: a re-run that copies nothing still took it.
    outcome.summary.seconds = time.monotonic() - started
    code = finish(outcome, as_json=state.json, quiet=state.quiet)
    if code:
        raise click.exceptions.Exit(code)


# ---- check ----


@click.command("check")
@click.argument("source", metavar="SOURCE")
@click.argument("dest", metavar="DEST")
@click.option("--size-only", is_flag=True, help="Compare sizes only, no hashes.")
@click.option("--download", is_flag=True,
              help="Read both sides' bytes to hash them, whatever hashes are stored.")
@filter_options
def check_command(source: str, dest: str, size_only: bool, download: bool,
                  include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Report how DEST differs from SOURCE (as rclone check).

    Files missing on either side and files whose sizes or content hashes differ; exit 1 if
    any.

    Hashes are the stores' own (MD5, CRC32C) or the SHA-256 an upload with --checksum kept
    in metadata; where one side has none, its bytes are read to hash them (said in the
    summary). SOURCE and DEST are as in sync.
    """
    if size_only and download:
        raise click.UsageError("--size-only and --download exclude each other")
    state = get_state()
    by = "size" if size_only else "download" if download else "hash"
    _, _, source_entries, dest_entries, read = _listed(state, source, dest, include, exclude,
                                                       by=by)
    found = compare(source_entries, dest_entries, size_only=size_only)
    if state.json:
        emit_json({"matching": len(found.matching), "missing_on_dest": found.missing_on_dest,
                   "missing_on_source": found.missing_on_source, "differ": found.differ,
                   "read": dict(read)})
    else:
        for label, paths in (("missing on DEST", found.missing_on_dest),
                             ("missing on SOURCE", found.missing_on_source),
                             ("differ", found.differ)):
            for path in paths:
                click.echo(f"{label}: {path}")
    if not state.quiet and not state.json:
        how = "sizes only" if size_only else "sizes and hashes"
        if read:
            how += "; read to hash: " + ", ".join(
                f"{count} on {side.upper()}" for side, count in sorted(read.items(),
                                                                      reverse=True))
        click.echo(f"xtstore: check: {len(found.matching)} matching, "
                   f"{len(found.missing_on_dest)} missing on DEST, "
                   f"{len(found.missing_on_source)} missing on SOURCE, {len(found.differ)} "
                   f"differ ({how})", err=True)
    if not found.clean:
        raise click.exceptions.Exit(1)


COMMANDS = [sync_command, check_command]
