"""The page of simulated phones, and the same inboxes and calls as JSON for scripts.

A person demoing the product (or a browser test) reads codes and texts
here instead of on a real handset, and takes calls: each message body sits
in an element with class `sms-body` inside the element with
`data-phone="<E.164>"`; each ringing call in an element with class
`ringing-call`, `data-phone` (the phone ringing) and `data-caller` (the
caller ID it shows), holding the buttons `.answer` and `.decline`. Live
calls (`.live-call`) have a keypad and `.hangup`; what was said to the
phone is in `.heard-line` elements. The actions are in `phone_calls.py`.
"""

from __future__ import annotations

import phonenumbers
from flask import Blueprint, jsonify, make_response, render_template, request

from twilio_sim.context import current_sim
from twilio_sim.legs import CallSnapshot
from twilio_sim.state import InboxMessage

bp = Blueprint("sim_phones", __name__)

# The page asks for its changing part this often, so a code or a call appears without a click
# (`static/phones.js` swaps in only what changed; without JavaScript the page reloads).
REFRESH_SECONDS = 2
RECENT_CALLS = 5


def _page_context() -> dict:
    sim = current_sim()
    phones = sim.state.phones()
    return {
        "phones": phones,
        "calls": {number: _calls_by_kind(sim.state.calls_for_phone(number)) for number, _, _ in phones},
        "account_numbers": sim.state.incoming_numbers(),
    }


@bp.get("/")
@bp.get("/phones")
def phones_page():
    """Every phone that received something or has calls, and every number the account owns."""
    sim = current_sim()
    return render_template(
        "simulator/phones.html",
        **_page_context(),
        error=request.args.get("error"),
        refresh_seconds=REFRESH_SECONDS,
        account_sid=sim.account_sid,
        public_base_url=sim.public_base_url,
    )


@bp.get("/_sim/phones-live")
def phones_fragment():
    """The page's changing part alone (what `#live` holds), for the page's script to poll.

    It carries an ETag: while nothing changed the browser's revalidation gets a bodyless 304,
    and the script leaves the page untouched.
    """
    response = make_response(render_template("simulator/_phones_live.html", **_page_context()))
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/_sim/inbox/<path:e164>")
def inbox_json(e164: str):
    """`{"phone", "messages": [...]}` for one number, oldest message first."""
    phone = _phone(e164)
    messages = [inbox_message_json(m) for m in current_sim().state.inbox(phone)]
    return jsonify(phone=phone, messages=messages)


@bp.get("/_sim/phone-calls/<path:e164>")
def calls_json(e164: str):
    """`{"phone", "calls": [...]}`: the call legs reaching one phone, newest first."""
    phone = _phone(e164)
    return jsonify(phone=phone, calls=[call_json(c) for c in current_sim().state.calls_for_phone(phone)])


@bp.app_template_filter("intl")
def international(number: str) -> str:
    """`+86 138 0013 8000`: a number as people read it; anything unparsable as given."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def inbox_message_json(message: InboxMessage) -> dict:
    """One delivered message as the inbox JSON shows it."""
    return {
        "sid": message.sid,
        "kind": message.kind,
        "from": message.from_,
        "to": message.to,
        "body": message.body,
        "date_created": message.date_created.isoformat(),
    }


def call_json(call: CallSnapshot) -> dict:
    """One call leg as the phones JSON shows it."""
    return {
        "sid": call.sid,
        "parent_sid": call.parent_sid,
        "direction": call.direction,
        "from": call.from_,
        "to": call.to,
        "phone": call.party,
        "status": call.status,
        "duration": call.duration,
        "heard": list(call.heard),
        "error": call.error,
    }


def _calls_by_kind(calls: list[CallSnapshot]) -> dict:
    """A phone's calls as the page shows them: ringing (to answer), live, and recent."""
    ringing = [c for c in calls if c.status == "ringing" and c.direction != "inbound"]
    # An inbound call is live for its caller from the first ring: the app answers it.
    live = [c for c in calls
            if c.status == "in-progress" or (c.status == "ringing" and c.direction == "inbound")]
    recent = [c for c in calls if c.ended][:RECENT_CALLS]
    return {"ringing": ringing, "live": live, "recent": recent}


def _phone(e164: str) -> str:
    # A "+" typed in a shell URL is easy to lose; the number is E.164 either way.
    return e164 if e164.startswith("+") else "+" + e164.strip()
