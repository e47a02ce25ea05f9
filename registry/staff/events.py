"""Call events in the words of a complaint handler: one sentence per kind and outcome.

The chained log stores what Twilio and the platform reported (`status=no-answer`,
`dial_status=completed`, routing reasons in English). The staff pages show each
event as a sentence in the reader's language, with masked numbers only; the raw
data stays available behind a "Technical details" toggle (`technical`).

Every word here is looked up when the page renders (gettext at call time), so
the reader's language decides; `N_` only marks the tables' words for extraction.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import format_decimal, gettext

from registry.callbacks.forms import callback_text
from registry.calllog.models import CallEvent, CallRecord
from registry.core.i18n import N_
from registry.staff.forms import utc_time

# Twilio's call status words, as staff pages show them.
STATUS_WORDS = {
    "queued": N_("queued"), "initiated": N_("initiated"), "ringing": N_("ringing"),
    "in-progress": N_("in progress"), "completed": N_("completed"), "busy": N_("busy"),
    "no-answer": N_("no answer"), "failed": N_("failed"), "canceled": N_("canceled"),
}
# A callback request's own states.
REQUEST_STATUS_WORDS = {
    "requested": N_("requested"), "scheduled": N_("scheduled"), "calling": N_("calling the store"),
    "connected": N_("connected"), "completed": N_("completed"), "failed": N_("failed"),
    "expired": N_("expired"), "canceled": N_("canceled"),
}
# How a callback attempt ended (`CallbackAttempt.outcome`), said about both parties.
ATTEMPT_OUTCOMES = {
    "not_placed": N_("the call was not placed"),
    "provider_error": N_("Twilio refused to place the call"),
    "merchant_busy": N_("the store's line was busy"),
    "merchant_no_answer": N_("the store did not answer"),
    "merchant_failed": N_("the call to the store did not go through"),
    "merchant_did_not_connect": N_("the store did not press 1 to connect"),
    "completed": N_("the shopper and the store talked"),
    "shopper_busy": N_("the shopper's line was busy"),
    "shopper_no-answer": N_("the shopper did not answer"),
    "shopper_failed": N_("the call to the shopper did not go through"),
    "shopper_canceled": N_("the call to the shopper was cut off"),
}
# Stored request reasons worded for the shopper ("you…"), said about the shopper instead.
STAFF_REASONS = {
    "you did not answer; the store will try again": N_("the shopper did not answer; trying again"),
    "you did not answer the callback": N_("the shopper did not answer the callback"),
}
BINDING_END_REASONS = {"expired": N_("it expired")}
# Why a call or text to a platform number was refused (`masking.routing`).
REFUSALS = {
    "not a proxy number": N_("the number dialled is not a platform number"),
    "caller ID missing or unreadable": N_("the caller's number was hidden or unreadable"),
    "no active binding for this caller": N_("the caller has no active pairing with a store"),
    "merchant suspended": N_("the store is suspended"),
    "merchant number suspended": N_("the store's number is suspended"),
    "shared number takes calls only": N_("a shared platform number takes calls only"),
}
SOURCES = {"twilio": N_("Twilio"), "app": N_("platform"), "shopper": N_("shopper")}
DIRECTIONS = {"inbound": N_("incoming"), "outbound-api": N_("placed by the platform"),
              "outbound-dial": N_("forwarded")}


def _word(table: Mapping, key: str | None) -> str:
    if key is None:
        return "—"
    return gettext(table[key]) if key in table else key


def status_word(status: str | None) -> str:
    """A Twilio call status (`no-answer`) as the reader says it."""
    return _word(STATUS_WORDS, status)


def request_status_word(status: str | None) -> str:
    """A callback request's status as the reader says it."""
    return _word(REQUEST_STATUS_WORDS, status)


def attempt_outcome(outcome: str | None) -> str:
    """How a callback attempt ended, in words."""
    return _word(ATTEMPT_OUTCOMES, outcome)


