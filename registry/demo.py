"""`flask demo seed`: a demo merchant, a staff user and an admin for `make run`."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from registry.accounts import operations as accounts
from registry.accounts.models import User
from registry.core.extensions import db
from registry.core.transactions import unit_of_work
from registry.merchants import operations as merchants
from registry.merchants.hours import DAYS

demo_cli = AppGroup("demo", help="Demo data for local use.")

DEMO_MERCHANT = ("merchant@example.com", "merchant-demo-pass")
DEMO_STAFF = ("staff@example.com", "staff-demo-pass")
# The console's admin pages (integration clients, proxy pool, webhooks, store import).
DEMO_ADMIN = ("admin@example.com", "admin-demo-pass")
DEMO_NUMBER = "+86 138 0013 8000"


@demo_cli.command("seed")
def seed() -> None:
    """Create the demo accounts and store if they are missing; print the logins."""
    if current_app.config["REGISTRY_ENV"] == "production":
        raise click.ClickException("demo data is never created in production")
    with unit_of_work():
        for (email, password), role in ((DEMO_MERCHANT, "merchant"), (DEMO_STAFF, "staff"),
                                        (DEMO_ADMIN, "admin")):
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                user = accounts.create_user(email, password, role)
            if role == "merchant" and merchants.merchant_of(user.id) is None:
                every_day = {day: [["08:00", "22:00"]] for day in DAYS}
                store = merchants.create_merchant(user.id, "Demo Tea House", business_hours=every_day)
                merchants.add_number(store, DEMO_NUMBER, label="Shop phone")
    click.echo("Demo logins:")
    click.echo(f"  merchant  {DEMO_MERCHANT[0]} / {DEMO_MERCHANT[1]}")
    click.echo(f"  staff     {DEMO_STAFF[0]} / {DEMO_STAFF[1]}")
    click.echo(f"  admin     {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
