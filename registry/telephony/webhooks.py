"""Twilio's webhooks: only requests Twilio signed get through; what the call ones report."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from flask import Response, abort, current_app, request, url_for

from registry.telephony import get_gateway
from registry.telephony.fields import clean_body, first_bad_field

log = logging.getLogger(__name__)


def public_url() -> str:
    """The URL Twilio requested, as it signed it: on `PUBLIC_BASE_URL`."""
    path = request.full_path if request.query_string else request.path
    return current_app.config["PUBLIC_BASE_URL"] + path


def twilio_signed(view):
    """403, and nothing stored, unless `X-Twilio-Signature` matches the request; then 400,
    and nothing stored, unless every field has Twilio's documented shape (`fields`)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        signature = request.headers.get("X-Twilio-Signature")
        if not get_gateway().signature_is_valid(public_url(), request.form, signature):
            log.warning("refused a webhook with a missing or wrong signature on %s", request.path)
            abort(403)
        bad = first_bad_field(request.form, request.args, current_app.config)
        if bad is not None:
            # The field and why, never its value: it may be a phone number.
            log.warning("refused a signed webhook on %s: %s %s", request.path, *bad)
            return Response(f"Bad request: {bad[0]} {bad[1]}.\n", 400, mimetype="text/plain")
        return view(*args, **kwargs)

    return wrapped


@dataclass(frozen=True)
class CallStatus:
    """One status callback of a call leg (a `statusCallback`), as Twilio posts it."""

    call_sid: str  # "" if absent, as `status` is
    status: str
    sequence: str | None
    duration: int | None
    direction: str | None
    from_number: str | None
    to_number: str | None
    parent_call_sid: str | None
    timestamp: str | None


@dataclass(frozen=True)
class Recording:
    """A recording Twilio made of a call leg, held at `url` until the copy job stores it."""

    sid: str | None
    url: str


@dataclass(frozen=True)
class DialResult:
    """A `<Dial>`'s action callback: how the leg it bridged in ended."""

    call_sid: str  # the leg that dialled ("" if absent); `dial_call_sid` is the one bridged in
    dial_call_sid: str | None
    dial_status: str | None
    duration: int | None
    recording: Recording | None  # None unless the bridged leg was recorded


@dataclass(frozen=True)
class IncomingCall:
    """A call to a proxy number (its `url` webhook), or the digits its caller typed."""

    call_sid: str  # "" if absent
    to_number: str | None
    from_number: str | None  # E.164, or a withheld caller ID's word or number, or a client's
    digits: str | None


@dataclass(frozen=True)
class IncomingText:
    """A text to a proxy number (its `smsUrl` webhook)."""

    message_sid: str  # "" if absent
    to_number: str | None
    from_number: str | None
    body: str  # without control characters other than tab and line breaks


def parse_incoming_call(form) -> IncomingCall:
    """An incoming call's fields, from a webhook's form (checked by `twilio_signed`)."""
    return IncomingCall(call_sid=form.get("CallSid", ""), to_number=form.get("To"),
                        from_number=form.get("From"), digits=form.get("Digits"))


def parse_incoming_text(form) -> IncomingText:
    """An incoming text's fields, from a webhook's form (checked by `twilio_signed`)."""
    return IncomingText(message_sid=form.get("MessageSid", ""), to_number=form.get("To"),
                        from_number=form.get("From"), body=clean_body(form.get("Body", "")))


def parse_call_status(form) -> CallStatus:
    """A status callback's fields, from a webhook's form (a `MultiDict`)."""
    return CallStatus(call_sid=form.get("CallSid", ""), status=form.get("CallStatus", ""),
                      sequence=form.get("SequenceNumber"), duration=form.get("CallDuration", type=int),
                      direction=form.get("Direction"), from_number=form.get("From"), to_number=form.get("To"),
                      parent_call_sid=form.get("ParentCallSid"), timestamp=form.get("Timestamp"))


def parse_dial_result(form) -> DialResult:
    """A dial action callback's fields, from a webhook's form (a `MultiDict`)."""
    url = form.get("RecordingUrl")
    return DialResult(call_sid=form.get("CallSid", ""), dial_call_sid=form.get("DialCallSid"),
                      dial_status=form.get("DialCallStatus"), duration=form.get("DialCallDuration", type=int),
                      recording=Recording(form.get("RecordingSid"), url) if url else None)


def twiml(document: str) -> Response:
    """A TwiML document as the response to a webhook."""
    return Response(document, mimetype="text/xml")


def webhook_url(endpoint: str, **values) -> str:
    """An absolute URL of one of the app's webhooks, on `PUBLIC_BASE_URL`; `values` go in
    its query string (no webhook route has path arguments).

    Each endpoint's URL is built once per app: `url_for` is a real part of a
    routed call's cost, and the answer never changes.
    """
    bases = current_app.extensions.setdefault("webhook_urls", {})
    base = bases.get(endpoint)
    if base is None:
        base = bases[endpoint] = current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint)
    query = urlencode([(key, value) for key, value in values.items() if value is not None])
    return f"{base}?{query}" if query else base
