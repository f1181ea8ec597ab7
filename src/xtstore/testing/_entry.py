"""The test class :func:`xtstore.testing.run_conformance` hands to pytest: its store and
options come from the run's plugin object instead of a provider's test file."""

from __future__ import annotations

from typing import Any

import pytest

from xtstore.store import Store
from xtstore.testing.suite import ConformanceSuite

RUN_KEY = pytest.StashKey[Any]()
"""Where the run's plugin object (store factory, options) is kept in pytest's config."""


def _plugin(request: pytest.FixtureRequest) -> Any:
    return request.config.stash[RUN_KEY]


class TestConformance(ConformanceSuite):
    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, request: pytest.FixtureRequest) -> Store:
        store: Store = _plugin(request).store_factory()
        return store

    @pytest.fixture(autouse=True)
    def _run_options(self, request: pytest.FixtureRequest) -> None:
        # The instance attribute shadows the class default for this test only.
        self.options = _plugin(request).options
