"""What happens to a callback request as its call unfolds.

Merchant busy, no answer, failed, or not pressing 1: retry with back-off up
to the attempt limit. Shopper not answering: one retry, then a text from
the proxy number telling them the merchant tried. Out of window or out of
attempts: expired, with the reason shown to the shopper.

Twilio tells how the call unfolds through the callback webhooks; the
operations at the end of this module are what each of them does. A leg's
status and the bridge's end are recorded as every leg's are
(`calllog.legs`), and what they mean for the request follows from there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from registry.callbacks import events, windows
from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.calllog import legs
from registry.calllog.models import FINAL_STATUSES
from registry.calllog.operations import delivery_key, log_event
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.masking.allocation import extend
from registry.masking.models import Binding
from registry.merchants.models import Merchant
from registry.shoppers.models import Shopper
from registry.shoppers.timezones import zones_for_number
from registry.telephony import ProviderError, get_gateway
from registry.telephony.webhooks import CallStatus, DialResult
from registry.webhooks.calls import call_completed

MERCHANT_MISSED = {"busy": "merchant_busy", "no-answer": "merchant_no_answer",
                   "failed": "merchant_failed", "canceled": "merchant_failed"}
SHOPPER_MISSED = {"busy", "no-answer", "failed", "canceled"}
SHOPPER_RETRIES = 1
LEG_KINDS = {"merchant": "callback_merchant_leg", "shopper": "callback_shopper_leg"}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryRules:
    max_attempts: int = 3
    backoff: timedelta = timedelta(seconds=300)
    shopper_call_hours: str = "08:00-21:00"

    @classmethod
    def from_config(cls, config) -> RetryRules:
        return cls(max_attempts=config["CALLBACK_MAX_ATTEMPTS"],
                   backoff=timedelta(seconds=config["CALLBACK_RETRY_BACKOFF_SECONDS"]),
                   shopper_call_hours=config["SHOPPER_CALL_HOURS"])


def finish(request: CallbackRequest, status: str, reason: str | None = None) -> None:
    request.status, request.reason, request.ended_at = status, reason, utcnow()
    request.lease_owner = request.lease_until = None
    db.session.flush()
    events.notify(request)


def _next_moment(request: CallbackRequest, not_before: datetime, call_hours: str) -> datetime | None:
    merchant = db.session.get(Merchant, request.merchant_id)
    shopper = db.session.get(Shopper, request.shopper_id)
    end = as_utc(request.window_end)
    if not_before >= end:
        return None
    intervals = windows.allowed(merchant.business_hours, merchant.timezone,
                                zones_for_number(shopper.phone), call_hours, not_before, end)
    return windows.first_moment(intervals, not_before)


def reschedule_if_outside_window(request: CallbackRequest, now: datetime,
                                 call_hours: str = "08:00-21:00") -> bool:
    """A claimed request whose moment has passed out of the window moves on (or expires)."""
    moment = _next_moment(request, now, call_hours)
    if moment is not None and moment <= now + timedelta(seconds=1):
        return False
    if moment is None:
        finish(request, "expired", "no time left in the requested window")
    else:
        request.due_at, request.status = moment, "scheduled"
        request.lease_owner = request.lease_until = None
        db.session.flush()
        events.notify(request)
    return True


def retry_later(request: CallbackRequest, backoff: timedelta, reason: str,
                call_hours: str = "08:00-21:00") -> None:
    moment = _next_moment(request, utcnow() + backoff, call_hours)
    if moment is None:
        finish(request, "expired", f"{reason}; no time left in the requested window")
        return
    request.due_at, request.status, request.reason = moment, "scheduled", reason
    request.lease_owner = request.lease_until = None
    db.session.flush()
    events.notify(request)


def placed_attempts(request: CallbackRequest) -> int:
    return sum(1 for a in request.attempts if a.merchant_call_sid)


def _end_attempt(attempt: CallbackAttempt, outcome: str) -> bool:
    if attempt.state == "ended":
        return False
    attempt.state, attempt.outcome, attempt.ended_at = "ended", outcome, utcnow()
    return True


def merchant_leg_ended(attempt: CallbackAttempt, status: str, rules: RetryRules) -> str | None:
    """The merchant leg reached a final status; returns the shopper SMS to send, if any."""
    request = attempt.request
    if attempt.state == "ended" or not request.is_open:
        return None
    if status == "completed" and attempt.merchant_pressed_connect:
        return None  # the dial result decides
    outcome = MERCHANT_MISSED.get(status, "merchant_did_not_connect")
    _end_attempt(attempt, outcome)
    if placed_attempts(request) >= rules.max_attempts:
        finish(request, "expired",
               f"the store did not take the call after {placed_attempts(request)} attempts")
    else:
        retry_later(request, rules.backoff, "the store did not answer; trying again",
                    rules.shopper_call_hours)
    db.session.flush()
    return None


def shopper_dial_ended(attempt: CallbackAttempt, dial_status: str, rules: RetryRules) -> bool:
    """The bridge to the shopper ended. Returns True when the shopper should get the
    "the merchant tried to call you" text."""
    request = attempt.request
    if not _end_attempt(attempt, "completed" if dial_status == "completed" else f"shopper_{dial_status}"):
        return False
    if dial_status == "completed":
        finish(request, "completed")
        return False
    if dial_status not in SHOPPER_MISSED:
        finish(request, "failed", f"the connection failed ({dial_status})")
        return False
    request.shopper_misses += 1
    if request.shopper_misses <= SHOPPER_RETRIES:
        retry_later(request, rules.backoff, "you did not answer; the store will try again",
                    rules.shopper_call_hours)
        return False
    finish(request, "failed", "you did not answer the callback")
    return True


def shopper_answered(attempt: CallbackAttempt) -> None:
    if attempt.request.status in ("scheduled", "calling"):
        attempt.request.status = "connected"
        db.session.flush()


def _log_step(attempt: CallbackAttempt, event: str, call_sid: str | None, webhook: str) -> None:
    """Log a step of the merchant's leg once per webhook delivery (Twilio retries)."""
    log_event("callback", {"event": event, "request_id": attempt.request_id, "attempt": attempt.seq},
              call_sid=call_sid, dedupe_key=delivery_key(call_sid, webhook))


