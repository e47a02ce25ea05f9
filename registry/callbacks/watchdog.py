"""Calls whose outcome never reached the app: asked of Twilio, and settled as their webhooks
would have settled them.

Twilio retries nothing it cannot deliver, so a lost final status callback
(the app down, a network fault) would leave a request `calling` for ever:
the shopper's status page would never move and the one-open-request limit
would block them. The `settle-silent-calls` job looks, once a minute, at
attempts placed more than `SILENT_AFTER` ago that are still waiting, asks
Twilio where each call stands and, once it has ended, applies the outcome
rules (`outcomes.py`) exactly as the final status callback would have.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from registry.callbacks import outcomes
from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.calllog import operations as calllog
from registry.calllog.models import FINAL_STATUSES
from registry.core.extensions import db
from registry.core.timeutil import utcnow
from registry.core.transactions import commit_now
from registry.telephony import ProviderError, TelephonyGateway

# Longer than a ring, the whisper and "press 1"; a bridged call still live is only looked at again.
SILENT_AFTER = timedelta(minutes=10)


def settle_silent_calls(gateway: TelephonyGateway, rules: outcomes.RetryRules,
                        now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Settle the ended calls among attempts silent for `SILENT_AFTER`; counts by what happened."""
    now = now or utcnow()
    attempts = db.session.scalars(
        select(CallbackAttempt).join(CallbackAttempt.request)
        .where(CallbackAttempt.state == "placed", CallbackAttempt.merchant_call_sid.is_not(None),
               CallbackAttempt.placed_at < now - SILENT_AFTER,
               CallbackRequest.status.in_(("calling", "connected")))
        .order_by(CallbackAttempt.placed_at).limit(limit)).all()
    counts: dict[str, int] = {}
    for attempt in attempts:
        result = _settle(gateway, attempt, rules)
        counts[result] = counts.get(result, 0) + 1
    return counts


def _status(gateway: TelephonyGateway, call_sid: str | None) -> str | None:
    return gateway.fetch_call_status(call_sid) if call_sid else None


def _settle(gateway: TelephonyGateway, attempt: CallbackAttempt, rules: outcomes.RetryRules) -> str:
    try:
        merchant = _status(gateway, attempt.merchant_call_sid)
        if merchant not in FINAL_STATUSES:
            return "still live"
        # Pressing 1 handed the outcome to the bridge: the shopper's leg decides it.
        shopper = _status(gateway, attempt.shopper_call_sid) if attempt.merchant_pressed_connect else None
    except ProviderError:
        return "Twilio unavailable"  # asked again at the next run
    if attempt.merchant_pressed_connect and shopper not in FINAL_STATUSES and attempt.shopper_call_sid:
        return "still live"
    calllog.log_event("callback", {
        "event": "settled_without_webhook", "request_id": attempt.request_id, "attempt": attempt.seq,
        "merchant_status": merchant, "shopper_status": shopper,
    }, call_sid=attempt.merchant_call_sid)
    if attempt.merchant_pressed_connect:
        # No shopper leg on record: the bridge never rang, as a failed dial would say.
        outcomes.shopper_dial_ended(attempt, shopper or "failed", rules)
    else:
        outcomes.merchant_leg_ended(attempt, merchant, rules)
    # Each call is settled on its own: the job asks Twilio about the next one in between, and
    # a failure there must not undo (or hold the locks of) the calls already settled.
    commit_now("each silent call is settled before Twilio is asked about the next")
    return "settled"
