"""The threaded server wrapper and the `flask simulator run` command."""

from __future__ import annotations

from importlib.metadata import entry_points

import requests
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup

from sim_support import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID
from twilio_sim import cli as simulator_cli_module
from twilio_sim.server import SimulatorServer


def test_server_stops_and_frees_its_port(sim_app):
    server = SimulatorServer(sim_app).start()
    url = server.url
    assert requests.get(f"{url}/", timeout=5).status_code == 200
    server.stop()
    try:
        requests.get(f"{url}/", timeout=1)
    except requests.ConnectionError:
        pass
    else:
        raise AssertionError("server still answering after stop()")


def test_cli_run_serves_the_configured_account(monkeypatch):
    served = {}

    def fake_run_simple(host, port, app, threaded):
        served.update(host=host, port=port, app=app, threaded=threaded)

    monkeypatch.setattr(simulator_cli_module, "run_simple", fake_run_simple)
    product = Flask("product")
    product.config.update(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_VERIFY_SERVICE_SID=SERVICE_SID,
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
    )
    product.cli.add_command(simulator_cli_module.simulator_cli)
    result = product.test_cli_runner().invoke(
        args=["simulator", "run", "--port", "5099", "--number", "+15005550006"]
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5099/phones" in result.output
    assert (served["host"], served["port"], served["threaded"]) == ("127.0.0.1", 5099, True)
    context = served["app"].extensions["twilio_simulator"]
    assert (context.account_sid, context.verify_service_sid) == (ACCOUNT_SID, SERVICE_SID)
    assert [n.phone_number for n in context.state.incoming_numbers()] == ["+15005550006"]


def test_the_command_is_a_flask_plugin_any_app_gets(monkeypatch):
    # Declared in pyproject.toml's "flask.commands" entry points: the app never registers it.
    (entry_point,) = [ep for ep in entry_points(group="flask.commands") if ep.name == "simulator"]
    assert entry_point.load() is simulator_cli_module.simulator_cli
    served = {}
    monkeypatch.setattr(simulator_cli_module, "run_simple", lambda *args, **kwargs: served.update(kwargs))
    for name, value in (("TWILIO_ACCOUNT_SID", ACCOUNT_SID), ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
                        ("TWILIO_VERIFY_SERVICE_SID", SERVICE_SID)):
        monkeypatch.setenv(name, value)  # an app that has no Twilio settings: the environment's
    group = FlaskGroup(create_app=lambda: Flask("any_app"))
    result = CliRunner().invoke(group, ["simulator", "run", "--port", "5099"])
    assert result.exit_code == 0, result.output
    assert f"Twilio simulator for {ACCOUNT_SID} on http://127.0.0.1:5099" in result.output
    assert served == {"threaded": True}


def test_without_an_account_the_command_says_which_setting_is_missing(monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    group = FlaskGroup(create_app=lambda: Flask("any_app"))
    result = CliRunner().invoke(group, ["simulator", "run"])
    assert result.exit_code == 2
    assert "TWILIO_ACCOUNT_SID is set neither" in result.output
