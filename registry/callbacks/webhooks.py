"""Twilio's webhooks for callback calls: the merchant's whisper, the bridge, status.

URLs carry the attempt id; every view is signature-checked, so the id
cannot be forged, and idempotent, since Twilio retries.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, request

from registry.callbacks import outcomes
from registry.callbacks.models import CallbackAttempt
from registry.core.extensions import db
from registry.core.transactions import commit_now
from registry.merchants.models import Merchant
from registry.telephony import languages, twiml
from registry.telephony.webhooks import parse_call_status, parse_dial_result, twilio_signed, webhook_url
from registry.telephony.webhooks import twiml as twiml_response

bp = Blueprint("callback_webhooks", __name__, url_prefix="/webhooks/twilio/callback")


def _attempt() -> CallbackAttempt | None:
    return db.session.get(CallbackAttempt, request.args.get("attempt", type=int) or 0)


def _rules() -> outcomes.RetryRules:
    return outcomes.RetryRules.from_config(current_app.config)


def _merchant_language(attempt: CallbackAttempt | None) -> str:
    """The language the merchant hears: the store's (`languages.store_language`), on the
    number this leg called (`To`)."""
    number = request.form.get("To")
    merchant = db.session.get(Merchant, attempt.request.merchant_id) if attempt is not None else None
    return languages.store_language(merchant.timezone if merchant is not None else None, number)


@bp.post("/answer")
@twilio_signed
def answer():
    """The merchant picked up: say who asks for a callback; press 1 to connect."""
    attempt = _attempt()
    merchant = outcomes.merchant_answered(attempt, request.form.get("CallSid")) if attempt else None
    if merchant is None:
        return twiml_response(twiml.goodbye(_merchant_language(attempt)))
    return twiml_response(twiml.callback_whisper(
        store=merchant.name, order_ref=attempt.request.order_ref, lang=_merchant_language(attempt),
        action=webhook_url("callback_webhooks.choice", attempt=attempt.id)))


@bp.post("/choice")
@twilio_signed
def choice():
    """The merchant's key press: 1 bridges the shopper in through the proxy number. The
    merchant hears the recording notice in the store's language, the shopper in theirs."""
    attempt = _attempt()
    shopper = outcomes.merchant_chose(
        attempt, request.form.get("Digits"), request.form.get("CallSid"),
        timedelta(hours=current_app.config["BINDING_TTL_HOURS"])) if attempt else None
    if shopper is None:
        return twiml_response(twiml.goodbye(_merchant_language(attempt)))
    shopper_lang = languages.number_language(shopper.phone)
    return twiml_response(twiml.connect(
        caller_id=attempt.proxy_number, to=shopper.phone, record=current_app.config["RECORD_CALLS"],
        status_callback=webhook_url("callback_webhooks.status", attempt=attempt.id, leg="shopper"),
        action=webhook_url("callback_webhooks.dial_result", attempt=attempt.id),
        whisper_url=webhook_url("twilio_webhooks.voice_notice", lang=shopper_lang),
        lang=_merchant_language(attempt)))


@bp.post("/status")
@twilio_signed
def status():
    """Status callbacks of both legs: log them; a final one may end or retry the request."""
    attempt = _attempt()
    if attempt is not None:
        outcomes.leg_status(attempt, request.args.get("leg", "merchant"),
                            parse_call_status(request.form), _rules())
    return "", 204


@bp.post("/dial-result")
@twilio_signed
def dial_result():
    """The bridge to the shopper ended: completed, or the shopper missed it."""
    attempt = _attempt()
    if attempt is None:
        return twiml_response(twiml.hangup())
    notify = outcomes.dial_result(attempt, parse_dial_result(request.form), _rules())
    if notify:  # only once the outcome is stored: a retried delivery must not text again
        commit_now("the missed call is stored before the shopper is texted, so a retry cannot text twice")
        outcomes.tell_shopper_merchant_tried(attempt)
    return twiml_response(twiml.hangup())
