"""State shared by every command (global options, the loaded config and open stores), and
the group class every command group uses."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import click

from xtstore.cli.address import Address, AddressError, parse_address

if TYPE_CHECKING:  # the real imports wait until a command needs them (fast --help)
    from xtstore.config import Config
    from xtstore.store import Store

__all__ = [
    "TEXT",
    "CliState",
    "CommandGroup",
    "Utf8Text",
    "confirm",
    "get_state",
    "parse_address_arg",
    "parse_key_value",
    "require_utf8",
    "start_debug_logging",
    "summary",
]


class CliState:
    """Global options plus caches, so each service is opened once per command.

    ``own_process``: the command line is the process's own (the console script's), not a call
    of :func:`xtstore.cli.main.main` with arguments inside a longer-lived program. (A plain
    class: a dataclass costs a millisecond of start-up to make.)"""

    def __init__(self, *, own_process: bool = False) -> None:
        self.config_file: str | None = None
        self.service: str | None = None
        self.debug = False
        self.json = False
        self.quiet = False
        self.own_process = own_process
        self._config: Config | None = None
        self._stores: dict[str | None, Store] = {}

    def config(self) -> Config:
        """The merged configuration (``xtstore.load_config``). Raises ``ConfigError``."""
        if self._config is None:
            from xtstore import load_config

            self._config = load_config(self.config_file)
        return self._config

    def settle(self) -> None:
        """In the process's own run, put what start-up made (modules, classes, the command's
        click objects), which lives as long as the process, out of the garbage collector's
        sight, so that its passes during the command do not walk it again, and collect again
        (main() stopped it while the modules loaded): some 40 M instructions of a no-change
        sync of 200 files. Not inside another program: frozen garbage is never freed, so one
        calling main() again and again would keep its own. The top group's callback calls
        this before every command, and a store's opening again."""
        if self.own_process:
            gc.freeze()
            gc.enable()

    def store(self, service: str | None = None) -> Store:
        """The store for ``service`` (else ``--service``, else the config's default).

        Raises ``ConfigError`` / ``ProviderLoadError`` for a broken service.
        """
        name = service or self.service
        if name not in self._stores:
            from xtstore import get_storage

            self._stores[name] = get_storage(name, config=self.config())
            self.settle()  # the config's, YAML's and the provider's modules too
        return self._stores[name]

    def store_for(self, address: Address) -> Store:
        return self.store(address.service)

    def opened_store(self, service: str | None) -> Store | None:
        """The store already open for the service named ``service``, or None (opening one
        could fail or take a while: the error path uses only what the command opened)."""
        for store in self._stores.values():
            if store.get_service_name() == service:
                return store
        return None

    def forget_stores(self) -> None:
        """Drop the loaded config and open stores (``--config`` or ``--service`` given after
        the command changed what they are)."""
        self._config = None
        self._stores.clear()


class CommandGroup(click.Group):
    """A group that lists its commands in the order they were added (a reading order, not
    alphabetical), each with its whole first sentence: click would cut a summary at about 45
    characters, mid-phrase."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def summary(command: click.Command) -> str:
    """``short_help``, else the help's first sentence, whole: it ends at a word ending in '.'
    outside parentheses (so "(e.g. pkg.Class)" does not end it)."""
    if command.short_help:
        return " ".join(command.short_help.split())
    words = (command.help or "").split("\n\n")[0].split()
    depth = 0
    for index, word in enumerate(words):
        depth += word.count("(") - word.count(")")
        if word.endswith(".") and depth <= 0:
            return " ".join(words[:index + 1])
    return " ".join(words)


class Utf8Text(click.types.StringParamType):
    """Text that must be valid UTF-8: names, addresses, values and text to store. Python
    decodes argv bytes that are not UTF-8 to lone surrogates, which no store can hold and
    which would fail later as a raw ``UnicodeEncodeError``; refuse them while parsing (a
    usage error naming the argument, before any I/O)."""

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        text = super().convert(value, param, ctx)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            byte = _escaped_byte(text[error.start])
            detail = f" (byte 0x{byte:02x})" if byte is not None else ""
            self.fail(f"'{_shown(text)}' is not valid UTF-8{detail}", param, ctx)
        return text


def _escaped_byte(char: str) -> int | None:
    """The argv byte that surrogateescape decoded to ``char``, if it is one."""
    code = ord(char)
    return code - 0xDC00 if 0xDC80 <= code <= 0xDCFF else None


def _shown(text: str) -> str:
    """``text`` printable: each undecodable byte as ``\\xNN``, other surrogates escaped."""
    return "".join(
        f"\\x{byte:02x}" if (byte := _escaped_byte(char)) is not None
        else char.encode("utf-8", "backslashreplace").decode("utf-8")
        for char in text
    )


TEXT = Utf8Text()


def require_utf8(command: click.Command) -> None:
    """Make every plain-text parameter of ``command`` and its subcommands :data:`TEXT`
    (local paths are ``click.Path`` and keep any bytes the file system allows)."""
    for param in command.params:
        if type(param.type) is click.types.StringParamType:
            param.type = TEXT
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            require_utf8(sub)


def start_debug_logging() -> None:
    """``--debug``: debug logs on stderr, with every secret redacted (botocore logs request
    headers at DEBUG, a session token among them)."""
    import logging

    from xtstore.secrets import install as redact_logs

    redact_logs()
    logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")


def get_state() -> CliState:
    state = click.get_current_context().find_object(CliState)
    if state is None:  # only when a command is invoked outside the group
        state = CliState()
    return state


def parse_address_arg(text: str, param_hint: str = "ADDRESS") -> Address:
    """Parse an address argument; a malformed one is a usage error (exit code 2)."""
    try:
        return parse_address(text)
    except AddressError as error:
        raise click.BadParameter(str(error), param_hint=param_hint) from None


def parse_key_value(text: str, param_hint: str) -> tuple[str, str]:
    """Split a ``KEY=VALUE`` argument (the value may be empty or hold '='); anything else is
    a usage error."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint=param_hint)
    return key, value


def confirm(question: str, assume_yes: bool) -> None:
    """Ask before a destructive step, on a terminal only; aborts (exit 1) on "no"."""
    import sys

    if assume_yes or not sys.stdin.isatty():
        return
    click.confirm(question, abort=True, err=True)
