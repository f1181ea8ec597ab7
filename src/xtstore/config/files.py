"""Reading one YAML config layer, with mistakes reported by file and line.

Files are named in messages the way a user would type them: relative to the working
directory when inside it, ``~/...`` when inside the home folder, absolute otherwise.

A config file is read within fixed bounds, so that a hostile or broken file is a
:class:`ConfigError` in bounded time and memory (docs/configuration.md, "Limits"): at most
:data:`MAX_FILE_BYTES` bytes, :data:`MAX_DEPTH` levels of nesting, and :data:`MAX_NODES` values
with every alias expanded (a "billion laughs" file of a few lines expands to billions); an
alias to the node it is inside (a cycle) is refused. Time and memory then grow with these
bounds only.

PyYAML and :mod:`pathlib` are imported when a file is read: most command lines find none.
"""

from __future__ import annotations

import os
from typing import Any

from xtstore.errors import ConfigError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "display_path",
    "load_yaml_file",
    "read_layer",
]

MAX_FILE_BYTES = 1024 * 1024
"""The largest config or secrets file read (a real one is a few KiB)."""
MAX_DEPTH = 64
"""The deepest nesting of mappings and lists (a real config nests about 5 levels)."""
MAX_NODES = 50_000
"""The most values (mappings, lists and scalars, keys included) one file may stand for, each
alias counting every value of what it refers to (a real config holds a few hundred)."""


def display_path(path: str | os.PathLike[str]) -> str:
    """How ``path`` is named in messages and in :meth:`Config.source_of`."""
    absolute = os.path.abspath(os.path.expanduser(os.fspath(path)))
    shortest, size = absolute, len(_parts(absolute)) - 1
    # The fewest path parts win; on a tie: absolute, then ~/..., then relative.
    for base, prefix in ((os.path.expanduser("~"), "~/"), (os.getcwd(), "")):
        relative = _parts_below(absolute, os.path.abspath(base))
        if not relative:
            continue
        parts = len(relative) + (1 if prefix else 0)
        if parts < size:
            shortest, size = prefix + "/".join(relative), parts
    return shortest


def _parts(absolute: str) -> list[str]:
    """The parts of a normalized absolute path, its root the first (as ``PurePath.parts``;
    os.path rather than pathlib, which a command would import for this alone)."""
    drive, rest = os.path.splitdrive(absolute)
    names = [name for name in rest.split(os.sep) if name]
    return [drive + os.sep, *names]


def _parts_below(absolute: str, base: str) -> list[str] | None:
    """The parts of ``absolute`` below ``base`` (both normalized and absolute); None if it is
    not below it ([] if it is ``base``)."""
    parts, base_parts = _parts(absolute), _parts(base)
    if parts[:len(base_parts)] != base_parts:
        return None
    return parts[len(base_parts):]


def load_yaml_file(path: str | os.PathLike[str], label: str, *, quote_source: bool = True
                   ) -> Any:
    """Parse ``path``; raises :class:`ConfigError` naming ``label`` and the line of a syntax
    error, or of what exceeds the limits above. With ``quote_source=False`` (secrets files)
    the message never quotes the file's text, only the line number and the kind of
    problem."""
    text = _read_text(path, label)
    from xtstore.config.bounded_yaml import parse

    return parse(text, label, quote_source=quote_source, max_depth=MAX_DEPTH,
                 max_nodes=MAX_NODES)


def _read_text(path: str | os.PathLike[str], label: str) -> str:
    """The file's text: at most MAX_FILE_BYTES bytes (read no further, so that /dev/zero or a
    growing file cannot exhaust memory) of UTF-8."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError("config file not found", file=label) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(f"cannot read the file: {reason}", file=label) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(
            f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most a config"
            " file may hold", file=label) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"not UTF-8 text: byte 0x{data[error.start]:02x} cannot be decoded",
            file=label, key_path=f"line {line}") from None


def read_layer(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """``(label, mapping)`` for one config file. An empty file is an empty mapping.

    Raises :class:`ConfigError` if the file is missing, unreadable, not valid YAML, or its top
    level is not a mapping.
    """
    label = display_path(path)
    data = load_yaml_file(os.path.expanduser(os.fspath(path)), label)
    if data is None:
        return label, {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys to values, not {_kind(data)}",
            file=label,
            key_path="(top level)",
        )
    return label, data


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"
