"""``containers``: list, create, delete and show containers."""

from __future__ import annotations

import click

from xtstore.cli.address import Address
from xtstore.cli.context import CommandGroup, confirm, get_state, parse_address_arg
from xtstore.cli.output import emit_json, iso_time, print_table

__all__ = ["COMMANDS", "container_properties", "list_containers"]


def _container_arg(text: str) -> Address:
    address = parse_address_arg(text, "CONTAINER")
    if address.path:
        raise click.BadParameter(f"{text!r} names a path; give only [service:]container",
                                 param_hint="CONTAINER")
    return address


def list_containers(service: str | None) -> None:
    """Print the containers of ``service`` (None: the default)."""
    state = get_state()
    names = state.store(service).list_containers()
    if state.json:
        emit_json(list(names))
    else:
        for name in names:
            click.echo(name)


def container_properties(address: Address) -> None:
    """Print a container's name, last-modified time and metadata."""
    state = get_state()
    props = state.store_for(address).get_container_properties(address.container)
    data = {"name": props.name, "last_modified": iso_time(props.last_modified),
            "metadata": dict(props.metadata)}
    if state.json:
        emit_json(data)
        return
    rows = [["name:", props.name], ["last modified:", str(data["last_modified"])]]
    rows += [[f"metadata.{key}:", value] for key, value in sorted(props.metadata.items())]
    print_table(rows)


@click.group("containers", cls=CommandGroup, invoke_without_command=True)
@click.pass_context
def containers_group(ctx: click.Context) -> None:
    """List containers (the default), or create, delete and show them."""
    if ctx.invoked_subcommand is None:
        list_containers(None)


@containers_group.command("list")
@click.argument("service", required=False)
def list_command(service: str | None) -> None:
    """List the containers of SERVICE (default: the configured one)."""
    list_containers(service.rstrip(":") if service else None)


@containers_group.command("create")
@click.argument("containers", nargs=-1, required=True, metavar="[SERVICE:]CONTAINER...")
@click.option("--exist-ok", is_flag=True, help="No error if the container exists.")
def create_command(containers: tuple[str, ...], exist_ok: bool) -> None:
    """Create containers."""
    from xtstore.errors import ContainerAlreadyExists

    state = get_state()
    for text in containers:
        address = _container_arg(text)
        try:
            state.store_for(address).create_container(address.container)
        except ContainerAlreadyExists:
            if not exist_ok:
                raise


@containers_group.command("delete")
@click.argument("containers", nargs=-1, required=True, metavar="[SERVICE:]CONTAINER...")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_command(containers: tuple[str, ...], yes: bool) -> None:
    """Delete containers with everything in them (asks first on a terminal)."""
    state = get_state()
    addresses = [_container_arg(text) for text in containers]
    names = ", ".join(str(address) for address in addresses)
    confirm(f"Delete {names} with every blob in it?", yes)
    for address in addresses:
        state.store_for(address).delete_container(address.container)


@containers_group.command("props")
@click.argument("container", metavar="[SERVICE:]CONTAINER")
def props_command(container: str) -> None:
    """Show a container's properties and metadata."""
    container_properties(_container_arg(container))


COMMANDS = [containers_group]
