"""What a person does on the phones page with calls: answer, decline, hang up, press keys, call.

Plain form posts answered with a redirect back to the page (so a reload
never re-sends them); a client that asks for JSON (`Accept:
application/json`) gets `{"ok", "call"}` instead. A click on a call that
has moved on in the meantime (answered elsewhere, hung up) changes nothing
and says so.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, request, url_for

from twilio_sim.context import current_sim
from twilio_sim.formats import is_e164
from twilio_sim.phones import call_json

bp = Blueprint("sim_phone_calls", __name__, url_prefix="/_sim")

ACTIONS = ("answer", "decline", "hangup")


@bp.post("/calls/<sid>/<action>")
def act_on_call(sid: str, action: str):
    """Answer, decline or hang up call leg `sid` as the person at its phone."""
    state = current_sim().state
    if action not in ACTIONS:
        abort(404)
    if sid not in state.legs:
        abort(404)
    done = getattr(state, action)(sid)
    return _answer(done, sid, f"the call is no longer {'ringing' if action != 'hangup' else 'live'}")


@bp.post("/calls/<sid>/press")
def press_keys(sid: str):
    """Press keys (form field `digits`) on the phone of call leg `sid`."""
    state = current_sim().state
    if sid not in state.legs:
        abort(404)
    digits = request.form.get("digits", "")
    done = bool(digits) and state.press(sid, digits)
    return _answer(done, sid, "the call is not live, or no keys were given")


@bp.post("/phones/<path:e164>/call")
def call_from_phone(e164: str):
    """The phone `e164` calls the account's number in form field `to`."""
    return _start(e164, request.form.get("to", ""))


@bp.post("/calls")
def call_from_any_phone():
    """A phone (form field `from`) calls the account's number in form field `to`."""
    return _start(request.form.get("from", "").strip(), request.form.get("to", ""))


def _start(from_: str, to: str):
    phone = from_ if from_.startswith("+") else "+" + from_
    if not is_e164(phone):
        return _answer(False, None, f"{from_!r} is not a phone number in E.164 form")
    sid = current_sim().state.start_inbound_call(phone, to)
    return _answer(True, sid, "")


def _answer(done: bool, sid: str | None, why_not: str):
    state = current_sim().state
    if request.accept_mimetypes.best == "application/json":
        body = {"ok": done, "call": call_json(state.call(sid)) if sid else None}
        if not done:
            body["error"] = why_not
        return jsonify(body), 200 if done else 409
    if done:
        return redirect(url_for("sim_phones.phones_page"), 303)
    return redirect(url_for("sim_phones.phones_page", error=why_not), 303)
