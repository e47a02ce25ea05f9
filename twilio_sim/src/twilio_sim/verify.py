"""Verify v2: one-time codes with Twilio's rules.

The rules the product depends on, as Twilio applies them:

- a verification lives 10 minutes from its creation;
- sending again to a number with a live verification re-sends the *same*
  code on the same verification (same sid), at most 5 sends in all, then
  429 / 60203 until it expires;
- at most 5 checks: the 6th is refused with 429 / 60202 and kills it;
- a right code approves it, after which it is no longer pending and a
  further check finds nothing (404 / 20404), as does a check after expiry.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, jsonify, request

from twilio_sim.context import SimulatorContext, current_sim, params
from twilio_sim.errors import TwilioError, invalid_parameter, not_found
from twilio_sim.formats import is_e164, iso8601
from twilio_sim.state import SimulatorState, Verification, new_sid

CODE_LIFETIME_SECONDS = 600
MAX_SENDS = 5
MAX_CHECKS = 5
CHANNELS = ("sms", "call")
# Verify uses this product's "invalid parameter" code for every bad field.
INVALID = 60200
SENDER = "Verify"

bp = Blueprint("sim_verify", __name__, url_prefix="/verify/v2/Services/<service_sid>")


@bp.before_request
def _known_service():
    """Only the configured Verify service exists."""
    service_sid = (request.view_args or {}).get("service_sid")
    if service_sid != current_sim().verify_service_sid:
        raise not_found(request.path.removeprefix("/verify/v2"))


@bp.post("/Verifications")
def create_verification(service_sid: str):
    """Start (or re-send) a verification: 201 with the Verification resource."""
    form = params()
    body = start_verification(
        current_sim(), service_sid, form.get("To"), form.get("Channel"), form.get("Locale")
    )
    return jsonify(body), 201


@bp.post("/VerificationCheck")
def create_verification_check(service_sid: str):
    """Check a code: 200 with status "approved" or "pending"."""
    form = params()
    body = check_verification(
        current_sim(), service_sid, form.get("To"), form.get("VerificationSid"), form.get("Code")
    )
    return jsonify(body), 200


@bp.get("/Verifications/<sid>")
def fetch_verification(service_sid: str, sid: str):
    """A live or approved verification; 404 once it has expired."""
    state = current_sim().state
    with state.lock:
        verification = _by_sid(state, service_sid, sid)
        return jsonify(verification_json(verification))


@bp.post("/Verifications/<sid>")
def update_verification(service_sid: str, sid: str):
    """Cancel (or approve) a pending verification, as Twilio's update does."""
    status = params().get("Status")
    state = current_sim().state
    with state.lock:
        verification = _by_sid(state, service_sid, sid)
        if verification.status != "pending":
            raise not_found(request.path.removeprefix("/verify/v2"))
        verification.status = str(status)
        verification.updated_at = state.clock()
        return jsonify(verification_json(verification))


def start_verification(sim: SimulatorContext, service_sid: str, to, channel, locale=None) -> dict:
    """Send a code to `to` over `channel`; return the Verification resource as JSON."""
    if not is_e164(to):
        raise invalid_parameter(INVALID, "To", "not a phone number in E.164 format")
    channel = str(channel or "").lower()
    if channel not in CHANNELS:
        raise invalid_parameter(INVALID, "Channel", f"the simulator sends {' or '.join(CHANNELS)}")
    state = sim.state
    with state.lock:
        now = state.clock()
        verification = _live(state, service_sid, now, to=to)
        if verification is None:
            verification = Verification(
                sid=new_sid("VE"),
                service_sid=service_sid,
                account_sid=sim.account_sid,
                to=to,
                channel=channel,
                code=f"{secrets.randbelow(10**6):06d}",
                created_at=now,
                updated_at=now,
                locale=locale,
            )
            state.verifications[verification.sid] = verification
        elif len(verification.send_attempts) >= MAX_SENDS:
            raise TwilioError(429, 60203, "Max send attempts reached")
        verification.channel = channel
        verification.updated_at = now
        verification.send_attempts.append(
            {"time": iso8601(now), "channel": channel.upper(), "attempt_sid": new_sid("VL")}
        )
        _deliver_code(state, verification)
        return verification_json(verification)


