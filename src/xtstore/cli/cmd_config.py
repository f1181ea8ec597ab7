"""``config``, ``services`` and ``providers``: what is configured and where it came from."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import click

from xtstore.cli.context import get_state
from xtstore.cli.output import emit_json, print_table
from xtstore.values import Capabilities, Support

if TYPE_CHECKING:
    from xtstore.config import Config
    from xtstore.describe import ConfigKey

__all__ = ["COMMANDS"]


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            yield from _flatten(child, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _validate(config: Config) -> list[str]:
    """Expand every ``${NAME}``, then make every check opening each storage service would
    (provider class, ``$vault`` secrets, retry section, required keys, types), without
    contacting a store; raises ``ConfigError`` on the first mistake and returns the service
    names."""
    from xtstore.registry import service_origin

    config.expanded()
    names = list(config.storage_services())
    for name in names:
        service_origin(name, config).check()
    return names


def _source(config: Config, key_path: str) -> str:
    try:
        return str(config.source_of(key_path))
    except KeyError:
        return "?"


@click.command("config")
@click.option("--validate", is_flag=True,
              help="Check the config and every storage service's provider; exit 1 if broken.")
def config_command(validate: bool) -> None:
    """Show the merged config, each key with the file it came from (secrets redacted)."""
    state = get_state()
    config = state.config()
    if validate:
        names = _validate(config)
        if state.json:
            emit_json({"valid": True, "storage_services": names})
        elif not state.quiet:
            click.echo(f"config is valid: {len(names)} storage services ({', '.join(names)})")
        return
    redacted = config.redacted()
    leaves = list(_flatten(redacted))
    if state.json:
        emit_json({"config": redacted,
                   "sources": {path: _source(config, path) for path, _ in leaves}})
        return
    print_table([[f"{path}:", _show(value), f"# {_source(config, path)}"]
                 for path, value in leaves])


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{}"
    return str(value)


# The key that says where a service's blobs live, per provider (shown by ``services``).
_LOCATION_KEYS = ("path", "url", "endpoint-url", "account", "name")


@click.command("services")
def services_command() -> None:
    """List the storage services; '*' marks the default."""
    state = get_state()
    config = state.config()
    default = state.service or config.default_storage_service
    services = config.redacted().get("external-services") or {}
    rows = []
    for name in config.storage_services():
        service = services.get(name) or {}
        location = next((str(service[key]) for key in _LOCATION_KEYS if key in service), "")
        rows.append({"name": name, "provider": str(service.get("provider", "")),
                     "location": location, "default": name == default})
    if state.json:
        emit_json(rows)
        return
    print_table([["*" if row["default"] else " ", str(row["name"]), str(row["provider"]),
                  str(row["location"])] for row in rows])


@click.command("providers")
@click.option("--keys", "keys_of", metavar="NAME",
              help="Print the config keys of provider NAME (type, default, secret, help).")
def providers_command(keys_of: str | None) -> None:
    """List the storage providers a service can name, with their code paths."""
    from xtstore.registry import known_providers, provider_description

    state = get_state()
    if keys_of is not None:
        description = provider_description(keys_of, state.config())
        rows = [_key_row(key) for key in description.keys]
        capabilities = _capabilities(description.capabilities)
        if state.json:
            emit_json({"name": description.name, "aliases": list(description.aliases),
                       "code_path": description.code_path, "extra": description.extra,
                       "summary": description.summary, "capabilities": capabilities,
                       "keys": rows})
            return
        click.echo(f"{description.name}: {description.summary}")
        click.echo("capabilities: " + ", ".join(
            f"{name} {value}" if isinstance(value, str) else name if value else f"not {name}"
            for name, value in capabilities.items()))
        if not rows:
            click.echo("(no keys besides type, provider, name and retry)")
            return
        print_table([["KEY", "TYPE", "DEFAULT", "SECRET", "HELP"]] + [
            [row["name"] + (" (required)" if row["required"] else ""), str(row["type"]),
             _show(row["default"]) if row["default"] is not None else "",
             "yes" if row["secret"] else "", str(row["help"])]
            for row in rows
        ])
        return
    providers = known_providers(state.config())
    if state.json:
        emit_json(dict(providers))
        return
    print_table([[name, path] for name, path in sorted(providers.items())])


def _capabilities(capabilities: Capabilities) -> dict[str, str | bool]:
    """Each capability: how it is supported (``native``, ``emulated``, ...), or a flag."""
    shown: dict[str, str | bool] = {}
    for field in dataclasses.fields(capabilities):
        value = getattr(capabilities, field.name)
        shown[field.name] = value.value if isinstance(value, Support) else bool(value)
    return shown


def _key_row(key: ConfigKey) -> dict[str, Any]:
    kind = f"{key.type}: {' | '.join(key.choices)}" if key.choices else key.type
    return {"name": key.name, "type": kind, "default": key.default, "secret": key.secret,
            "required": key.required, "help": key.help}


COMMANDS = [config_command, services_command, providers_command]
