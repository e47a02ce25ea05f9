"""The threaded server wrapper and the `flask simulator run` command."""

from __future__ import annotations

import requests
from flask import Flask

from registry.simulator import cli as simulator_cli_module
from registry.simulator.server import SimulatorServer
from tests.simulator.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID


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
