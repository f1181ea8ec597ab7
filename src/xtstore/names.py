"""Container and blob naming rules (docs/contract.md §1, "Names"), checked once, before any I/O.

The rules are the intersection of what Azure and S3 accept, so a name that works on one
provider works on all of them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from xtstore.errors import InvalidName

__all__ = [
    "MAX_BLOB_PATH_BYTES",
    "ListPath",
    "normalize_blob_path",
    "parse_list_path",
    "validate_container_name",
]

MAX_BLOB_PATH_BYTES = 1024

_CONTAINER_RE = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")


def validate_container_name(container: object) -> str:
    """Return ``container`` if it is a valid container name, else raise :class:`InvalidName`.

    Valid: 3-63 characters of lowercase letters, digits and single hyphens, starting and ending
    with a letter or digit.
    """
    if not isinstance(container, str):
        raise InvalidName(
            f"container name must be a str, not {type(container).__name__}",
            container=repr(container),
        )
    if not _CONTAINER_RE.fullmatch(container):
        raise InvalidName(
            "invalid container name: use 3-63 lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit",
            container=container,
        )
    return container


def normalize_blob_path(blob_path: object, *, container: str | None = None) -> str:
    """Return the canonical form of a blob path (leading ``/`` dropped) or raise
    :class:`InvalidName`.

    Valid: ``/``-separated segments, none empty, ``.`` or ``..``; no control character
    (U+0000-U+001F, U+007F), U+FFFE, U+FFFF or backslash; at most 1024 bytes of UTF-8.
    """
    if not isinstance(blob_path, str):
        raise _not_a_str(blob_path, "blob path must be a str", container)
    path = blob_path.lstrip("/")
    problem = _blob_path_problem(path)
    if problem:
        raise InvalidName(f"invalid blob path: {problem}", container=container, blob=blob_path)
    return path


def _not_a_str(path: object, rule: str, container: str | None) -> InvalidName:
    # The blob is named by its repr: the error must say what was passed, whatever it is.
    return InvalidName(f"{rule}, not {type(path).__name__}", container=container, blob=repr(path))


def _blob_path_problem(path: str) -> str | None:
    if not path:
        return "it is empty"
    problem = _character_problem(path)
    if problem:
        return problem
    # A code point is at most 4 bytes of UTF-8: most paths need no second encode.
    if len(path) * 4 > MAX_BLOB_PATH_BYTES:
        size = len(path.encode("utf-8"))
        if size > MAX_BLOB_PATH_BYTES:
            return f"it is {size} bytes of UTF-8, more than {MAX_BLOB_PATH_BYTES}"
    wrapped = f"/{path}/"
    if "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped:
        return None  # no empty, '.' or '..' segment: the loop below would find none
    for segment in path.split("/"):
        if segment == "":
            return "it has an empty segment ('//' or a trailing '/')"
        if segment in (".", ".."):
            return f"it has a {segment!r} segment"
    return None


class ListPath(NamedTuple):
    """The meaning of ``list_blobs``'s ``path`` argument.

    ``prefix`` is the raw name prefix every result starts with: ``""`` (whole container),
    ``"foo/"`` (the folder ``foo``) or ``"foo"`` (from ``"foo*"``, which also matches
    ``foobar``). ``canonical`` is the form handed to built-in providers: ``""``, ``"foo/"`` or
    ``"foo*"``.
    """

    prefix: str
    is_raw_prefix: bool

    @property
    def canonical(self) -> str:
        return self.prefix + "*" if self.is_raw_prefix else self.prefix


def parse_list_path(path: object, *, container: str | None = None) -> ListPath:
    """Interpret ``list_blobs``'s ``path``: ``None``/``""``/``"/"`` is the whole container;
    ``"foo"``, ``"foo/"`` and ``"/foo"`` the folder ``foo/``; ``"foo*"`` the raw prefix ``foo``.
    """
    if path is None:
        return ListPath("", False)
    if not isinstance(path, str):
        raise _not_a_str(path, "list path must be a str or None", container)
    raw = path.lstrip("/")
    is_raw_prefix = raw.endswith("*")
    body = raw[:-1] if is_raw_prefix else raw
    if "*" in body:
        raise InvalidName(
            "only one '*', at the end, is allowed in a list path", container=container, blob=path
        )
    if is_raw_prefix:
        _check_prefix(body, path, container)
        return ListPath(body, True)
    # One trailing '/' marks a folder; a second one would be an empty segment.
    folder = body[:-1] if body.endswith("/") else body
    if not folder:
        return ListPath("", False)
    problem = _blob_path_problem(folder)
    if problem:
        raise InvalidName(f"invalid list path: {problem}", container=container, blob=path)
    return ListPath(folder + "/", False)


def _check_prefix(prefix: str, original: str, container: str | None) -> None:
    # Every complete segment (one followed by '/') follows the blob-name rules, the last one
    # included: "../*" or "a/../*" would otherwise list outside the folder or the container.
    # Only the partial last segment may be anything ("..*" matches "..foo"), short of a
    # control character, backslash or a lone surrogate.
    head, _, partial = prefix.rpartition("/")
    problem = _blob_path_problem(head) if head else None
    if problem is None and partial:
        problem = _character_problem(partial)
    if problem:
        raise InvalidName(f"invalid list path: {problem}", container=container, blob=original)


_UNLISTABLE = re.compile("[\x00-\x1f\x7f\ufffe\uffff]")


def _character_problem(text: str) -> str | None:
    """What no part of a blob path may hold: a control character (U+0000-U+001F, U+007F), the
    noncharacters U+FFFE and U+FFFF, backslash, a lone surrogate. The first two are refused
    because XML listings (Azure's) cannot carry them: one such name makes every listing of
    its container fail."""
    unlistable = _UNLISTABLE.search(text)
    if unlistable:
        code = ord(unlistable.group())
        kind = "noncharacter" if code > 0x7F else "control character"
        return f"it contains a {kind} (U+{code:04X}), which listings cannot carry"
    if "\\" in text:
        return "it contains a backslash (use '/' to separate folders)"
    if text.isascii():  # a flag of the string: no encode needed to know it has no surrogate
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid UTF-8 (lone surrogate)"
    return None
