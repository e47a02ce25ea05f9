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

from importlib import import_module

# Where each public name lives. They are imported on first use (PEP 562): Flask loads the
# simulator's CLI group (a "flask.commands" entry point) for every `flask` command of any app,
# which should not pay for the simulator and its OpenAPI validation stack (some 700 modules)
# unless `flask simulator run` is the command.
_EXPORTS = {
    "CallScript": "twilio_sim.scripts",
    "CallSnapshot": "twilio_sim.legs",
    "InboxMessage": "twilio_sim.state",
    "Recording": "twilio_sim.legs",
    "SimulatorState": "twilio_sim.state",
    "create_simulator_app": "twilio_sim.app",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
