"""What the simulator's views share: the account, its state, the webhook sender, the call engine.

`create_simulator_app` stores one `SimulatorContext` in
`app.extensions["twilio_simulator"]`; views reach it through `current_sim()`
so that several simulator apps (one per test) can live in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g

from twilio_sim.engine import CallEngine
from twilio_sim.state import SimulatorState
from twilio_sim.webhooks import WebhookSender

EXTENSION_KEY = "twilio_simulator"


@dataclass
class SimulatorContext:
    """The configured account and the state it acts on."""

    account_sid: str
    auth_token: str
    verify_service_sid: str
    public_base_url: str
    state: SimulatorState
    webhooks: WebhookSender
    voice: CallEngine


def current_sim() -> SimulatorContext:
    """The simulator context of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]


def params() -> dict:
    """The request's form parameters as the OpenAPI spec typed them.

    The guard that validates each request stores the unmarshalled body in
    `g`; views read from here so a boolean arrives as a bool, not "true".
    """
    return getattr(g, "twilio_params", None) or {}
