"""``check-provider CODE.PATH``: run the conformance suite against any provider class."""

from __future__ import annotations

from typing import Any

import click

from xtstore.cli.context import get_state
from xtstore.cli.output import emit_json

__all__ = ["COMMANDS"]

_SERVICE = "check-provider"
_OUTCOME_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--option")
    return key, value


def _service_config(code_path: str, options: dict[str, str]) -> dict[str, Any]:
    service = {**options, "type": "storage", "provider": code_path}
    return {"external-services": {_SERVICE: service}, "xt-services": {"storage": _SERVICE}}


def _outcome(result: Any) -> str:
    outcome = getattr(result, "outcome", "")
    return str(getattr(outcome, "value", outcome))


@click.command("check-provider")
@click.argument("code_path", metavar="CODE.PATH")
@click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE",
              help="A key of the service's config dict (repeatable).")
@click.option("--select", "-k", "select", metavar="TEXT",
              help="Run only the clauses whose name contains TEXT.")
def check_provider_command(code_path: str, options: tuple[str, ...], select: str | None
                           ) -> None:
    """Run the conformance suite against the provider class CODE.PATH (e.g.
    extensions.my_cloud_storage.MyCloudStorage) and print each clause's outcome. Exits 1 if
    any clause failed."""
    from xtstore import get_storage
    from xtstore.registry import load_provider_class
    from xtstore.testing import run_conformance

    state = get_state()
    config = _service_config(code_path, dict(_option(text) for text in options))
    load_provider_class(code_path, config)  # a class that cannot load fails here, clearly

    def store_factory() -> Any:
        return get_storage(_SERVICE, config=config)

    report = run_conformance(store_factory, select=select)
    results = list(report.results)
    counts: dict[str, int] = {}
    for result in results:
        counts[_outcome(result)] = counts.get(_outcome(result), 0) + 1
    if state.json:
        emit_json({"provider": code_path, "ok": bool(report.ok), "counts": counts,
                   "results": [{"clause": r.name, "outcome": _outcome(r),
                                "message": r.message or ""} for r in results]})
    else:
        _print_table(code_path, results, counts)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _print_table(code_path: str, results: list[Any], counts: dict[str, int]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"conformance of {code_path}", title_justify="left")
    table.add_column("clause")
    table.add_column("outcome")
    table.add_column("message", overflow="fold")
    for result in results:
        outcome = _outcome(result)
        style = _OUTCOME_STYLE.get(outcome, "")
        table.add_row(result.name, f"[{style}]{outcome}[/]" if style else outcome,
                      " ".join(str(result.message or "").split()))
    console = Console()
    console.print(table)
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
    console.print(summary or "no clauses ran")


COMMANDS = [check_provider_command]