def merchant_answered(attempt: CallbackAttempt, call_sid: str | None) -> Merchant | None:
    """The merchant picked up: logged once; the store to name in the whisper, or None if
    the request is no longer open (the merchant hears goodbye)."""
    request = attempt.request
    if not request.is_open:
        return None
    _log_step(attempt, "merchant_answered", call_sid, "answer")
    return db.session.get(Merchant, request.merchant_id)


def merchant_chose(attempt: CallbackAttempt, digits: str | None, call_sid: str | None,
                   binding_ttl: timedelta) -> Shopper | None:
    """The merchant's key press: 1 connects, and keeps the pair's binding alive for
    `binding_ttl`; returns the shopper to bridge in, or None (goodbye; the leg's final
    status then counts it as a miss)."""
    request = attempt.request
    if not request.is_open or digits != "1":
        return None
    attempt.merchant_pressed_connect = True
    binding = db.session.get(Binding, request.binding_id) if request.binding_id else None
    if binding is not None:
        extend(binding, binding_ttl)
    _log_step(attempt, "merchant_pressed_connect", call_sid, "choice")
    return db.session.get(Shopper, request.shopper_id)


def leg_status(attempt: CallbackAttempt, leg: str, report: CallStatus, rules: RetryRules) -> None:
    """A status callback of the attempt's `leg` ("merchant" or "shopper"): recorded as every
    leg's is, then what it means for the request: a final status of the merchant's leg
    ends the attempt (`merchant_leg_ended`), the shopper answering connects the request.
    A repeated delivery, or an unknown leg, changes nothing."""
    if leg not in LEG_KINDS:
        return
    request = attempt.request
    owner = legs.Leg(LEG_KINDS[leg], direction="outbound-api", proxy_number=attempt.proxy_number,
                     binding_id=request.binding_id, merchant_id=request.merchant_id,
                     callback_request_id=request.id)
    change = legs.status_changed(owner, report,
                                 context={"leg": leg, "request_id": request.id, "attempt": attempt.seq})
    if change is None:
        return
    call_completed(change.record, change.moved, request.order_ref)
    if leg == "merchant":
        # The status callback can beat the scheduler's commit of the SID it placed.
        attempt.merchant_call_sid = attempt.merchant_call_sid or report.call_sid
        if report.status in FINAL_STATUSES:
            merchant_leg_ended(attempt, report.status, rules)
    else:
        attempt.shopper_call_sid = attempt.shopper_call_sid or report.call_sid
        if report.status == "in-progress":
            shopper_answered(attempt)


def dial_result(attempt: CallbackAttempt, report: DialResult, rules: RetryRules) -> bool:
    """The bridge to the shopper ended: logged, with its recording, as every bridge's end
    is, then the attempt's outcome (`shopper_dial_ended`). True when the shopper is to be
    told the merchant tried: send it with `tell_shopper_merchant_tried` once committed."""
    legs.dial_ended(report, context={"request_id": attempt.request_id, "attempt": attempt.seq})
    return shopper_dial_ended(attempt, report.dial_status or "failed", rules)


def tell_shopper_merchant_tried(attempt: CallbackAttempt) -> None:
    """Text the shopper, from the proxy number, that the merchant could not reach them.

    Sent after the outcome is committed, so a retried webhook (which finds the
    attempt ended) never sends it twice; a failure to send is logged, not retried.
    """
    merchant = db.session.get(Merchant, attempt.request.merchant_id)
    shopper = db.session.get(Shopper, attempt.request.shopper_id)
    body = (f"{merchant.name} tried to call you back about your request but could not reach you. "
            f"You can call them at this number for the next few days.")
    try:
        get_gateway().send_sms(attempt.proxy_number, shopper.phone, body)
    except ProviderError as exc:
        log.warning("could not text shopper %s: %s", shopper.masked, exc.code)
