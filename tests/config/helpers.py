"""What the config tests share: providers that record or reject their settings, and a file
writer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import xtstore
from xtstore.providers.memory.store import MemoryProvider
from xtstore.values import Capabilities

SECRET = "s3cr3t-VALUE-9f81c2"


class RecordingStore(MemoryProvider):
    """A real in-memory store that keeps the settings it was built with, and claims to be
    shared between processes so that it can be pickled (only its origin is pickled)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.config = dict(config)

    def capabilities(self) -> Capabilities:
        return replace(super().capabilities(), shared_between_processes=True)


class EchoingStore(MemoryProvider):
    """A provider whose constructor rejects its settings with a message quoting the key."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        raise ValueError(f"bad key {config['key']!r}")


RECORDING = "tests.config.helpers.RecordingStore"



def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path



def recorded(store: xtstore.Store) -> dict[str, Any]:
    assert isinstance(store.provider, RecordingStore)
    return store.provider.config

