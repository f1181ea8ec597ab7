"""State shared by every command: global options, the loaded config and open stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from xtstore.cli.address import Address, AddressError, parse_address

if TYPE_CHECKING:  # the real imports wait until a command needs them (fast --help)
    from xtstore.config import Config
    from xtstore.store import Store

__all__ = ["CliState", "confirm", "get_state", "parse_address_arg", "parse_key_value"]


@dataclass
class CliState:
    """Global options plus caches, so each service is opened once per command."""

    config_file: str | None = None
    service: str | None = None
    debug: bool = False
    json: bool = False
    quiet: bool = False
    _config: Config | None = None
    _stores: dict[str | None, Store] = field(default_factory=dict)

    def config(self) -> Config:
        """The merged configuration (``xtstore.load_config``). Raises ``ConfigError``."""
        if self._config is None:
            from xtstore import load_config

            self._config = load_config(self.config_file)
        return self._config

    def store(self, service: str | None = None) -> Store:
        """The store for ``service`` (else ``--service``, else the config's default).

        Raises ``ConfigError`` / ``ProviderLoadError`` for a broken service.
        """
        name = service or self.service
        if name not in self._stores:
            from xtstore import get_storage

            self._stores[name] = get_storage(name, config=self.config())
        return self._stores[name]

    def store_for(self, address: Address) -> Store:
        return self.store(address.service)


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
