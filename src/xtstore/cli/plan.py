"""What ``sync`` does and what ``check`` reports, decided from the two listings alone: pure
functions, no I/O (docs/cli.md "sync").

A file is unchanged when its size and modification time match: times are compared at the
coarser of the two sides' precisions (a local file on ext4/xfs/btrfs, store-file's blobs and
an ``mtime`` in metadata keep nanoseconds; Azure's and S3's ``last_modified`` keep seconds,
GCS's milliseconds, taken as seconds, so both times are cut to the second there). A
destination blob with no ``mtime`` metadata counts as unchanged when it was written
(``last_modified``) at or after the source's modification time, compared exactly: a
``last_modified`` cut to the second is never later than the write, so a file changed in the
second of its upload is copied again rather than missed. With ``checksum`` the content
hashes decide instead of times, so a change that kept the size and the time is caught.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from xtstore.cli.tree import Entry
from xtstore.fingerprints import HASH_PREFERENCE

__all__ = ["Comparison", "Copy", "Plan", "common_hash", "compare", "plan", "same_time",
           "undecided"]


class Copy(NamedTuple):
    """A file to copy and why: ``missing`` on DEST, its ``size``, its ``time`` or its
    ``checksum`` differs."""

    path: str
    size: int
    reason: str


class Plan(NamedTuple):
    copies: list[Copy]
    skips: list[str]
    deletes: list[str]


def same_time(first: Entry, second: Entry) -> bool:
    """Whether two modification times are equal at the coarser side's precision."""
    step = max(first.precision_ns, second.precision_ns)
    return first.mtime_ns // step == second.mtime_ns // step


def _unchanged_by_time(source: Entry, dest: Entry) -> bool:
    if dest.stated:
        return same_time(source, dest)
    # Written at or after the source's time: the copy of that version (or a later one).
    # Compared exactly: a last_modified cut to the second is at most the true write time, so
    # a write in the same second as the change is taken as before it (copied again, safely).
    return dest.mtime_ns >= source.mtime_ns


def common_hash(source: Entry, dest: Entry) -> str | None:
    """The algorithm both entries have a digest of, the cheapest first."""
    for algorithm in HASH_PREFERENCE:
        if algorithm in source.checksums and algorithm in dest.checksums:
            return algorithm
    return None


def _difference(source: Entry, dest: Entry, checksum: bool) -> str | None:
    if source.size != dest.size:
        return "size"
    if checksum:
        algorithm = common_hash(source, dest)
        if algorithm is None or source.checksums[algorithm] != dest.checksums[algorithm]:
            return "checksum"
        return None
    return None if _unchanged_by_time(source, dest) else "time"


def undecided(source: Mapping[str, Entry], dest: Mapping[str, Entry], *,
              checksum: bool = False) -> list[str]:
    """The paths on both sides with equal sizes where an entry's metadata was not read and
    may decide: its stated mtime, or (``checksum``, when the listings gave no common hash)
    the SHA-256 kept there."""
    found = []
    for path, entry in source.items():
        other = dest.get(path)
        if other is None or other.size != entry.size or (entry.complete and other.complete):
            continue
        if checksum and common_hash(entry, other) is not None:
            continue
        found.append(path)
    return found


def plan(source: Mapping[str, Entry], dest: Mapping[str, Entry], *, checksum: bool = False,
         delete: bool = False) -> Plan:
    """What makes ``dest`` match ``source``: a copy of each file that is missing or differs,
    a skip of each that matches, and with ``delete`` a deletion of each ``dest`` entry that
    ``source`` lacks (both listings went through the same filter, so a path the filter
    excludes is on neither and never deleted)."""
    result = Plan([], [], [])
    for path in sorted(source):
        entry = source[path]
        other = dest.get(path)
        reason = "missing" if other is None else _difference(entry, other, checksum)
        if reason is None:
            result.skips.append(path)
        else:
            result.copies.append(Copy(path, entry.size, reason))
    if delete:
        result.deletes.extend(sorted(path for path in dest if path not in source))
    return result


class Comparison(NamedTuple):
    """``check``'s findings, each a sorted list of relative paths."""

    matching: list[str]
    missing_on_dest: list[str]
    missing_on_source: list[str]
    differ: list[str]

    @property
    def clean(self) -> bool:
        return not (self.missing_on_dest or self.missing_on_source or self.differ)


def compare(source: Mapping[str, Entry], dest: Mapping[str, Entry], *,
            size_only: bool = False) -> Comparison:
    """Sizes, then (unless ``size_only``) the content hash both sides have: a pair with no
    common hash differs (the caller hashes what it must first)."""
    result = Comparison([], [], [], [])
    for path in sorted(source.keys() | dest.keys()):
        if path not in dest:
            result.missing_on_dest.append(path)
        elif path not in source:
            result.missing_on_source.append(path)
        elif source[path].size != dest[path].size or (
                not size_only and _difference(source[path], dest[path], True) is not None):
            result.differ.append(path)
        else:
            result.matching.append(path)
    return result
