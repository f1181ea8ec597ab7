"""``run_conformance``: the suite run programmatically, e.g. by ``xtstore check-provider``.

pytest runs in this process (so the store factory may be any callable, a closure included)
against :mod:`xtstore.testing._entry`, with a plugin object that supplies the factory and the
options and collects one :class:`ClauseResult` per test.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from xtstore.store import Store
from xtstore.testing import _entry
from xtstore.testing.checks import describe_failed_call
from xtstore.testing.options import SuiteOptions

__all__ = ["ClauseResult", "ConformanceReport", "run_conformance"]

Outcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class ClauseResult:
    """One clause's outcome. ``clause`` is the test's name without ``test_`` (plus its
    parameters, if any); ``message`` is one line: why it failed or was skipped, else ``""``."""

    clause: str
    outcome: Outcome
    message: str = ""
    duration: float = 0.0


@dataclass
class ConformanceReport:
    """Every clause's result, in the order they ran. ``ok`` is True when none failed (and
    at least one ran); ``exit_code`` is pytest's."""

    results: list[ClauseResult] = field(default_factory=list)
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.results) and not self.failed

    @property
    def passed(self) -> list[ClauseResult]:
        return [result for result in self.results if result.outcome == "passed"]

    @property
    def failed(self) -> list[ClauseResult]:
        return [result for result in self.results if result.outcome == "failed"]

    @property
    def skipped(self) -> list[ClauseResult]:
        return [result for result in self.results if result.outcome == "skipped"]

    def summary(self) -> str:
        """``"52 passed, 1 failed, 3 skipped"``."""
        return (f"{len(self.passed)} passed, {len(self.failed)} failed, "
                f"{len(self.skipped)} skipped")


def _clause_timeout(options: SuiteOptions) -> float:
    """Seconds one clause may take: the concurrency budget plus time to set up and check."""
    return max(300.0, options.concurrency_timeout + 120.0)


def _clause_name(nodeid: str) -> str:
    name = nodeid.rsplit("::", 1)[-1]
    return name[len("test_"):] if name.startswith("test_") else name


def _one_line(report: pytest.TestReport) -> str:
    if report.outcome == "skipped" and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        return reason.removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(crash.message) if crash is not None else str(report.longrepr or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return first.removeprefix("AssertionError: ")


class _RunPlugin:
    """Gives the entry class its store and options, and records each clause's outcome."""

    def __init__(self, store_factory: Callable[[], Store], options: SuiteOptions) -> None:
        self.store_factory = store_factory
        self.options = options
        self.results: dict[str, ClauseResult] = {}
        # (nodeid, phase) -> the store call that raised an exception escaping a clause.
        self._raised: dict[tuple[str, str], str] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[_entry.RUN_KEY] = self

    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> None:
        # An exception no clause turned into a verdict: name the call that raised it, with its
        # arguments, so that the one-line message says where it came from.
        excinfo = call.excinfo
        if excinfo is None or isinstance(excinfo.value, (AssertionError, pytest.skip.Exception)):
            return
        described = describe_failed_call(excinfo.value)
        if described is not None:
            self._raised[(item.nodeid, call.when)] = described

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Setup and teardown count only when they did not pass; the first bad news wins.
        if report.when != "call" and report.outcome == "passed":
            return
        name = _clause_name(report.nodeid)
        earlier = self.results.get(name)
        if earlier is not None and earlier.outcome != "passed":
            return
        if report.outcome == "passed":
            self.results[name] = ClauseResult(name, "passed", "", report.duration)
            return
        message = self._raised.get((report.nodeid, report.when)) or _one_line(report)
        if report.when != "call" and report.outcome == "failed":
            message = f"error in {report.when}: {message}"
        self.results[name] = ClauseResult(name, report.outcome, message, report.duration)


def run_conformance(
    store_factory: Callable[[], Store],
    options: SuiteOptions | None = None,
    *,
    select: str | None = None,
    quiet: bool = True,
    extra_args: list[str] | None = None,
) -> ConformanceReport:
    """Run the conformance suite against the store ``store_factory()`` returns (called once).

    ``select`` is a pytest ``-k`` expression over the clause names (e.g. ``"list_blobs"``);
    ``quiet`` keeps pytest's own output to a minimum; ``extra_args`` go to pytest as they are.
    Returns a :class:`ConformanceReport`; nothing is raised for failing clauses.
    """
    plugin = _RunPlugin(store_factory, options or SuiteOptions())
    with tempfile.TemporaryDirectory(prefix="xtstore-conformance-") as workdir:
        # An empty ini file of our own: the caller's pytest configuration must not leak in.
        ini = Path(workdir) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        args = [
            str(Path(_entry.__file__)),
            "-c", str(ini),
            "--rootdir", workdir,
            "-p", "no:cacheprovider",
            "-p", "no:randomly",
            "--basetemp", str(Path(workdir) / "tmp"),
        ]
        if quiet:
            args += ["-q", "--no-header", "--no-summary", "-p", "no:terminalreporter"]
        if importlib.util.find_spec("pytest_timeout") is not None:
            # A provider that hangs fails its clause instead of hanging the whole run.
            args += [f"--timeout={_clause_timeout(plugin.options):.0f}"]
        if select:
            args += ["-k", select]
        args += list(extra_args or [])
        exit_code = pytest.main(args, plugins=[plugin])
    return ConformanceReport(list(plugin.results.values()), int(exit_code))
