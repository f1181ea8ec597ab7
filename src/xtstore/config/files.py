"""Reading one YAML config layer, with mistakes reported by file and line.

Files are named in messages the way a user would type them: relative to the working
directory when inside it, ``~/...`` when inside the home folder, absolute otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from xtstore.errors import ConfigError

__all__ = ["display_path", "load_yaml_file", "read_layer"]


def display_path(path: str | os.PathLike[str]) -> str:
    """How ``path`` is named in messages and in :meth:`Config.source_of`."""
    absolute = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    shortest, size = str(absolute), len(absolute.parts) - 1
    # The fewest path parts win; on a tie: absolute, then ~/..., then relative.
    for base, prefix in ((Path.home(), "~/"), (Path.cwd(), "")):
        try:
            relative = absolute.relative_to(base)
        except ValueError:
            continue
        parts = len(relative.parts) + (1 if prefix else 0)
        if relative.parts and parts < size:
            shortest, size = prefix + relative.as_posix(), parts
    return shortest


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loading that refuses a key given twice in one mapping (YAML would silently keep
    the last, hiding e.g. a service defined twice)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            # types-PyYAML leaves construct_object unannotated.
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key fails in the base class with its own message
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def load_yaml_file(path: Path, label: str, *, quote_source: bool = True) -> Any:
    """Parse ``path``; raises :class:`ConfigError` naming ``label`` and the line of a syntax
    error. With ``quote_source=False`` (secrets files) the message never quotes the file's
    text, only the line number and the kind of problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=label) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the file: {error}", file=label) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: builds plain data only
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f"line {mark.line + 1}" if mark is not None else None
        problem = error.problem or "syntax error"
        if quote_source and error.context:
            problem = f"{error.context}, {problem}"
        raise ConfigError(f"invalid YAML: {problem}", file=label, key_path=line) from None
    except yaml.YAMLError as error:
        detail = f": {error}" if quote_source else ""
        raise ConfigError(f"invalid YAML{detail}", file=label) from None


def read_layer(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """``(label, mapping)`` for one config file. An empty file is an empty mapping.

    Raises :class:`ConfigError` if the file is missing, unreadable, not valid YAML, or its top
    level is not a mapping.
    """
    label = display_path(path)
    data = load_yaml_file(Path(os.path.expanduser(os.fspath(path))), label)
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