def check_verification(sim: SimulatorContext, service_sid: str, to, verification_sid, code) -> dict:
    """Check `code` against the live verification for `to` (or `verification_sid`)."""
    if not code:
        raise invalid_parameter(INVALID, "Code", "required")
    if not to and not verification_sid:
        raise invalid_parameter(INVALID, "To", "To or VerificationSid is required")
    state = sim.state
    with state.lock:
        now = state.clock()
        verification = _live(state, service_sid, now, to=to, sid=verification_sid)
        if verification is None:
            raise not_found(f"/Services/{service_sid}/VerificationCheck")
        verification.checks += 1
        verification.updated_at = now
        if verification.checks > MAX_CHECKS:
            verification.status = "max_attempts_reached"
            raise TwilioError(429, 60202, "Max check attempts reached")
        if hmac.compare_digest(str(code).encode(), verification.code.encode()):
            verification.status = "approved"
        return check_json(verification)


def verification_json(v: Verification) -> dict:
    """The Verification resource as Twilio returns it."""
    return {
        "sid": v.sid,
        "service_sid": v.service_sid,
        "account_sid": v.account_sid,
        "to": v.to,
        "channel": v.channel,
        "status": v.status,
        "valid": v.status == "approved",
        "lookup": {},
        "amount": None,
        "payee": None,
        "send_code_attempts": list(v.send_attempts),
        "date_created": iso8601(v.created_at),
        "date_updated": iso8601(v.updated_at),
        "sna": None,
        "url": f"https://verify.twilio.com/v2/Services/{v.service_sid}/Verifications/{v.sid}",
    }


def check_json(v: Verification) -> dict:
    """The VerificationCheck resource as Twilio returns it."""
    return {
        "sid": v.sid,
        "service_sid": v.service_sid,
        "account_sid": v.account_sid,
        "to": v.to,
        "channel": v.channel,
        "status": v.status,
        "valid": v.status == "approved",
        "amount": None,
        "payee": None,
        "sna_attempts_error_codes": [],
        "date_created": iso8601(v.created_at),
        "date_updated": iso8601(v.updated_at),
    }


def _live(state: SimulatorState, service_sid: str, now: float, to=None, sid=None) -> Verification | None:
    """The pending, unexpired verification for `to` or `sid` (caller holds the lock)."""
    for verification in state.verifications.values():
        if verification.service_sid != service_sid or verification.status != "pending":
            continue
        if now >= verification.created_at + CODE_LIFETIME_SECONDS:
            verification.status = "expired"
            continue
        if sid is not None and verification.sid != sid:
            continue
        if to is not None and verification.to != to:
            continue
        return verification
    return None


def _by_sid(state: SimulatorState, service_sid: str, sid: str) -> Verification:
    verification = state.verifications.get(sid)
    expired = verification is not None and (state.clock() >= verification.created_at + CODE_LIFETIME_SECONDS)
    if verification is None or verification.service_sid != service_sid or expired:
        raise not_found(f"/Services/{service_sid}/Verifications/{sid}")
    return verification


def _deliver_code(state: SimulatorState, verification: Verification) -> None:
    """Put the code on the phone: a text, or the words a voice call would say."""
    code = verification.code
    if verification.channel == "sms":
        state.deliver(verification.to, SENDER, f"Your verification code is: {code}", code=code)
    else:
        spoken = ", ".join(code)
        body = f"Your verification code is {spoken}. Again, your code is {spoken}."
        state.deliver(verification.to, SENDER, body, kind="voice", code=code)
