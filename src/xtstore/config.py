"""Placeholder: being written (issue 2, configuration)."""

from __future__ import annotations

from typing import Any


def load_config(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError
