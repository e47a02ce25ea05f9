"""Programmable Messaging (2010-04-01 Messages): texts from the account's numbers.

A message is accepted only from a number the account owns (as Twilio
refuses any other sender), lands at once in the recipient's simulated
inbox, and, when the request named a `StatusCallback`, is followed by the
"sent" and "delivered" callbacks Twilio would post, signed.
"""

from __future__ import annotations

import math

from flask import Blueprint, jsonify, request

from twilio_sim.context import SimulatorContext, current_sim, params
from twilio_sim.errors import TwilioError, not_found
from twilio_sim.formats import is_e164, list_page, rfc2822
from twilio_sim.state import Message, SimulatorState, new_sid

API_VERSION = "2010-04-01"

bp = Blueprint("sim_messaging", __name__, url_prefix="/api/2010-04-01/Accounts/<account_sid>")


@bp.post("/Messages.json")
def create_message(account_sid: str):
    """Send a text: 201 with the Message resource, status "queued"."""
    form = params()
    body = send_message(
        current_sim(),
        to=form.get("To"),
        from_=form.get("From"),
        messaging_service_sid=form.get("MessagingServiceSid"),
        body=form.get("Body"),
        status_callback=form.get("StatusCallback"),
    )
    return jsonify(body), 201


@bp.get("/Messages.json")
def list_messages(account_sid: str):
    """The account's messages, newest first, optionally filtered by To and From."""
    sim = current_sim()
    filters = {"To": request.args.get("To"), "From": request.args.get("From")}
    with sim.state.lock:
        messages = sorted(sim.state.messages.values(), key=lambda m: m.created_at, reverse=True)
        records = [
            message_json(m)
            for m in messages
            if filters["To"] in (None, m.to) and filters["From"] in (None, m.from_)
        ]
    path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
    return jsonify(list_page(records, "messages", path, request.args, filters))


@bp.get("/Messages/<sid>.json")
def fetch_message(account_sid: str, sid: str):
    """One message, or 404."""
    with current_sim().state.lock:
        return jsonify(message_json(_message(sid)))


@bp.delete("/Messages/<sid>.json")
def delete_message(account_sid: str, sid: str):
    """Forget a message (its inbox copy stays on the phone, as on a real phone)."""
    state = current_sim().state
    with state.lock:
        _message(sid)
        del state.messages[sid]
    return "", 204


def send_message(sim: SimulatorContext, to, from_, messaging_service_sid, body, status_callback) -> dict:
    """Accept, deliver and (if asked) report a text; return the resource as created."""
    state = sim.state
    if not is_e164(to):
        raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not body:
        raise TwilioError(400, 21602, "Message body is required.")
    with state.lock:
        now = state.clock()
        message = Message(
            sid=new_sid("SM"),
            account_sid=sim.account_sid,
            to=to,
            from_=_sender(state, from_, messaging_service_sid),
            body=body,
            created_at=now,
            updated_at=now,
            messaging_service_sid=messaging_service_sid,
            status_callback=status_callback,
        )
        state.messages[message.sid] = message
        created = message_json(message)
        state.deliver(to, message.from_, body, kind="sms", sid=message.sid)
        message.status = "delivered"
    if status_callback:
        events = [_status_params(message, status) for status in ("sent", "delivered")]
        sim.webhooks.send_in_background(status_callback, events)
    return created


def _sender(state: SimulatorState, from_, messaging_service_sid) -> str:
    """The number a text goes out from: `From` if the account owns it, else the service's."""
    if from_:
        if state.find_number(from_) is None:
            raise TwilioError(
                400,
                21606,
                "The From phone number is not a valid, SMS-capable inbound phone number "
                f"or short code for your account: {from_}",
            )
        return from_
    if messaging_service_sid:
        # A Messaging Service sends from its sender pool: here, the account's numbers.
        owned = state.incoming_numbers()
        if not owned:
            raise TwilioError(400, 21704, "The Messaging Service contains no phone numbers")
        return owned[0].phone_number
    raise TwilioError(400, 21603, "A 'From' phone number is required.")


def message_json(m: Message) -> dict:
    """The Message resource as Twilio returns it."""
    sent = m.status in ("sent", "delivered")
    uri = f"/{API_VERSION}/Accounts/{m.account_sid}/Messages/{m.sid}"
    return {
        "account_sid": m.account_sid,
        "api_version": API_VERSION,
        "body": m.body,
        "date_created": rfc2822(m.created_at),
        "date_sent": rfc2822(m.updated_at) if sent else None,
        "date_updated": rfc2822(m.updated_at),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": m.from_,
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": "0",
        "num_segments": str(segments(m.body)),
        "price": None,
        "price_unit": "USD",
        "sid": m.sid,
        "status": m.status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": m.to,
        "uri": f"{uri}.json",
    }


def segments(body: str) -> int:
    """SMS segments for `body`: 160/153 GSM characters, 70/67 for anything else (UCS-2)."""
    single, multi = (160, 153) if body.isascii() else (70, 67)
    if len(body) <= single:
        return 1
    return math.ceil(len(body) / multi)


def _message(sid: str) -> Message:
    message = current_sim().state.messages.get(sid)
    if message is None:
        raise not_found(request.path.removeprefix("/api"))
    return message


def _status_params(message: Message, status: str) -> dict:
    """The form Twilio posts to a message's StatusCallback."""
    form = {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": message.account_sid,
        "From": message.from_,
        "To": message.to,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": API_VERSION,
    }
    if message.messaging_service_sid:
        form["MessagingServiceSid"] = message.messaging_service_sid
    return form
