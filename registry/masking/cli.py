"""`flask proxy ...`: managing the proxy pool."""

import click
from flask import current_app
from flask.cli import AppGroup

from registry.core.errors import AppError
from registry.core.transactions import unit_of_work
from registry.masking import pool
from registry.telephony import ProviderError, get_gateway

proxy_cli = AppGroup("proxy", help="Manage the pool of proxy numbers.")


def _fail(exc: AppError) -> None:
    raise click.ClickException(exc.message)  # unit_of_work rolls back


@proxy_cli.command("add")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--shared", is_flag=True, help="Extension mode only: callers type an extension.")
@click.option("--cap", type=int, help="Most active pairs on this number (default PROXY_NUMBER_CAP).")
def add(numbers: tuple[str, ...], shared: bool, cap: int | None) -> None:
    """Add E164 numbers the platform owns to the pool."""
    with unit_of_work():
        try:
            added = [pool.add_proxy_number(n, shared=shared, cap=cap) for n in numbers]
        except AppError as exc:
            _fail(exc)
    for proxy in added:
        click.echo(f"added {proxy.e164} ({proxy.country}{', shared' if proxy.shared else ''})")


@proxy_cli.command("sync")
def sync() -> None:
    """Point the Twilio account's numbers' webhooks at PUBLIC_BASE_URL."""
    with unit_of_work():
        try:
            synced = pool.sync_with_provider(get_gateway(), current_app.config["PUBLIC_BASE_URL"])
        except ProviderError as exc:
            refused = f"Twilio refused: {exc} (code {exc.code})" if exc.code is not None else str(exc)
            raise click.ClickException(refused) from None
        except AppError as exc:
            _fail(exc)
    for proxy in synced:
        click.echo(f"synced {proxy.e164} ({proxy.provider_sid})")
    click.echo(f"{len(synced)} number(s) now send calls and texts to "
               f"{current_app.config['PUBLIC_BASE_URL']}/webhooks/twilio/")


@proxy_cli.command("list")
def list_numbers() -> None:
    """Every proxy number with its status and load."""
    default_cap = current_app.config["PROXY_NUMBER_CAP"]
    for proxy in pool.pool():
        cap = "ext" if proxy.shared else (proxy.cap or default_cap)
        click.echo(f"{proxy.e164:<16} {proxy.country}  {proxy.status:<8} "
                   f"{proxy.active_bindings:>6}/{cap}  {proxy.provider_sid or '-'}")


@proxy_cli.command("drain")
@click.argument("number")
def drain(number: str) -> None:
    """Stop giving NUMBER new bindings; existing ones run out (state `draining`)."""
    with unit_of_work():
        try:
            proxy = pool.retire(number)
        except AppError as exc:
            _fail(exc)
    click.echo(f"{proxy.e164} is draining; {proxy.active_bindings} active binding(s) run out")


# The older name of `drain`, kept for the scripts that use it.
proxy_cli.add_command(drain, "retire")


@proxy_cli.command("stats")
def stats() -> None:
    """Pool pressure: bindings, the busiest party, numbers needed."""
    s = pool.stats(current_app.config["PROXY_NUMBER_CAP"])
    click.echo(f"active bindings        {s.active_bindings}")
    click.echo(f"busiest party degree   {s.busiest_party_degree}")
    click.echo(f"pool size (direct)     {s.pool_size}")
    click.echo(f"shared numbers         {s.shared_numbers}")
    click.echo(f"numbers needed         {s.numbers_needed}")
    if s.numbers_needed > s.pool_size:
        click.echo("WARNING: the pool is smaller than the load needs; new pairs use extensions")
