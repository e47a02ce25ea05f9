"""`flask simulator run`: the Twilio simulator as a development server.

This distribution declares `simulator_cli` as a "flask.commands" entry
point, so Flask adds it to the CLI of whichever app `--app` names; the app
never imports the simulator. The command reads the Twilio account from that
app's configuration (`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`,
`TWILIO_VERIFY_SERVICE_SID`, `PUBLIC_BASE_URL`), or else from environment
variables of the same names, so the simulator and the app agree on
credentials without anything being typed twice.
"""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

simulator_cli = AppGroup("simulator", help="Run the local Twilio simulator.")


def _setting(name: str, default: str | None = None) -> str:
    """`name` from the app's configuration, else from the environment; an error if neither has it."""
    value = current_app.config.get(name) or os.environ.get(name) or default
    if not value:
        raise click.UsageError(f"{name} is set neither in the app's configuration nor in the environment")
    return value


@simulator_cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5001, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--number",
    "numbers",
    multiple=True,
    metavar="E164",
    help="Give the account this phone number at start (repeatable).",
)
def run_command(host: str, port: int, numbers: tuple[str, ...]) -> None:
    """Serve the simulator until interrupted."""
    from twilio_sim.app import create_simulator_app  # only here: see _EXPORTS in __init__

    account_sid = _setting("TWILIO_ACCOUNT_SID")
    app = create_simulator_app(
        account_sid=account_sid,
        auth_token=_setting("TWILIO_AUTH_TOKEN"),
        verify_service_sid=_setting("TWILIO_VERIFY_SERVICE_SID"),
        public_base_url=_setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
    )
    context = app.extensions["twilio_simulator"]
    # Recording URLs point here even before the app's first REST request
    # (which, when listening on every interface, tells the reachable address).
    if host not in ("0.0.0.0", "::"):  # noqa: S104 - comparing, not binding
        context.voice.base_url = f"http://{host}:{port}"
    state = context.state
    for number in numbers:
        state.add_incoming_number(number)
    click.echo(f"Twilio simulator for {account_sid} on http://{host}:{port}")
    click.echo(f"Simulated phones: http://{host}:{port}/phones")
    run_simple(host, port, app, threaded=True)
