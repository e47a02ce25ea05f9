"""What happens to a callback request as its call unfolds.

Merchant busy, no answer, failed, or not pressing 1: retry with back-off up
to the attempt limit. Shopper not answering: one retry, then a text from
the proxy number telling them the merchant tried. Out of window or out of
attempts: expired, with the reason shown to the shopper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from registry.callbacks import windows
from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.merchants.models import Merchant
from registry.shoppers.models import Shopper
from registry.shoppers.timezones import zones_for_number

MERCHANT_MISSED = {"busy": "merchant_busy", "no-answer": "merchant_no_answer",
                   "failed": "merchant_failed", "canceled": "merchant_failed"}
SHOPPER_MISSED = {"busy", "no-answer", "failed", "canceled"}
SHOPPER_RETRIES = 1


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
