"""Reading one YAML config layer, with mistakes reported by file and line.

Files are named in messages the way a user would type them: relative to the working
directory when inside it, ``~/...`` when inside the home folder, absolute otherwise.

A config file is read within fixed bounds, so that a hostile or broken file is a
:class:`ConfigError` in bounded time and memory (docs/configuration.md, "Limits"): at most
:data:`MAX_FILE_BYTES` bytes, :data:`MAX_DEPTH` levels of nesting, and :data:`MAX_NODES` values
with every alias expanded (a "billion laughs" file of a few lines expands to billions); an
alias to the node it is inside (a cycle) is refused. Time and memory then grow with these
bounds only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

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


class _PythonParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's own parser, where it was built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


class _Bounded(yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """Safe loading (plain data only) within the bounds above, refusing a key given twice in
    one mapping (YAML would silently keep the last, hiding e.g. a service defined twice).
    Composing is done here, in Python, over the events of either parser."""

    # Provided by the parser class each loader below adds.
    peek_event: Callable[[], yaml.Event]
    dispose: Callable[[], None]

    def __init__(self) -> None:
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0
        # id(node) -> how many nodes it stands for, its aliases expanded; only for nodes
        # fully composed, so an alias to a node still open is a cycle.
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                size = self._sizes.get(id(target))
                if size is None:
                    raise yaml.composer.ComposerError(
                        None, None, f"alias *{event.anchor} refers to a node it is inside",
                        event.start_mark)
                self._count(size, event, "with its aliases expanded, the file holds")
            return super().compose_node(parent, index)
        self._count(1, event, "the file holds")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in _children(node))
        return node

    def _count(self, nodes: int, event: yaml.Event, what: str) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"{what} more than {MAX_NODES} values", event.start_mark)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A scalar the resolver typed but Python cannot build (a 5,000-digit integer,
        # 2001-13-14, !!float abc) raises ValueError: report it with the node's line.
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[no-untyped-call]
        except (ValueError, OverflowError) as error:
            raise _BadValue(str(error), node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # ``<<: *defaults``: the base class merges, keys given here win
            key = self.construct_object(key_node, deep=True)
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


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _BadValue(yaml.constructor.ConstructorError):
    """A scalar Python cannot build; its reason may quote the value."""

    def __init__(self, reason: str, mark: yaml.Mark) -> None:
        super().__init__(None, None, f"cannot read the value ({reason})", mark)


class _PythonLoader(_Bounded, _PythonParser):
    def __init__(self, stream: str) -> None:
        _PythonParser.__init__(self, stream)
        _Bounded.__init__(self)


_new_loader: Callable[[str], _Bounded] = _PythonLoader
if yaml.__with_libyaml__:
    # libyaml's parser, where PyYAML was built with it: about 5 times faster.
    class _LibyamlLoader(_Bounded, yaml._yaml.CParser):
        def __init__(self, stream: str) -> None:
            yaml._yaml.CParser.__init__(self, stream)
            _Bounded.__init__(self)

    _new_loader = _LibyamlLoader


def _code_point(character: int | str | bytes) -> int:
    return character if isinstance(character, int) else ord(character)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml_file(path: Path, label: str, *, quote_source: bool = True) -> Any:
    """Parse ``path``; raises :class:`ConfigError` naming ``label`` and the line of a syntax
    error, or of what exceeds the limits above. With ``quote_source=False`` (secrets files)
    the message never quotes the file's text, only the line number and the kind of
    problem."""
    text = _read_text(path, label)
    try:
        loader = _new_loader(text)
        try:
            return loader.get_single_data()  # a safe constructor: builds plain data only
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f"line {mark.line + 1}" if mark is not None else None
        problem = error.problem or "syntax error"
        if not quote_source and isinstance(error, _BadValue):
            problem = "cannot read the value"
        elif quote_source and error.context:
            problem = f"{error.context}, {problem}"
        raise ConfigError(f"invalid YAML: {problem}", file=label, key_path=line) from None
    except yaml.reader.ReaderError as error:
        character = _code_point(error.character)
        # The reader stops at the first character it refuses; its position is a byte offset
        # for libyaml and a character offset for PyYAML, so find the character instead.
        at = text.find(chr(character))
        line = f"line {text.count(chr(10), 0, at) + 1}" if at >= 0 else None
        raise ConfigError(f"invalid YAML: character U+{character:04X} is not allowed",
                          file=label, key_path=line) from None
    except yaml.YAMLError as error:
        detail = f": {error}" if quote_source else ""
        raise ConfigError(f"invalid YAML{detail}", file=label) from None


def _read_text(path: Path, label: str) -> str:
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
