"""``check-provider CODE.PATH``: run the conformance suite against any provider class."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from xtstore.cli.context import get_state, parse_key_value
from xtstore.cli.output import emit_json

if TYPE_CHECKING:
    from xtstore.config import Config
    from xtstore.store import Store
    from xtstore.testing import ClauseResult

__all__ = ["COMMANDS"]

_SERVICE = "check-provider"
_PLAIN_WIDTH = 160
_MiB = 1024 * 1024
_OUTCOME_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}


def _service_config(code_path: str, options: dict[str, str]) -> dict[str, Any]:
    service = {**options, "type": "storage", "provider": code_path}
    return {"external-services": {_SERVICE: service}, "xt-services": {"storage": _SERVICE}}


@contextlib.contextmanager
def _config_file(config: dict[str, Any]) -> Iterator[Config]:
    """The service as a config file only its owner can read, for the length of the run: a
    store opened from a file pickles to the concurrency clauses' worker processes without
    the ``-o`` values (a ``password`` given inline in a dict would not, see
    ``xtstore.registry``); the workers read the file again."""
    import yaml

    from xtstore.config import Config

    with tempfile.TemporaryDirectory(prefix="xtstore-check-") as folder:
        path = os.path.join(folder, "check-provider.yaml")
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yaml.safe_dump(config, stream)
        yield Config.from_files([path])


def _outcome(result: ClauseResult) -> str:
    return str(result.outcome)


def _missing_key(error: BaseException, given: dict[str, str]) -> str | None:
    """The config key whose absence made the provider's constructor fail, if that was it: a
    ``KeyError`` (an XT-style ``creds["path"]``) or a config error about a key not given."""
    from xtstore.errors import ConfigError

    prefix = f"external-services.{_SERVICE}."
    if isinstance(error, ConfigError) and (error.key_path or "").startswith(prefix):
        key = str(error.key_path)[len(prefix):]
        if key and "." not in key and key not in given:
            return key
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyError) and current.args and isinstance(current.args[0], str):
            return current.args[0]
        current = current.__cause__ or current.__context__
    return None


def _build_store(code_path: str, config: Config, given: dict[str, str]) -> Store:
    """The store every clause will use, built once: a provider that cannot be constructed is
    one error line here, not the same failure in every clause."""
    from xtstore import get_storage
    from xtstore.cli.errors import describe

    try:
        return get_storage(_SERVICE, config=config)
    except Exception as error:
        key = _missing_key(error, given)
        if key is not None:
            raise click.ClickException(
                f"{code_path} needs the config key {key!r}: add -o {key}=VALUE"
            ) from None
        raise click.ClickException(f"{code_path} could not be built: {describe(error)}") from None


def _import_suite() -> Any:
    try:
        import xtstore.testing as suite
    except ImportError as error:
        raise click.ClickException(str(error)) from None
    return suite


@click.command("check-provider")
@click.argument("code_path", metavar="CODE.PATH")
@click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE",
              help="A key of the service's config dict (repeatable).")
@click.option("--select", "-k", "select", metavar="EXPR",
              help="Run only the clauses matching this pytest -k expression.")
@click.option("--large-blob-mib", type=click.IntRange(min=1), metavar="N",
              help="Size of the blob the streaming clauses move (default 256).")
@click.option("--memory-limit-mib", type=click.IntRange(min=1), metavar="N",
              help="Most the Python heap may grow while the large blob streams (default 64).")
@click.option("--in-memory", is_flag=True,
              help="The store holds blobs in memory: skip the bounded-memory checks.")
def check_provider_command(code_path: str, options: tuple[str, ...], select: str | None,
                           large_blob_mib: int | None, memory_limit_mib: int | None,
                           in_memory: bool) -> None:
    """Run the conformance suite against the provider class CODE.PATH (e.g.
    extensions.my_cloud_storage.MyCloudStorage) and print each clause's outcome. Exits 1 if
    any clause failed. Needs pytest and psutil: pip install 'xtstore[testing]'."""
    from xtstore.registry import load_provider_class

    suite = _import_suite()
    suite_options = suite.SuiteOptions()
    if large_blob_mib is not None:
        suite_options = replace(suite_options, large_blob_size=large_blob_mib * _MiB)
    if memory_limit_mib is not None:
        suite_options = replace(suite_options, memory_limit=memory_limit_mib * _MiB)
    if in_memory:
        suite_options = replace(suite_options, bounded_memory=False)
    given = dict(parse_key_value(text, "--option") for text in options)
    with _config_file(_service_config(code_path, given)) as config:
        load_provider_class(code_path, config)  # a class that cannot load fails here, clearly
        store = _build_store(code_path, config, given)
        _run_and_report(suite, store, code_path, suite_options, select)


def _run_and_report(suite: Any, store: Store, code_path: str, suite_options: Any,
                    select: str | None) -> None:
    state = get_state()
    report = suite.run_conformance(lambda: store, suite_options, select=select)
    results = list(report.results)
    counts: dict[str, int] = {}
    for result in results:
        counts[_outcome(result)] = counts.get(_outcome(result), 0) + 1
    if state.json:
        emit_json({"provider": code_path, "ok": bool(report.ok), "counts": counts,
                   "results": [{"clause": r.clause, "outcome": _outcome(r),
                                "message": r.message or ""} for r in results]})
    else:
        _print_table(code_path, results, report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)


def _print_table(code_path: str, results: list[ClauseResult], summary: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"conformance of {code_path}", title_justify="left")
    table.add_column("clause", overflow="fold")
    table.add_column("outcome")
    table.add_column("message", overflow="fold")
    for result in results:
        outcome = _outcome(result)
        style = _OUTCOME_STYLE.get(outcome, "")
        # Messages quote names and values like '[a-b]' that rich would take for markup.
        table.add_row(escape(result.clause), f"[{style}]{outcome}[/]" if style else outcome,
                      escape(" ".join(str(result.message or "").split())))
    # Off a terminal rich would assume 80 columns and fold every clause name.
    console = Console() if sys.stdout.isatty() else Console(width=_PLAIN_WIDTH)
    console.print(table)
    console.print(summary if results else "no clauses ran")


COMMANDS = [check_provider_command]
