"""Calls (2010-04-01): place outbound calls, read them, hang them up or redirect them.

Creating a call only queues it (201, status "queued"); the call engine
then rings the callee and plays the app's TwiML from the call's own
thread. An update changes the call at once where Twilio would (the
response shows the new status); the call's thread carries it out.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from twilio_sim.context import current_sim, params
from twilio_sim.engine import parse_events
from twilio_sim.errors import TwilioError, not_found
from twilio_sim.formats import is_e164, list_page, rfc2822
from twilio_sim.legs import Leg

API_VERSION = "2010-04-01"
MAX_TIMEOUT = 600
# Twilio's REST resource knows no "initiated": a call is queued until it rings.
REST_STATUS = {"initiated": "queued"}
SUBRESOURCES = ("events", "feedback", "notifications", "recordings", "streams", "payments",
                "user_defined_message_subscriptions", "user_defined_messages", "siprec")

bp = Blueprint("sim_calls", __name__, url_prefix="/api/2010-04-01/Accounts/<account_sid>")


@bp.post("/Calls.json")
def create_call(account_sid: str):
    """Place a call from one of the account's numbers: 201 with the Call resource."""
    sim, form = current_sim(), params()
    to, from_ = form.get("To"), form.get("From")
    if not is_e164(to):
        raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if sim.state.find_number(from_) is None:
        raise TwilioError(
            400, 21210,
            f"The source phone number provided, {from_}, is not yet verified for your account. "
            "You may only make calls from phone numbers that you've verified or purchased from Twilio.",
        )
    if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
        raise TwilioError(400, 21205, "Url parameter is required.")
    if form.get("ApplicationSid") and not form.get("Url") and not form.get("Twiml"):
        raise TwilioError(400, 21218, "The simulator has no TwiML Applications; pass Url or Twiml.")
    timeout = int(form.get("Timeout") or 60)
    leg = sim.voice.start_outbound(
        to, from_,
        url=form.get("Url") or "",
        method=(form.get("Method") or "POST").upper(),
        twiml=form.get("Twiml"),
        fallback_url=form.get("FallbackUrl") or "",
        fallback_method=(form.get("FallbackMethod") or "POST").upper(),
        status_callback=form.get("StatusCallback") or "",
        status_callback_method=(form.get("StatusCallbackMethod") or "POST").upper(),
        status_events=parse_events(form.get("StatusCallbackEvent")),
        timeout=max(1, min(timeout, MAX_TIMEOUT)),
        time_limit=int(form.get("TimeLimit") or 14400),
        record=bool(form.get("Record")),
        recording_status_callback=form.get("RecordingStatusCallback") or "",
        recording_status_callback_method=(form.get("RecordingStatusCallbackMethod") or "POST").upper(),
        phone_number_sid=sim.state.find_number(from_).sid,
    )
    with sim.state.lock:
        return jsonify(call_json(leg)), 201


@bp.get("/Calls.json")
def list_calls(account_sid: str):
    """The account's calls, newest first, filtered by To, From, Status and ParentCallSid."""
    state = current_sim().state
    filters = {name: request.args.get(name) for name in ("To", "From", "Status", "ParentCallSid")}
    with state.lock:
        legs = sorted(state.legs.values(), key=lambda leg: leg.created_at, reverse=True)
        records = [
            call_json(leg) for leg in legs
            if filters["To"] in (None, leg.to) and filters["From"] in (None, leg.from_)
            and filters["Status"] in (None, _rest_status(leg))
            and filters["ParentCallSid"] in (None, leg.parent_sid)
        ]
    path = f"/{API_VERSION}/Accounts/{account_sid}/Calls.json"
    return jsonify(list_page(records, "calls", path, request.args, filters))


@bp.get("/Calls/<sid>.json")
def fetch_call(account_sid: str, sid: str):
    """One call, or 404."""
    with current_sim().state.lock:
        return jsonify(call_json(_leg(sid)))


@bp.post("/Calls/<sid>.json")
def update_call(account_sid: str, sid: str):
    """Hang up (Status=completed|canceled) or redirect (Url or Twiml) a call."""
    state, form = current_sim().state, params()
    status, url, twiml = form.get("Status"), form.get("Url"), form.get("Twiml")
    with state.changed:
        leg = _leg(sid)
        shown = None
        if status and not leg.ended:
            answered = leg.status == "in-progress"
            if status == "completed" or not answered:
                # canceled leaves a call in progress alone; completed ends any call.
                leg.hangup_requested = "api"
                shown = "completed" if answered else "canceled"
        elif (url or twiml) and not status:
            if leg.ended:
                raise TwilioError(400, 21220, "Call is not in-progress. Cannot redirect.")
            method = (form.get("Method") or "POST").upper()
            if leg.status == "in-progress":
                leg.redirect = (url, method, twiml)
            else:
                # Not answered yet: the new instructions play when it is.
                leg.url, leg.method, leg.twiml = url or "", method, twiml
        if form.get("StatusCallback"):
            leg.status_callback = form["StatusCallback"]
            leg.status_callback_method = (form.get("StatusCallbackMethod") or "POST").upper()
        state.changed.notify_all([leg])
        return jsonify(call_json(leg, shown))


@bp.delete("/Calls/<sid>.json")
def delete_call(account_sid: str, sid: str):
    """Forget an ended call's record (a live call cannot be deleted)."""
    state = current_sim().state
    with state.lock:
        leg = _leg(sid)
        if not leg.ended:
            raise TwilioError(400, 21220, "Call is in progress; hang it up first.")
        del state.legs[sid]
    return "", 204


def call_json(leg: Leg, status: str | None = None) -> dict:
    """The Call resource as Twilio returns it (`status` overrides the one shown)."""
    uri = f"/{API_VERSION}/Accounts/{leg.account_sid}/Calls/{leg.sid}"
    return {
        "account_sid": leg.account_sid,
        "annotation": None,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": rfc2822(leg.created_at),
        "date_updated": rfc2822(leg.updated_at or leg.created_at),
        "direction": leg.direction,
        "duration": None if leg.duration is None else str(leg.duration),
        "end_time": None if leg.end_time is None else rfc2822(leg.end_time),
        "forwarded_from": None,
        "from": leg.from_,
        "from_formatted": formatted(leg.from_),
        "group_sid": None,
        "parent_call_sid": leg.parent_sid,
        "phone_number_sid": leg.phone_number_sid,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": leg.sid,
        "start_time": None if leg.start_time is None else rfc2822(leg.start_time),
        "status": status or _rest_status(leg),
        "subresource_uris": {name: f"{uri}/{_camel(name)}.json" for name in SUBRESOURCES},
        "to": leg.to,
        "to_formatted": formatted(leg.to),
        "trunk_sid": None,
        "uri": f"{uri}.json",
    }


def formatted(number: str) -> str:
    """Twilio's display form: (415) 555-0100 for North America, E.164 elsewhere."""
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _rest_status(leg: Leg) -> str:
    return REST_STATUS.get(leg.status, leg.status)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) if name != "siprec" else "Siprec"


def _leg(sid: str) -> Leg:
    leg = current_sim().state.legs.get(sid)
    if leg is None:
        raise not_found(request.path.removeprefix("/api"))
    return leg
