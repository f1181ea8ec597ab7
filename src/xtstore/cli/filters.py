"""``--include`` / ``--exclude``: which files or blobs a command takes (docs/cli.md "Filters").

Patterns follow gitignore's shape, matched by ``wcmatch`` against the path *relative to the
source* ('/'-separated): ``*`` and ``?`` stay within a folder, ``**`` spans folders, ``[a-z]``
and ``{csv,parquet}`` work as in a shell. A pattern without a '/' matches a name at any depth
(``*.log``); one with a '/' is anchored at the source (``ckpt/*.pt``, or ``/ckpt/*.pt``); one
ending in '/' matches a folder and everything in it (``tmp/``). A path is taken when it matches
some ``--include`` (or none was given) and no ``--exclude``: the order of the options does not
matter.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["PathFilter", "translate"]


def translate(pattern: str) -> str:
    """The wcmatch glob for one gitignore-style ``pattern``."""
    folder = pattern.endswith("/")
    body = pattern.strip("/") if folder else pattern
    anchored = pattern.startswith("/") or "/" in body
    body = body.lstrip("/")
    if not body:
        raise ValueError(f"{pattern!r} is not a pattern: it matches no name")
    glob = body if anchored else f"**/{body}"
    return f"{glob}/**" if folder else glob


class PathFilter(NamedTuple):
    """The ``--include`` and ``--exclude`` patterns of one command."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> PathFilter:
        """A filter of the given patterns. Raises ``ValueError`` naming a pattern that
        matches nothing ('' or '/')."""
        selected = cls(tuple(include), tuple(exclude))
        for pattern in (*selected.include, *selected.exclude):
            translate(pattern)
        return selected

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude)

    def accepts(self, relative: str) -> bool:
        """Whether the command takes the file or blob at ``relative`` (below the source)."""
        if not self.active:
            return True
        included, excluded = _matchers(self.include, self.exclude)
        if included is not None and not included.match(relative):
            return False
        return not (excluded is not None and excluded.match(relative))


class _Matcher:
    """Patterns compiled once: ``match(path)``. wcmatch is imported here, so a command given
    no pattern never loads it."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        from wcmatch import glob

        flags = glob.GLOBSTAR | glob.BRACE | glob.DOTGLOB | glob.EXTGLOB
        self._compiled = glob.compile([translate(pattern) for pattern in patterns], flags=flags)

    def match(self, relative: str) -> bool:
        return bool(self._compiled.match(relative))


@functools.lru_cache(maxsize=32)
def _matchers(include: tuple[str, ...], exclude: tuple[str, ...]
              ) -> tuple[_Matcher | None, _Matcher | None]:
    return (_Matcher(include) if include else None, _Matcher(exclude) if exclude else None)
