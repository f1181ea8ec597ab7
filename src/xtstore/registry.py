"""Placeholder: being written (issue 2, provider registry)."""

from __future__ import annotations

from typing import Any


def get_storage(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError
