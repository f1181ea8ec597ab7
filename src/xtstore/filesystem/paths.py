"""``xtstore://[service:]container/path`` addresses (docs/fsspec.md, "Addresses").

A container name cannot hold ``:``, so a first segment with a colon is ``service:container``:
``runs:exp1/logs/a.csv`` is blob ``logs/a.csv`` of container ``exp1`` of service ``runs``;
``exp1/logs/a.csv`` is the same blob of the filesystem's default service. ``runs:`` alone is
the root of service ``runs`` (its containers), ``""`` the default service's root.

A path the filesystem returns names the service exactly when the path it came from did, so
that results compare equal to what the caller built.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["PROTOCOL", "Address", "parse", "strip_protocol"]

PROTOCOL = "xtstore"

_PREFIXES = (PROTOCOL + "://", PROTOCOL + "::")


def strip_protocol(path: str | os.PathLike[str]) -> str:
    """The path without ``xtstore://``, without leading and trailing ``/`` (a blob path's
    leading ``/`` is dropped anyway, docs/contract.md §1 Names)."""
    text = os.fspath(path)
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    return text.strip("/")


@dataclass(frozen=True)
class Address:
    """One stripped path: which service (None: the default), container ("" at a root) and
    blob or folder ("" for the container itself)."""

    service: str | None
    container: str
    blob: str

    @property
    def prefix(self) -> str:
        """How the service is written in front of the container: ``"runs:"`` or ``""``."""
        return "" if self.service is None else self.service + ":"

    @property
    def is_root(self) -> bool:
        return not self.container

    @property
    def is_container(self) -> bool:
        return bool(self.container) and not self.blob

    def root(self) -> str:
        """The path of this address's service root."""
        return self.prefix

    def container_path(self, container: str | None = None) -> str:
        return self.prefix + (self.container if container is None else container)

    def join(self, blob: str) -> str:
        """The path of ``blob`` (a name relative to the container) in this container."""
        return f"{self.prefix}{self.container}/{blob}" if blob else self.container_path()

    def path(self) -> str:
        return self.join(self.blob) if self.container else self.root()


def parse(path: str | os.PathLike[str]) -> Address:
    """The address of a path, with or without the protocol."""
    text = strip_protocol(path)
    first, _, rest = text.partition("/")
    service: str | None = None
    if ":" in first:
        service, _, first = first.partition(":")
        # "runs:/exp1" and "runs:" alike: the container follows the colon.
        if not first and rest:
            first, _, rest = rest.partition("/")
    return Address(service or None, first, rest.strip("/"))
