"""A local, stateful, Twilio-compatible server for development and tests.

It serves the Twilio REST endpoints the product uses (Verify v2,
Messages, IncomingPhoneNumbers, Calls, Recordings) under `/<product>/...`,
checks every request against Twilio's official OpenAPI specs (`specs/`),
applies Twilio's rules, plays calls through the app's TwiML, posts status
callbacks signed as Twilio signs them, and shows a page of simulated
phones with what each received and the calls ringing on it.

    state = SimulatorState(time_scale=0.01)   # a simulated second lasts 10 ms
    app = create_simulator_app(account_sid, auth_token, verify_service_sid, state=state)
    with SimulatorServer(app) as server:
        state.script("+8613800138000", answer_after=2, hangup_after=30)
        ...  # point the gateway's TWILIO_API_URL at server.url
        state.wait_idle()
"""

from registry.simulator.app import create_simulator_app
from registry.simulator.legs import CallSnapshot, Recording
from registry.simulator.scripts import CallScript
from registry.simulator.state import InboxMessage, SimulatorState

__all__ = [
    "CallScript",
    "CallSnapshot",
    "InboxMessage",
    "Recording",
    "SimulatorState",
    "create_simulator_app",
]
