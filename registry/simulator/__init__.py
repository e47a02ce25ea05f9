"""A local, stateful, Twilio-compatible server for development and tests.

It serves the Twilio REST endpoints the product uses (Verify v2,
Messages, IncomingPhoneNumbers) under `/<product>/...`, checks every
request against Twilio's official OpenAPI specs (`specs/`), applies
Twilio's rules, posts status callbacks signed as Twilio signs them, and
shows a page of simulated phones with what each received.

    app = create_simulator_app(account_sid, auth_token, verify_service_sid)
    with SimulatorServer(app) as server:
        ...  # point the gateway's TWILIO_API_URL at server.url
"""

from registry.simulator.app import create_simulator_app
from registry.simulator.state import InboxMessage, SimulatorState

__all__ = ["InboxMessage", "SimulatorState", "create_simulator_app"]
