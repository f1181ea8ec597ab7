"""Safe YAML loading (plain data only) within bounds, for :mod:`xtstore.config.files`: at most
so many levels of nesting and so many values with every alias expanded, no alias to the node
it is inside, and no key given twice in one mapping; a mistake is a :class:`ConfigError` with
its line.

Imported only when a file is read: PyYAML costs some 10 ms of start-up, and most command lines
find no config file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from xtstore.errors import ConfigError

__all__ = ["PythonLoader", "new_loader", "parse"]


class _PythonParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's own parser, where it was built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


class _Bounded(yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """Safe loading (plain data only) within the bounds given, refusing a key given twice in
    one mapping (YAML would silently keep the last, hiding e.g. a service defined twice).
    Composing is done here, in Python, over the events of either parser."""

    # Provided by the parser class each loader below adds.
    peek_event: Callable[[], yaml.Event]
    dispose: Callable[[], None]

    def __init__(self, max_depth: int, max_nodes: int) -> None:
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._max_depth = max_depth
        self._max_nodes = max_nodes
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
        if self._depth > self._max_depth:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {self._max_depth} levels deep", event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in _children(node))
        return node

    def _count(self, nodes: int, event: yaml.Event, what: str) -> None:
        self._nodes += nodes
        if self._nodes > self._max_nodes:
            raise yaml.composer.ComposerError(
                None, None, f"{what} more than {self._max_nodes} values", event.start_mark)

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


class PythonLoader(_Bounded, _PythonParser):
    def __init__(self, stream: str, max_depth: int, max_nodes: int) -> None:
        _PythonParser.__init__(self, stream)
        _Bounded.__init__(self, max_depth, max_nodes)


new_loader: Callable[[str, int, int], _Bounded] = PythonLoader
"""The loader :func:`parse` uses: libyaml's parser where PyYAML has it, else PyYAML's."""
if yaml.__with_libyaml__:
    # libyaml's parser, where PyYAML was built with it: about 5 times faster.
    class _LibyamlLoader(_Bounded, yaml._yaml.CParser):
        def __init__(self, stream: str, max_depth: int, max_nodes: int) -> None:
            yaml._yaml.CParser.__init__(self, stream)
            _Bounded.__init__(self, max_depth, max_nodes)

    new_loader = _LibyamlLoader


def _code_point(character: int | str | bytes) -> int:
    return character if isinstance(character, int) else ord(character)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def parse(text: str, label: str, *, quote_source: bool, max_depth: int, max_nodes: int) -> Any:
    """The data of ``text``, the YAML file ``label``, nested at most ``max_depth`` levels and
    holding at most ``max_nodes`` values with every alias expanded; raises
    :class:`ConfigError` naming ``label`` and the line of a syntax error or of what exceeds
    the bounds. With ``quote_source=False`` (secrets files) the message never quotes the
    file's text, only the line number and the kind of problem."""
    try:
        loader = new_loader(text, max_depth, max_nodes)
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
