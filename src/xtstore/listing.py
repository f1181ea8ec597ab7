"""Turn a sorted stream of blob names into a ``list_blobs`` result (docs/contract.md §1,
"list_blobs").

Providers that can enumerate their blobs in name order (a dict, a folder walk, a flat object
listing) hand the entries here with the canonical list path, and get back exactly the contract's
answer: the blobs under the path, and for ``recursive=False`` the blobs directly under it plus
each child folder once, as ``"a/b/"``.

The canonical ``path`` is ``""`` (whole container), ``"foo/"`` (the folder ``foo``, never
``foobar``) or ``"foo*"`` (the raw name prefix ``foo``: ``foo/x`` and ``foobar``). A child folder
is the name cut after the first ``/`` that follows the prefix, as with S3's delimiter listing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import TypeVar

from xtstore.values import BlobInfo

__all__ = [
    "as_result",
    "base_folder",
    "iter_infos",
    "iter_names",
    "list_prefix",
    "select",
    "sorted_result",
]

_Entry = TypeVar("_Entry")


def list_prefix(path: str | None) -> str:
    """The raw name prefix every result of ``path`` starts with (``"foo*"`` → ``"foo"``)."""
    if not path:
        return ""
    return path[:-1] if path.endswith("*") else path


def base_folder(path: str | None) -> str:
    """The deepest folder (``""`` or ending in ``/``) that holds every result of ``path``:
    where a provider with real folders starts its walk."""
    prefix = list_prefix(path)
    return prefix[: prefix.rfind("/") + 1]


def iter_names(names: Iterable[str], path: str | None, recursive: bool) -> Iterator[str]:
    """The names of ``list_blobs(container, path, recursive=recursive)``, given every blob name
    of the container (or at least those under ``path``) in sorted order. Folder entries end
    with ``/``."""
    return _under(names, path, recursive, _same_name, _same_name)


def iter_infos(
    infos: Iterable[BlobInfo], path: str | None, recursive: bool
) -> Iterator[BlobInfo]:
    """Like :func:`iter_names` for :class:`BlobInfo` entries (sorted by name); folder entries
    are ``BlobInfo(name="a/b/", is_dir=True)``."""
    return _under(infos, path, recursive, attrgetter("name"), _folder_info)


def _under(
    entries: Iterable[_Entry],
    path: str | None,
    recursive: bool,
    name_of: Callable[[_Entry], str],
    folder_entry: Callable[[str], _Entry],
) -> Iterator[_Entry]:
    """The entries under ``path``, from entries sorted by ``name_of``; for ``recursive=False``
    the entries inside a child folder give way to one ``folder_entry("a/b/")``."""
    prefix = list_prefix(path)
    start = len(prefix)
    last_folder = None
    for entry in entries:
        name = name_of(entry)
        if not name.startswith(prefix):
            continue
        if recursive:
            yield entry
            continue
        cut = name.find("/", start)
        if cut < 0:
            yield entry
            continue
        folder = name[: cut + 1]
        if folder != last_folder:
            last_folder = folder
            yield folder_entry(folder)


def _same_name(name: str) -> str:
    return name


def _folder_info(folder: str) -> BlobInfo:
    return BlobInfo(name=folder, is_dir=True)


def select(
    infos: Iterable[BlobInfo], path: str | None, *, return_names: bool, recursive: bool
) -> list[str] | list[BlobInfo]:
    """The complete ``list_blobs`` result from sorted :class:`BlobInfo` entries."""
    return as_result(iter_infos(infos, path, recursive), return_names=return_names)


def as_result(entries: Iterable[BlobInfo], *, return_names: bool) -> list[str] | list[BlobInfo]:
    """``list_blobs``'s return value from finished entries: names, or the entries."""
    if return_names:
        return [entry.name for entry in entries]
    return list(entries)


def sorted_result(
    entries: Iterable[BlobInfo], *, return_names: bool
) -> list[str] | list[BlobInfo]:
    """Like :func:`as_result`, sorting first: for stores whose pages give folders and blobs
    apart (Azure's and S3's delimiter listings)."""
    return as_result(sorted(entries, key=lambda entry: entry.name), return_names=return_names)
