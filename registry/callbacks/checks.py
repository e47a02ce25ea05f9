"""Before a claimed callback is called: what else may have become of it.

A claimed request may have a call already (a dead scheduler's `placing`
attempt, adopted if Twilio has it; a placed call still running), may no
longer be allowed (the store's number, a blocked shopper), or may fall
outside both parties' call hours, and then is rescheduled. `check` decides;
`placing` writes the attempts of the requests it leaves to be called.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from registry.callbacks import outcomes, windows
from registry.callbacks.models import CallbackAttempt, CallbackRequest
from registry.callbacks.operations import callable_number, unavailable_reason
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.merchants.models import Merchant
from registry.shoppers.models import Shopper
from registry.shoppers.timezones import zones_for_number
from registry.telephony import ProviderError, TelephonyGateway

if TYPE_CHECKING:
    from registry.callbacks.settings import DispatchSettings


def _reconcile(gateway: TelephonyGateway, attempt: CallbackAttempt, merchant_e164: str) -> bool:
    """Adopt the call a dead scheduler placed for `attempt`; False if there is none."""
    if attempt.merchant_call_sid:
        # The call's own status webhook named it already (it can beat the lost commit).
        attempt.state, attempt.placed_at = "placed", attempt.placed_at or utcnow()
        return True
    started = as_utc(attempt.created_at) - timedelta(seconds=5)
    calls = gateway.find_calls(to=merchant_e164, from_=attempt.proxy_number)
    # Calls another attempt has adopted already are not this one's; one that names this attempt
    # is (its status webhook may have stored the SID since this attempt was read).
    taken = set(db.session.scalars(select(CallbackAttempt.merchant_call_sid).where(
        CallbackAttempt.merchant_call_sid.in_([call["sid"] for call in calls]),
        CallbackAttempt.id != attempt.id))) if calls else set()
    for call in calls:
        created = call["date_created"]
        if call["sid"] not in taken and (created is None or as_utc(created) >= started):
            attempt.merchant_call_sid, attempt.state, attempt.placed_at = call["sid"], "placed", utcnow()
            return True
    attempt.state, attempt.outcome, attempt.ended_at = "ended", "not_placed", utcnow()
    return False


def release(request: CallbackRequest, status: str = "calling") -> None:
    """Let go of the request's lease (the scheduler is done with it), leaving it `status`."""
    request.status, request.lease_owner, request.lease_until = status, None, None


def check(gateway: TelephonyGateway, request: CallbackRequest, merchant: Merchant, shopper: Shopper,
          settings: DispatchSettings) -> str | None:
    """What became of a claimed request that is not to be called now; None if it is."""
    number = callable_number(merchant)
    pending = next((a for a in request.attempts if a.state == "placing"), None)
    if pending is not None and number is not None:
        try:
            adopted = _reconcile(gateway, pending, number.e164)
        except ProviderError:
            request.lease_until = utcnow() + settings.backoff  # ask Twilio again later
            return "reconcile deferred"
        if adopted:
            release(request)
            return "adopted"
    if pending is None and any(a.state == "placed" for a in request.attempts):
        release(request)  # a placed call is running; its webhooks decide what comes next
        return "in progress"
    refusal = unavailable_reason(merchant) or (
        "this shopper may not request callbacks" if shopper.blocked_at else None)
    if refusal:
        outcomes.finish(request, "failed", refusal)
        return "failed"
    now = utcnow()
    if _callable_now(request, merchant, shopper, now, settings.shopper_call_hours):
        return None
    if outcomes.reschedule_if_outside_window(request, now, settings.shopper_call_hours):
        return request.status
    return None


def _callable_now(request: CallbackRequest, merchant: Merchant, shopper: Shopper, now: datetime,
                  call_hours: str) -> bool:
    """Whether both sides may be called within the second from `now` (the usual case), looking
    at those seconds only rather than at the rest of the request's window; when not,
    `reschedule_if_outside_window` finds the next moment (or expires the request)."""
    until = min(as_utc(request.window_end), now + timedelta(seconds=2))
    if until <= now:
        return False
    intervals = windows.allowed(merchant.business_hours, merchant.timezone,
                                zones_for_number(shopper.phone), call_hours, now, until)
    moment = windows.first_moment(intervals, now)
    return moment is not None and moment <= now + timedelta(seconds=1)