def request_reason(reason: str | None) -> str:
    """A request's stored reason, said about the shopper rather than to them."""
    if reason in STAFF_REASONS:
        return gettext(STAFF_REASONS[reason])
    return callback_text(reason)


def binding_end_reason(reason: str | None) -> str:
    """Why a binding ended, in words."""
    return _word(BINDING_END_REASONS, reason) if reason else ""


def source_word(source: str) -> str:
    """Who reported an event: Twilio, the platform, the shopper."""
    return _word(SOURCES, source)


def direction_word(direction: str | None) -> str:
    """Which way a leg went: incoming, placed by the platform, forwarded."""
    return _word(DIRECTIONS, direction)


def duration_words(seconds) -> str:
    """`2 min 14 s`, `45 s`."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    if seconds >= 60:
        return gettext("%(m)s min %(s)s s", m=seconds // 60, s=seconds % 60)
    return gettext("%(s)s s", s=seconds)


def technical(event: CallEvent) -> str:
    """The event's stored data as `key=value` pairs (masked numbers only), for the details toggle."""
    if event.redacted_at is not None:
        return ""
    return " ".join(f"{key}={value}" for key, value in sorted((event.data or {}).items())
                    if value not in (None, ""))


def describe(event: CallEvent, record: CallRecord | None = None) -> str:
    """One sentence saying what the event means; `record` is the leg it belongs to, if known."""
    if event.redacted_at is not None:
        return gettext("The content of this event was erased by retention on %(when)s.",
                       when=utc_time(event.redacted_at))
    data = event.data or {}
    describer = _DESCRIBERS.get(event.kind)
    sentence = describer(data, record) if describer else None
    return sentence or gettext("Event “%(kind)s” (see the technical details).", kind=event.kind)


