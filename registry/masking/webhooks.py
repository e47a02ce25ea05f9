"""Twilio's webhooks for the proxy numbers: inbound calls and texts, leg status.

Every view is signature-checked (`twilio_signed`) and idempotent: Twilio
retries deliveries, and a retried one is stored once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, current_app, request

from registry.calllog import operations as calllog
from registry.calllog.models import CallRecord
from registry.core.extensions import db
from registry.core.phones import mask
from registry.masking import routing
from registry.telephony import ProviderError, get_gateway, twiml
from registry.telephony.webhooks import twilio_signed, webhook_url
from registry.telephony.webhooks import twiml as twiml_response

log = logging.getLogger(__name__)
bp = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks/twilio")


def _ttl() -> timedelta:
    return timedelta(hours=current_app.config["BINDING_TTL_HOURS"])


def _answer(decision: routing.Decision) -> str:
    lang = twiml.language_for(decision.proxy_country)
    if decision.action == "ask_extension":
        return twiml.ask_extension(webhook_url("twilio_webhooks.voice_extension"), lang)
    if decision.action == "refuse":
        return twiml.refuse(lang)
    return twiml.connect(
        caller_id=decision.proxy_e164, to=decision.connect_to,
        status_callback=webhook_url("twilio_webhooks.voice_status", binding=decision.binding_id),
        action=webhook_url("twilio_webhooks.voice_dial_action"),
        record=current_app.config["RECORD_CALLS"],
        whisper_url=webhook_url("twilio_webhooks.voice_notice", lang=lang), lang=lang,
    )


def _autocommit_on_postgresql() -> None:
    """Routing runs a read and then one write, the log: on PostgreSQL each autocommits,
    which saves a transaction's BEGIN and COMMIT round trips on the hottest request."""
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@bp.post("/voice/incoming")
@twilio_signed
def voice_incoming():
    """A call to a proxy number: connect it to the other party, or refuse it."""
    call_sid = request.form.get("CallSid", "")
    if not call_sid:
        return twiml_response(twiml.refuse())
    _autocommit_on_postgresql()
    decision = routing.route_call(call_sid, request.form.get("To"), request.form.get("From"), _ttl())
    db.session.commit()
    return twiml_response(_answer(decision))


@bp.post("/voice/extension")
@twilio_signed
def voice_extension():
    """The digits a caller typed at a shared number's extension prompt."""
    call_sid, digits = request.form.get("CallSid", ""), request.form.get("Digits", "")
    extension = digits if len(digits) == 4 and digits.isdigit() else "----"
    _autocommit_on_postgresql()
    decision = routing.route_call(call_sid, request.form.get("To"), request.form.get("From"),
                                  _ttl(), extension=extension)
    db.session.commit()
    return twiml_response(_answer(decision))


@bp.post("/voice/notice")
@twilio_signed
def voice_notice():
    """Whispered to the callee before bridging: the call is recorded."""
    lang = request.args.get("lang", "en")
    return twiml_response(twiml.notice(lang if lang in twiml.PROMPTS else "en"))


@bp.post("/voice/status")
@twilio_signed
def voice_status():
    """Status callbacks for every leg the app starts or dials."""
    form = request.form
    call_sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    if not call_sid or not status:
        return "", 204
    binding_id = request.args.get("binding", type=int)
    record = calllog.open_leg(
        call_sid, kind="relay", direction=form.get("Direction", "outbound-dial"),
        from_number=form.get("From"), to_number=form.get("To"), status="queued",
        proxy_number=form.get("From") if binding_id else None,
        parent_call_sid=form.get("ParentCallSid"), binding_id=binding_id,
        merchant_id=_merchant_of_binding(binding_id),
    )
    duration = form.get("CallDuration", type=int)
    event = calllog.log_event("status", {
        "status": status, "sequence": form.get("SequenceNumber"), "duration": duration,
        "parent_call_sid": form.get("ParentCallSid"), "timestamp": form.get("Timestamp"),
        "from_masked": record.from_masked, "to_masked": record.to_masked,
    }, call_sid=call_sid, source="twilio",
        dedupe_key=calllog.delivery_key(call_sid, status, form.get("SequenceNumber")))
    if event is not None:
        calllog.advance_status(record, status, duration=duration)
    db.session.commit()
    return "", 204


def _merchant_of_binding(binding_id: int | None) -> int | None:
    from registry.masking.models import Binding

    binding = db.session.get(Binding, binding_id) if binding_id else None
    return binding.merchant_id if binding else None


@bp.post("/voice/dial-action")
@twilio_signed
def voice_dial_action():
    """The bridged leg ended: log its outcome and recording, then hang up."""
    form = request.form
    call_sid = form.get("CallSid", "")
    calllog.log_event("dial", {
        "dial_call_sid": form.get("DialCallSid"), "dial_status": form.get("DialCallStatus"),
        "duration": form.get("DialCallDuration", type=int),
        "recording_sid": form.get("RecordingSid"),
    }, call_sid=call_sid or None, source="twilio",
        dedupe_key=calllog.delivery_key(call_sid, "dial", form.get("DialCallSid")))
    child = db.session.query(CallRecord).filter_by(call_sid=form.get("DialCallSid", "")).first()
    if child is not None and form.get("RecordingUrl"):
        child.recording_sid, child.recording_url = form.get("RecordingSid"), form.get("RecordingUrl")
    db.session.commit()
    return twiml_response(twiml.hangup())


@bp.post("/sms/incoming")
@twilio_signed
def sms_incoming():
    """A text to a proxy number: relayed from the proxy to the other party."""
    form = request.form
    decision = routing.route_text(form.get("MessageSid", ""), form.get("To"), form.get("From"))
    db.session.commit()
    if decision.action == "connect":
        try:
            get_gateway().send_sms(decision.proxy_e164, decision.connect_to, form.get("Body", "")[:1600])
        except ProviderError as exc:
            log.warning("relaying a text to %s failed: %s", mask(decision.connect_to), exc.code)
    return twiml_response(twiml.no_reply())
