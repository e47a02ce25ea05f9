"""`flask clients ...`: operator commands for integration clients (marketplace back ends)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from registry.core.errors import AppError
from registry.core.timeutil import as_utc
from registry.core.transactions import unit_of_work
from registry.integrations import operations
from registry.integrations.models import SCOPES

clients_cli = AppGroup("clients", help="Manage integration clients (marketplace back ends) and their keys.")


def _fail(error: AppError) -> click.ClickException:
    return click.ClickException(f"{error.field}: {error.message}" if error.field else error.message)


def _when(value) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


@clients_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help="What the key may be used for; repeat for several (at least one).")
def create_client(name: str, scopes: tuple[str, ...]) -> None:
    """Create a client called NAME and print its key, once."""
    with unit_of_work():
        try:
            client, key = operations.create_client(name, scopes)
        except AppError as error:
            raise _fail(error) from None
    click.echo(f"Created integration client {client.id} ({client.name}), scopes: {' '.join(client.scopes)}.")
    click.echo(f"Key (shown only now; store it in the marketplace's secrets): {key}")


@clients_cli.command("list")
def list_clients() -> None:
    """Every client: id, name, key prefix, scopes, created, last used, revoked."""
    with unit_of_work():
        clients = operations.list_clients()
        rows = [(str(c.id), c.name, c.shown_key, ",".join(c.scopes or ()), _when(c.created_at),
                 _when(c.last_used_at), _when(c.revoked_at)) for c in clients]
    if not rows:
        click.echo("No integration clients.")
        return
    header = ("ID", "NAME", "KEY", "SCOPES", "CREATED", "LAST USED", "REVOKED")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@clients_cli.command("revoke")
@click.argument("client_id", type=int)
def revoke_client(client_id: int) -> None:
    """Revoke client CLIENT_ID's key: its next call is refused (401)."""
    with unit_of_work():
        try:
            client = operations.revoke_client(client_id)
        except AppError as error:
            raise _fail(error) from None
    click.echo(f"Revoked integration client {client.id} ({client.name}).")