def _cap(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _party(data: Mapping, record: CallRecord | None) -> str:
    """Who the outbound leg rang, with the masked number: "the store's phone (+86 138****8000)"."""
    number = data.get("to_masked") or (record.to_masked if record else None)
    leg = data.get("leg") or {"callback_merchant_leg": "merchant", "callback_shopper_leg": "shopper"}.get(
        record.kind if record else "")
    if leg == "merchant":
        return gettext("the store's phone (%(number)s)", number=number) if number else gettext(
            "the store's phone")
    if leg == "shopper":
        return gettext("the shopper's phone (%(number)s)", number=number) if number else gettext(
            "the shopper's phone")
    return gettext("the phone %(number)s", number=number) if number else gettext("the phone called")


def _inbound(record: CallRecord | None, data: Mapping) -> bool:
    if record is not None:
        return record.direction == "inbound"
    return not data.get("leg") and not data.get("request_id")


def _status(data: Mapping, record: CallRecord | None) -> str | None:
    status, duration = data.get("status"), duration_words(data.get("duration"))
    if _inbound(record, data):
        caller = data.get("from_masked") or (record.from_masked if record else None) or gettext(
            "an unknown number")
        if status == "ringing":
            return gettext("A call from %(caller)s reached the platform number.", caller=caller)
        if status == "in-progress":
            return gettext("The platform answered the call from %(caller)s.", caller=caller)
        if status == "completed":
            return gettext("The call from %(caller)s ended after %(duration)s.", caller=caller,
                           duration=duration) if duration else gettext(
                "The call from %(caller)s ended.", caller=caller)
        return gettext("The call from %(caller)s ended: %(status)s.", caller=caller,
                       status=status_word(status))
    party = _party(data, record)
    sentences = {
        "queued": N_("The call to %(party)s was queued."),
        "initiated": N_("The platform placed the call to %(party)s."),
        "ringing": N_("%(party)s is ringing."),
        "in-progress": N_("%(party)s answered."),
        "busy": N_("%(party)s was busy."),
        "no-answer": N_("%(party)s rang but nobody answered."),
        "failed": N_("The call to %(party)s could not be placed."),
        "canceled": N_("The call to %(party)s was canceled before anyone answered."),
    }
    if status == "completed":
        if duration:
            return _cap(gettext("The call with %(party)s ended; it lasted %(duration)s.", party=party,
                                duration=duration))
        return _cap(gettext("The call with %(party)s ended.", party=party))
    if status in sentences:
        return _cap(gettext(sentences[status], party=party))
    return None


def _dial(data: Mapping, record: CallRecord | None) -> str | None:
    status, duration = data.get("dial_status"), duration_words(data.get("duration"))
    callback = data.get("request_id") is not None or (
        record is not None and record.kind.startswith("callback"))
    if status == "completed":
        if callback:
            sentence = gettext("The shopper was connected; the call lasted %(duration)s.",
                               duration=duration) if duration else gettext("The shopper was connected.")
        else:
            sentence = gettext("The caller was put through; the call lasted %(duration)s.",
                               duration=duration) if duration else gettext("The caller was put through.")
    else:
        words = ({"no-answer": N_("The shopper's phone rang but nobody answered."),
                  "busy": N_("The shopper's phone was busy."),
                  "failed": N_("The call to the shopper could not be connected."),
                  "canceled": N_("The call to the shopper was cut off before the shopper answered.")}
                 if callback else
                 {"no-answer": N_("The forwarded call rang but nobody answered."),
                  "busy": N_("The forwarded call found the line busy."),
                  "failed": N_("The forwarded call could not be connected."),
                  "canceled": N_("The caller hung up before the forwarded call was answered.")})
        if status not in words:
            return None
        sentence = gettext(words[status])
    if data.get("recording_sid"):
        sentence += " " + gettext("The conversation was recorded.")
    return sentence


def _routing(data: Mapping, record: CallRecord | None) -> str | None:
    decision = data.get("decision")
    if decision == "connect":
        number = data.get("to_masked")
        return gettext("The caller is paired with %(number)s (binding #%(id)s): the call is put through.",
                       number=number, id=data.get("binding_id")) if number else gettext(
            "The caller is paired (binding #%(id)s): the call is put through.", id=data.get("binding_id"))
    if decision == "ask_extension":
        return gettext("The caller reached a shared platform number and was asked for an extension.")
    if decision == "refuse":
        return gettext("The call was refused: %(reason)s.", reason=_word(REFUSALS, data.get("reason")))
    return None


def _sms(data: Mapping, record: CallRecord | None) -> str | None:
    sender = data.get("from_masked") or gettext("an unknown number")
    if data.get("decision") == "relay":
        return gettext("A text from %(sender)s was relayed through the pairing (binding #%(id)s).",
                       sender=sender, id=data.get("binding_id"))
    return gettext("A text from %(sender)s was not relayed: %(reason)s.", sender=sender,
                   reason=_word(REFUSALS, data.get("reason")))


def _callback(data: Mapping, record: CallRecord | None) -> str | None:
    step, attempt = data.get("event"), data.get("attempt")
    if step == "merchant_answered":
        return gettext("The store answered callback attempt %(n)s and was told who is waiting.", n=attempt)
    if step == "merchant_pressed_connect":
        return gettext("The store pressed 1 to be connected to the shopper.")
    if step == "settled_without_webhook":
        return gettext("Twilio never reported how attempt %(n)s ended; the platform asked Twilio and closed "
                       "it (store's call: %(merchant)s; shopper's call: %(shopper)s).", n=attempt,
                       merchant=status_word(data.get("merchant_status")),
                       shopper=status_word(data.get("shopper_status")))
    return None


def _recording(data: Mapping, record: CallRecord | None) -> str | None:
    if data.get("event") == "stored":
        size = data.get("bytes")
        return gettext("The recording was copied into the platform's storage (%(size)s bytes).",
                       size=format_decimal(size)) if isinstance(size, int) else gettext(
            "The recording was copied into the platform's storage.")
    if data.get("event") == "deleted":
        return gettext("The recording was deleted: it was older than the retention period.")
    return None


_DESCRIBERS = {"status": _status, "dial": _dial, "routing": _routing, "sms": _sms, "callback": _callback,
               "recording": _recording}
