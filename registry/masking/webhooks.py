"""Twilio's webhooks for the proxy numbers: inbound calls and texts, leg status.

Every view is signature-checked (`twilio_signed`) and idempotent: Twilio
retries deliveries, and a retried one is stored once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, current_app, request

from registry.calllog import legs
from registry.core.dialects import use_autocommit
from registry.core.phones import mask
from registry.core.transactions import commit_now
from registry.masking import relay, routing
from registry.telephony import ProviderError, get_gateway, languages, twiml
from registry.telephony.webhooks import (
    parse_call_status,
    parse_dial_result,
    parse_incoming_call,
    parse_incoming_text,
    twilio_signed,
    webhook_url,
)
from registry.telephony.webhooks import twiml as twiml_response

log = logging.getLogger(__name__)
# The text is logged (keyed by its MessageSid) before it is relayed: a delivery Twilio
# retries after a failed commit would otherwise relay it twice.
SMS_LOGGED_FIRST = "a relayed text is logged before it is sent, so a retry cannot send it twice"
bp = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks/twilio")


def _ttl() -> timedelta:
    return timedelta(hours=current_app.config["BINDING_TTL_HOURS"])


def _languages(decision: routing.Decision, caller: str | None) -> tuple[str, str]:
    """(the caller's, the callee's) language. The merchant's follows the store, a shopper's
    their number; a caller with no readable number (withheld, or a shared number's caller
    not yet known) hears the proxy number's country's."""
    proxy = languages.region_language(decision.proxy_country)
    if decision.caller_is_merchant:
        return (languages.store_language(decision.merchant_timezone, caller),
                languages.number_language(decision.connect_to))
    return (languages.number_language(caller, default=proxy),
            languages.store_language(decision.merchant_timezone, decision.connect_to))


def _answer(decision: routing.Decision, caller: str | None) -> str:
    lang, callee_lang = _languages(decision, caller)
    if decision.action == "ask_extension":
        return twiml.ask_extension(webhook_url("twilio_webhooks.voice_extension"), lang)
    if decision.action == "refuse":
        return twiml.refuse(lang)
    return twiml.connect(
        caller_id=decision.proxy_e164, to=decision.connect_to,
        status_callback=webhook_url("twilio_webhooks.voice_status", binding=decision.binding_id),
        action=webhook_url("twilio_webhooks.voice_dial_action"),
        record=current_app.config["RECORD_CALLS"],
        whisper_url=webhook_url("twilio_webhooks.voice_notice", lang=callee_lang), lang=lang,
    )


@bp.post("/voice/incoming")
@twilio_signed
def voice_incoming():
    """A call to a proxy number: connect it to the other party, or refuse it."""
    call = parse_incoming_call(request.form)
    if not call.call_sid:
        return twiml_response(twiml.refuse(languages.number_language(call.from_number)))
    use_autocommit()  # a read, then one write (the log): no BEGIN/COMMIT round trips
    decision = routing.route_call(call.call_sid, call.to_number, call.from_number, _ttl())
    return twiml_response(_answer(decision, call.from_number))


@bp.post("/voice/extension")
@twilio_signed
def voice_extension():
    """The digits a caller typed at a shared number's extension prompt."""
    call = parse_incoming_call(request.form)
    digits = call.digits or ""
    extension = digits if len(digits) == 4 and digits.isdigit() else "----"
    use_autocommit()
    decision = routing.route_call(call.call_sid, call.to_number, call.from_number, _ttl(),
                                  extension=extension)
    return twiml_response(_answer(decision, call.from_number))


@bp.post("/voice/notice")
@twilio_signed
def voice_notice():
    """Whispered to the callee before bridging, in the language the URL names (`lang`,
    checked by `twilio_signed`): the call is recorded."""
    return twiml_response(twiml.notice(request.args.get("lang") or "en"))


@bp.post("/voice/status")
@twilio_signed
def voice_status():
    """Status callbacks for every leg the app starts or dials."""
    relay.leg_status(parse_call_status(request.form), request.args.get("binding", type=int))
    return "", 204


@bp.post("/voice/dial-action")
@twilio_signed
def voice_dial_action():
    """The bridged leg ended: log its outcome and recording, then hang up."""
    legs.dial_ended(parse_dial_result(request.form))
    return twiml_response(twiml.hangup())


@bp.post("/sms/incoming")
@twilio_signed
def sms_incoming():
    """A text to a proxy number: relayed from the proxy to the other party."""
    text = parse_incoming_text(request.form)
    decision = routing.route_text(text.message_sid, text.to_number, text.from_number)
    commit_now(SMS_LOGGED_FIRST)
    if decision.action == "connect":
        try:
            get_gateway().send_sms(decision.proxy_e164, decision.connect_to, text.body)
        except ProviderError as exc:
            log.warning("relaying a text to %s failed: %s", mask(decision.connect_to), exc.code)
    return twiml_response(twiml.no_reply())
