"""Store addresses on the command line: ``[service:]container[/path]``."""

from __future__ import annotations

from typing import NamedTuple

from xtstore.cli.globbing import has_magic

__all__ = ["Address", "parse_address"]


class Address(NamedTuple):
    """A parsed address. ``service`` is None for the default service; ``path`` is "" for the
    whole container and never starts with '/'. ``folder`` is True when the text ended in '/'."""

    service: str | None
    container: str
    path: str = ""
    folder: bool = False

    @property
    def has_wildcard(self) -> bool:
        return has_magic(self.path)

    def __str__(self) -> str:
        prefix = f"{self.service}:" if self.service else ""
        path = f"/{self.path}" if self.path else ""
        return f"{prefix}{self.container}{path}"


class AddressError(ValueError):
    """The text is not a ``[service:]container[/path]`` address."""


def parse_address(text: str) -> Address:
    """Split ``[service:]container[/path]``. Only the shape is checked here; the store checks
    the container name and blob path rules itself before any I/O.

    Raises :class:`AddressError` for an empty container or service part.
    """
    service: str | None = None
    rest = text
    head = text.split("/", 1)[0]
    # Container names cannot contain ':', so a ':' before the first '/' ends a service name.
    if ":" in head:
        service, rest = text.split(":", 1)
        if not service:
            raise AddressError(f"{text!r}: empty service name before ':'")
    container, _, path = rest.partition("/")
    if not container:
        raise AddressError(
            f"{text!r} is not an address: expected [service:]container[/path]"
        )
    return Address(service, container, path.strip("/"), rest.endswith("/"))
