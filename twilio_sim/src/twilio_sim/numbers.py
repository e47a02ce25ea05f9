"""IncomingPhoneNumbers (2010-04-01): the account's own numbers and their webhooks.

The product keeps its proxy pool here: it buys (creates) numbers, points
their voice and SMS URLs at itself, and lists them to reconcile. Numbers
can also be given to the account directly with
`SimulatorState.add_incoming_number`, as if bought in Twilio's console.
"""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, jsonify, request

from twilio_sim.context import current_sim, params
from twilio_sim.errors import TwilioError, not_found
from twilio_sim.formats import is_e164, list_page, rfc2822
from twilio_sim.state import IncomingNumber, SimulatorState

API_VERSION = "2010-04-01"

# Form fields that configure a number, and the attributes they set.
SETTINGS = {
    "FriendlyName": "friendly_name",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
    "SmsFallbackMethod": "sms_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
}

bp = Blueprint("sim_numbers", __name__, url_prefix="/api/2010-04-01/Accounts/<account_sid>")


@bp.get("/IncomingPhoneNumbers.json")
def list_numbers(account_sid: str):
    """The account's numbers, optionally filtered by PhoneNumber (partial, `*` wildcard)."""
    state = current_sim().state
    filters = {
        "PhoneNumber": request.args.get("PhoneNumber"),
        "FriendlyName": request.args.get("FriendlyName"),
    }
    pattern = _number_pattern(filters["PhoneNumber"])
    with state.lock:
        records = [
            number_json(n, account_sid)
            for n in state.incoming_numbers()
            if (pattern is None or pattern.search(n.phone_number))
            and filters["FriendlyName"] in (None, n.friendly_name)
        ]
    path = f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers.json"
    return jsonify(list_page(records, "incoming_phone_numbers", path, request.args, filters))


@bp.post("/IncomingPhoneNumbers.json")
def create_number(account_sid: str):
    """Buy a number (PhoneNumber, or any free one in AreaCode): 201; 400/21422 when it is not
    available (the account or another customer owns it)."""
    form = params()
    state = current_sim().state
    with state.lock:
        phone_number = form.get("PhoneNumber") or _free_number(state, form.get("AreaCode"))
        if phone_number is None:
            raise TwilioError(400, 21421, "PhoneNumber is required (or an AreaCode)")
        if not is_e164(phone_number):
            raise TwilioError(400, 21421, f"PhoneNumber is invalid: {phone_number}")
        if state.find_number(phone_number) is not None or phone_number in state.sold_elsewhere:
            raise TwilioError(400, 21422, f"PhoneNumber is not available: {phone_number}")
        number = state.numbers[state.add_incoming_number(phone_number)]
        _apply_settings(state, number, form)
        return jsonify(number_json(number, account_sid)), 201


@bp.get("/IncomingPhoneNumbers/<sid>.json")
def fetch_number(account_sid: str, sid: str):
    """One number, or 404."""
    with current_sim().state.lock:
        return jsonify(number_json(_number(sid), account_sid))


@bp.post("/IncomingPhoneNumbers/<sid>.json")
def update_number(account_sid: str, sid: str):
    """Change a number's name or webhooks; fields not sent stay as they were."""
    state = current_sim().state
    with state.lock:
        number = _number(sid)
        _apply_settings(state, number, params())
        return jsonify(number_json(number, account_sid))


@bp.delete("/IncomingPhoneNumbers/<sid>.json")
def release_number(account_sid: str, sid: str):
    """Release a number: the account no longer owns it."""
    state = current_sim().state
    with state.lock:
        _number(sid)
        del state.numbers[sid]
    return "", 204


def number_json(n: IncomingNumber, account_sid: str) -> dict:
    """The IncomingPhoneNumber resource as Twilio returns it."""
    uri = f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{n.sid}"
    return {
        "account_sid": account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": API_VERSION,
        "beta": False,
        "bundle_sid": None,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "date_created": rfc2822(n.created_at),
        "date_updated": rfc2822(n.updated_at),
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Inactive",
        "friendly_name": n.friendly_name,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": n.phone_number,
        "sid": n.sid,
        "sms_application_sid": "",
        "sms_fallback_method": n.sms_fallback_method,
        "sms_fallback_url": n.sms_fallback_url,
        "sms_method": n.sms_method,
        "sms_url": n.sms_url,
        "status": "in-use",
        "status_callback": n.status_callback,
        "status_callback_method": n.status_callback_method,
        "subresource_uris": {"assigned_add_ons": f"{uri}/AssignedAddOns.json"},
        "trunk_sid": None,
        "type": "local",
        "uri": f"{uri}.json",
        "voice_application_sid": "",
        "voice_caller_id_lookup": False,
        "voice_fallback_method": n.voice_fallback_method,
        "voice_fallback_url": n.voice_fallback_url,
        "voice_method": n.voice_method,
        "voice_receive_mode": "voice",
        "voice_url": n.voice_url,
    }


def _apply_settings(state: SimulatorState, number: IncomingNumber, form: dict) -> None:
    for field_name, attribute in SETTINGS.items():
        if field_name in form and form[field_name] is not None:
            setattr(number, attribute, str(form[field_name]))
    number.updated_at = state.clock()


def _number(sid: str) -> IncomingNumber:
    number = current_sim().state.numbers.get(sid)
    if number is None:
        raise not_found(request.path.removeprefix("/api"))
    return number


def _free_number(state: SimulatorState, area_code) -> str | None:
    """A number nobody in the simulation owns, in North American `area_code`."""
    if not area_code or not str(area_code).isdigit() or len(str(area_code)) != 3:
        return None
    for _ in range(1000):
        candidate = f"+1{area_code}555{secrets.randbelow(10**4):04d}"
        if state.find_number(candidate) is None:
            return candidate
    return None


def _number_pattern(value: str | None) -> re.Pattern | None:
    """Twilio's PhoneNumber filter: a part of the number, `*` standing for any digit."""
    if not value:
        return None
    return re.compile(r"\d".join(re.escape(part) for part in value.split("*")))
