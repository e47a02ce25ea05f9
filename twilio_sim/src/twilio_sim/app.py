"""The simulator's own Flask app: Twilio's REST paths, plus a page of simulated phones.

Every request under `/verify/` or `/api/` passes one guard before any view
runs, in Twilio's order: credentials (401), the account in the path (404),
then the request against the product's OpenAPI spec (404/405/400). Views
only implement behaviour and can trust the parameters' types.
"""

from __future__ import annotations

import hmac
import re

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from twilio_sim import account, available, calls, messaging, numbers, phone_calls, phones, recordings, verify
from twilio_sim.context import EXTENSION_KEY, SimulatorContext, current_sim
from twilio_sim.engine import CallEngine
from twilio_sim.errors import TwilioError, authenticate_error, not_found
from twilio_sim.state import SimulatorState
from twilio_sim.validation import PRODUCTS, validate_request
from twilio_sim.webhooks import WebhookSender

ACCOUNT_IN_PATH = re.compile(r"^/2010-04-01/Accounts/([^/.]+)")
# Recording audio: documented by Twilio, served by it, but absent from its OpenAPI spec.
RECORDING_MEDIA = re.compile(r"^/2010-04-01/Accounts/[^/]+/Recordings/RE[0-9a-fA-F]{32}(\.wav|\.mp3)?$")


def create_simulator_app(
    account_sid: str,
    auth_token: str,
    verify_service_sid: str,
    public_base_url: str = "http://127.0.0.1:5000",
    state: SimulatorState | None = None,
) -> Flask:
    """Build a simulator for one Twilio account with one Verify service.

    `public_base_url` is the product app's public URL (where its webhooks
    live); it is shown on the phones page. Pass `state` to share or inspect
    the simulator's memory from tests.
    """
    state = state if state is not None else SimulatorState()
    webhooks = WebhookSender(auth_token, state)
    # Calls started through the state (inbound calls, tests) need the account's engine.
    state.voice = CallEngine(state, account_sid, webhooks)
    app = Flask(__name__, template_folder="templates")
    # Twilio's JSON keeps a resource's natural field order; so do we.
    app.json.sort_keys = False
    app.extensions[EXTENSION_KEY] = SimulatorContext(
        account_sid=account_sid,
        auth_token=auth_token,
        verify_service_sid=verify_service_sid,
        public_base_url=public_base_url.rstrip("/"),
        state=state,
        webhooks=webhooks,
        voice=state.voice,
    )
    app.before_request(_guard_rest_request)
    app.after_request(_basic_challenge)
    app.register_error_handler(TwilioError, TwilioError.to_response)
    app.register_error_handler(HTTPException, _http_error)
    for module in (verify, messaging, numbers, available, account, calls, recordings, phones, phone_calls):
        app.register_blueprint(module.bp)
    return app


def _guard_rest_request():
    """Authenticate and spec-check a REST request; pages pass through."""
    product_name, _, rest = request.path.lstrip("/").partition("/")
    product = PRODUCTS.get(product_name)
    if product is None:
        return None
    sim = current_sim()
    if not _authorized(sim):
        raise authenticate_error()
    path = "/" + rest
    account = ACCOUNT_IN_PATH.match(path)
    if account and account.group(1) != sim.account_sid:
        # Twilio does not confirm that another account exists.
        raise not_found(path)
    if sim.voice.base_url is None:
        # The address the app reaches the simulator at is where recordings are served.
        sim.voice.base_url = request.host_url.rstrip("/")
    if request.method == "GET" and RECORDING_MEDIA.match(path):
        g.twilio_params = {}
        return None
    g.twilio_params = validate_request(product, path, request)
    g.twilio_spec_ok = True
    return None


def _authorized(sim: SimulatorContext) -> bool:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    # Compare both parts in constant time, as a real credential check would.
    user_ok = hmac.compare_digest((auth.username or "").encode(), sim.account_sid.encode())
    token_ok = hmac.compare_digest((auth.password or "").encode(), sim.auth_token.encode())
    return user_ok and token_ok


def _http_error(error: HTTPException):
    """Flask's own refusals (no route, wrong method) in Twilio's JSON form."""
    if error.code == 404:
        product_name, _, rest = request.path.lstrip("/").partition("/")
        path = "/" + rest if product_name in PRODUCTS else request.path
        refusal = not_found(path)
        if g.get("twilio_spec_ok"):
            # Twilio has this endpoint; say so, or a developer hunts for a typo.
            refusal.message += " (Twilio serves it; the simulator does not)"
        return refusal.to_response()
    if error.code == 405:
        return TwilioError(405, 20004, f"Method {request.method} not allowed").to_response()
    status = error.code or 500
    code = 20500 if status >= 500 else 20001
    return TwilioError(status, code, error.description or error.name).to_response()


def _basic_challenge(response):
    """Add the Basic challenge Twilio sends with a 401."""
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Basic realm="Twilio API"')
    return response
