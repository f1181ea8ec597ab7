"""Wildcards for addresses and local paths: ``*`` and ``?`` stay within one path segment,
``**`` spans any number of segments. A pattern matches a name, or a folder that holds it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from operator import attrgetter
from typing import NamedTuple

__all__ = ["Pattern", "dir_key", "has_magic", "split_pattern", "walk_local",
           "walk_local_entries"]

_MAGIC = re.compile(r"[*?]")


def has_magic(text: str) -> bool:
    """True if ``text`` contains a wildcard character."""
    return _MAGIC.search(text) is not None


def _segment_regex(segment: str) -> str:
    out = []
    for char in segment:
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _translate(pattern: str) -> re.Pattern[str]:
    parts = pattern.split("/")
    regex = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex.append(".*" if last else "(?:[^/]+/)*")
        else:
            regex.append(_segment_regex(part) + ("" if last else "/"))
    return re.compile("".join(regex), re.DOTALL)


class Pattern(NamedTuple):
    """A wildcard pattern relative to a literal ``base`` folder ("" for the top)."""

    base: str
    rest: str

    @property
    def regex(self) -> re.Pattern[str]:
        return _translate(self.rest)

    @property
    def max_depth(self) -> int | None:
        """How many segments below ``base`` a direct match can have (None with ``**``)."""
        return None if "**" in self.rest else self.rest.count("/") + 1

    def match(self, relative: str) -> str | None:
        """The part of ``relative`` (a name below ``base``) the pattern matched: the whole
        name, or the folder prefix holding it. None when it does not match."""
        regex = self.regex
        if regex.fullmatch(relative):
            return relative
        segments = relative.split("/")
        for end in range(1, len(segments)):
            prefix = "/".join(segments[:end])
            if regex.fullmatch(prefix):
                return prefix
        return None


def split_pattern(path: str) -> Pattern:
    """Split ``path`` at its first segment with a wildcard: ``run1/**/*.log`` gives base
    ``run1`` and rest ``**/*.log``."""
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if has_magic(segment):
            return Pattern("/".join(segments[:index]), "/".join(segments[index:]))
    return Pattern(path, "")


def dir_key(path: str) -> tuple[int, int]:
    """What identifies a folder however it is reached (symlinks included)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def walk_local(root: str) -> Iterator[str]:
    """Every file below ``root`` as a '/'-separated relative path, sorted. Symlinked folders
    are followed, except one that leads back to a folder being walked (a loop)."""
    return (relative for relative, _ in walk_local_entries(root))


def walk_local_entries(root: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """:func:`walk_local` with each file's scan entry (its ``path``, and a ``stat()`` that
    follows symlinks as ``os.stat`` does, made once)."""

    def walk(folder: str, prefix: str, ancestors: frozenset[tuple[int, int]]
             ) -> Iterator[tuple[str, os.DirEntry[str]]]:
        try:
            entries = sorted(os.scandir(folder), key=_entry_name)
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.is_dir():
                key = dir_key(entry.path)
                if key not in ancestors:
                    yield from walk(entry.path, f"{prefix}{entry.name}/", ancestors | {key})
            elif entry.is_file():
                yield prefix + entry.name, entry

    yield from walk(root, "", frozenset({dir_key(root)}))


_entry_name = attrgetter("name")
