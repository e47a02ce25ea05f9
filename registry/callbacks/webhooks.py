"""Twilio's webhooks for callback calls: the merchant's whisper, the bridge, status.

URLs carry the attempt id; every view is signature-checked, so the id
cannot be forged, and idempotent, since Twilio retries.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, current_app, request

from registry.callbacks import outcomes
from registry.callbacks.models import CallbackAttempt
from registry.calllog import operations as calllog
from registry.core.extensions import db
from registry.core.phones import region_of
from registry.masking.allocation import extend
from registry.masking.models import Binding
from registry.merchants.models import Merchant
from registry.shoppers.models import Shopper
from registry.telephony import ProviderError, get_gateway, twiml
from registry.telephony.webhooks import twilio_signed, webhook_url
from registry.telephony.webhooks import twiml as twiml_response

log = logging.getLogger(__name__)
bp = Blueprint("callback_webhooks", __name__, url_prefix="/webhooks/twilio/callback")
LEG_KINDS = {"merchant": "callback_merchant_leg", "shopper": "callback_shopper_leg"}


def _attempt() -> CallbackAttempt | None:
    return db.session.get(CallbackAttempt, request.args.get("attempt", type=int) or 0)


def _rules() -> outcomes.RetryRules:
    return outcomes.RetryRules.from_config(current_app.config)


def _lang(attempt: CallbackAttempt) -> str:
    """Prompts in the language of the proxy number's country."""
    return twiml.language_for(region_of(attempt.proxy_number))


@bp.post("/answer")
@twilio_signed
def answer():
    """The merchant picked up: say who asks for a callback; press 1 to connect."""
    attempt = _attempt()
    if attempt is None or not attempt.request.is_open:
        return twiml_response(twiml.goodbye())
    merchant = db.session.get(Merchant, attempt.request.merchant_id)
    calllog.log_event("callback", {"event": "merchant_answered", "request_id": attempt.request_id,
                                   "attempt": attempt.seq}, call_sid=request.form.get("CallSid"),
                      dedupe_key=calllog.delivery_key(request.form.get("CallSid"), "answer"))
    db.session.commit()
    return twiml_response(twiml.callback_whisper(
        store=merchant.name, order_ref=attempt.request.order_ref, lang=_lang(attempt),
        action=webhook_url("callback_webhooks.choice", attempt=attempt.id)))


@bp.post("/choice")
@twilio_signed
def choice():
    """The merchant's key press: 1 bridges the shopper in through the proxy number."""
    attempt = _attempt()
    if attempt is None or not attempt.request.is_open or request.form.get("Digits") != "1":
        return twiml_response(twiml.goodbye())
    attempt.merchant_pressed_connect = True
    shopper = db.session.get(Shopper, attempt.request.shopper_id)
    binding = db.session.get(Binding, attempt.request.binding_id)
    if binding is not None:
        extend(binding, timedelta(hours=current_app.config["BINDING_TTL_HOURS"]))
    calllog.log_event("callback", {"event": "merchant_pressed_connect", "request_id": attempt.request_id,
                                   "attempt": attempt.seq}, call_sid=request.form.get("CallSid"),
                      dedupe_key=calllog.delivery_key(request.form.get("CallSid"), "choice"))
    db.session.commit()
    lang = _lang(attempt)
    return twiml_response(twiml.connect(
        caller_id=attempt.proxy_number, to=shopper.phone, record=current_app.config["RECORD_CALLS"],
        status_callback=webhook_url("callback_webhooks.status", attempt=attempt.id, leg="shopper"),
        action=webhook_url("callback_webhooks.dial_result", attempt=attempt.id),
        whisper_url=webhook_url("twilio_webhooks.voice_notice", lang=lang), lang=lang))


@bp.post("/status")
@twilio_signed
def status():
    """Status callbacks of both legs: log them; a final one may end or retry the request."""
    attempt, form = _attempt(), request.form
    leg = request.args.get("leg", "merchant")
    call_sid, call_status = form.get("CallSid", ""), form.get("CallStatus", "")
    if attempt is None or not call_sid or leg not in LEG_KINDS:
        return "", 204
    binding = db.session.get(Binding, attempt.request.binding_id) if attempt.request.binding_id else None
    record = calllog.open_leg(
        call_sid, kind=LEG_KINDS[leg], direction=form.get("Direction", "outbound-api"),
        from_number=form.get("From"), to_number=form.get("To"), status="queued",
        proxy_number=attempt.proxy_number, parent_call_sid=form.get("ParentCallSid"),
        binding_id=binding.id if binding else None, merchant_id=attempt.request.merchant_id)
    record.callback_request_id = attempt.request_id
    duration = form.get("CallDuration", type=int)
    event = calllog.log_event("status", {
        "status": call_status, "leg": leg, "sequence": form.get("SequenceNumber"), "duration": duration,
        "request_id": attempt.request_id, "attempt": attempt.seq,
        "parent_call_sid": form.get("ParentCallSid"),
        "from_masked": record.from_masked, "to_masked": record.to_masked,
    }, call_sid=call_sid, source="twilio",
        dedupe_key=calllog.delivery_key(call_sid, call_status, form.get("SequenceNumber")))
    if event is None:
        return "", 204
    calllog.advance_status(record, call_status, duration=duration)
    if leg == "merchant":
        if attempt.merchant_call_sid is None:
            attempt.merchant_call_sid = call_sid  # the callback beat the scheduler's commit
        if call_status in outcomes.MERCHANT_MISSED or call_status == "completed":
            outcomes.merchant_leg_ended(attempt, call_status, _rules())
    else:
        attempt.shopper_call_sid = attempt.shopper_call_sid or call_sid
        if call_status == "in-progress":
            outcomes.shopper_answered(attempt)
    db.session.commit()
    return "", 204


@bp.post("/dial-result")
@twilio_signed
def dial_result():
    """The bridge to the shopper ended: completed, or the shopper missed it."""
    attempt, form = _attempt(), request.form
    if attempt is None:
        return twiml_response(twiml.hangup())
    dial_status = form.get("DialCallStatus", "failed")
    calllog.log_event("dial", {"dial_status": dial_status, "dial_call_sid": form.get("DialCallSid"),
                               "duration": form.get("DialCallDuration", type=int),
                               "request_id": attempt.request_id, "attempt": attempt.seq},
                      call_sid=form.get("CallSid"), source="twilio",
                      dedupe_key=calllog.delivery_key(form.get("CallSid"), "dial", form.get("DialCallSid")))
    notify = outcomes.shopper_dial_ended(attempt, dial_status, _rules())
    if form.get("RecordingUrl") and form.get("DialCallSid"):
        from registry.calllog.models import CallRecord

        child = db.session.query(CallRecord).filter_by(call_sid=form["DialCallSid"]).first()
        if child is not None:
            child.recording_sid, child.recording_url = form.get("RecordingSid"), form["RecordingUrl"]
    db.session.commit()
    if notify:
        _tell_shopper_merchant_tried(attempt)
    return twiml_response(twiml.hangup())


def _tell_shopper_merchant_tried(attempt: CallbackAttempt) -> None:
    merchant = db.session.get(Merchant, attempt.request.merchant_id)
    shopper = db.session.get(Shopper, attempt.request.shopper_id)
    body = (f"{merchant.name} tried to call you back about your request but could not reach you. "
            f"You can call them at this number for the next few days.")
    try:
        get_gateway().send_sms(attempt.proxy_number, shopper.phone, body)
    except ProviderError as exc:
        log.warning("could not text shopper %s: %s", shopper.masked, exc.code)
