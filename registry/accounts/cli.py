"""`flask users ...`: operator commands for accounts."""

import click
from flask.cli import AppGroup

from registry.accounts import operations
from registry.accounts.models import ROLES
from registry.core.errors import AppError
from registry.core.transactions import unit_of_work

users_cli = AppGroup("users", help="Manage merchant and staff accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, role: str, password: str) -> None:
    """Create an account with ROLE: merchant, staff, or admin (staff who also manage clients)."""
    with unit_of_work():
        try:
            user = operations.create_user(email, password, role)
        except AppError as exc:
            raise click.ClickException(f"{exc.field or 'error'}: {exc.message}") from None
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")
