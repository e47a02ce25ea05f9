"""Asking for, reading and cancelling callbacks: the shopper-facing rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from registry.callbacks import events, windows
from registry.callbacks.models import OPEN_STATUSES, CallbackRequest
from registry.core import dialects, messages
from registry.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.timeutil import as_utc, utcnow
from registry.merchants.models import Merchant, MerchantNumber
from registry.merchants.operations import verified_number
from registry.shoppers.models import Shopper
from registry.shoppers.operations import ensure_not_blocked
from registry.shoppers.timezones import zones_for_number

MAX_ORDER_REF = 64
MAX_NOTE = 500


@dataclass(frozen=True)
class CallbackPolicy:
    shopper_call_hours: str = "08:00-21:00"
    max_open_per_shopper: int = 3
    max_per_shopper_day: int = 10
    min_lead: timedelta = timedelta(minutes=0)

    @classmethod
    def from_config(cls, config) -> CallbackPolicy:
        return cls(shopper_call_hours=config["SHOPPER_CALL_HOURS"],
                   max_open_per_shopper=config.get("CALLBACK_MAX_OPEN_PER_SHOPPER", 3),
                   max_per_shopper_day=config.get("CALLBACK_MAX_PER_SHOPPER_DAY", 10))


def callable_number(merchant: Merchant) -> MerchantNumber | None:
    """The merchant's verified number the platform calls, if it has one."""
    return verified_number(merchant)


def unavailable_code(merchant: Merchant) -> str | None:
    """Why this store shows no callback button (a `callback_unavailable.*` code), or None."""
    if merchant.status != "active":
        return "callback_unavailable.store_suspended"
    if callable_number(merchant) is None:
        if any(n.status == "suspended" for n in merchant.numbers):
            return "callback_unavailable.number_suspended"
        return "callback_unavailable.no_number"
    if not any(merchant.business_hours.get(day) for day in merchant.business_hours):
        return "callback_unavailable.no_hours"
    return None


def unavailable_reason(merchant: Merchant) -> str | None:
    """The same in English words: a request's stored reason, the API's `unavailable_reason`."""
    code = unavailable_code(merchant)
    return messages.english(code) if code else None


def allowed_intervals(merchant: Merchant, shopper: Shopper, policy: CallbackPolicy,
                      since: datetime, until: datetime):
    return windows.allowed(merchant.business_hours, merchant.timezone, zones_for_number(shopper.phone),
                           policy.shopper_call_hours, since, until)


def offered_slots(merchant: Merchant, shopper: Shopper, policy: CallbackPolicy, now=None):
    """Half-hour slots in the next 7 days that suit both sides."""
    now = now or utcnow()
    intervals = allowed_intervals(merchant, shopper, policy, now, now + windows.HORIZON)
    return windows.slots(intervals, now + policy.min_lead)


def waiting(merchant: Merchant, shopper: Shopper, policy: CallbackPolicy, at: datetime,
            now: datetime | None = None) -> windows.Waiting | None:
    """Why a call to this shopper from this store comes at `at` rather than now: the store
    opens then, or the shopper's calling hours begin then (`windows.waiting`), or None."""
    return windows.waiting(merchant.business_hours, merchant.timezone, zones_for_number(shopper.phone),
                           policy.shopper_call_hours, as_utc(at), now or utcnow())


def request_waiting(request: CallbackRequest, policy: CallbackPolicy,
                    now: datetime | None = None) -> windows.Waiting | None:
    """Why a scheduled request's call waits until its `due_at`; None for other statuses, and
    when its due time is a slot the shopper chose or a retry's pause."""
    if request.status != "scheduled":
        return None
    merchant = db.session.get(Merchant, request.merchant_id)
    shopper = db.session.get(Shopper, request.shopper_id)
    return waiting(merchant, shopper, policy, request.due_at, now)


def _parse_time(value: object, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput("invalid.when_not_text", field="when", part=name)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid.when_not_iso", field="when", part=name) from None
    if moment.tzinfo is None:
        raise InvalidInput("invalid.when_no_offset", field="when", part=name)
    return as_utc(moment)


def parse_when(when: object, now: datetime) -> tuple[bool, datetime, datetime]:
    """`"asap"` or `{"start", "end"}` -> (asap, window start, window end)."""
    if when == "asap" or when is None:
        return True, now, now + windows.HORIZON
    if not isinstance(when, dict) or set(when) - {"start", "end"} or "start" not in when:
        raise InvalidInput("invalid.when_shape", field="when")
    start = _parse_time(when["start"], "start")
    end = _parse_time(when["end"], "end") if when.get("end") is not None \
        else start + windows.SLOT_LENGTH
    if end <= start:
        raise InvalidInput("invalid.slot_order", field="when")
    if end <= now:
        raise InvalidInput("in_the_past", field="when")
    if start > now + windows.HORIZON:
        raise InvalidInput("invalid.too_far_ahead", field="when")
    return False, max(start, now), end


def _text(value: object, name: str, limit: int, too_long: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("invalid_type.text", field=name, name=name)
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(too_long, field=name, limit=limit)
    return value or None


def _check_caps(shopper: Shopper, merchant: Merchant, policy: CallbackPolicy, now: datetime) -> None:
    existing = db.session.scalar(select(CallbackRequest).where(
        CallbackRequest.shopper_id == shopper.id, CallbackRequest.merchant_id == merchant.id,
        CallbackRequest.status.in_(OPEN_STATUSES)))
    if existing is not None:
        raise Conflict("duplicate_request", id=existing.id, status=existing.status)
    open_count = db.session.scalar(select(func.count(CallbackRequest.id)).where(
        CallbackRequest.shopper_id == shopper.id, CallbackRequest.status.in_(OPEN_STATUSES)))
    if open_count >= policy.max_open_per_shopper:
        raise RateLimited("too_many_open_requests", 3600, limit=policy.max_open_per_shopper)
    day_ago = now - timedelta(days=1)
    today = list(db.session.scalars(select(CallbackRequest.created_at).where(
        CallbackRequest.shopper_id == shopper.id, CallbackRequest.created_at > day_ago)
        .order_by(CallbackRequest.created_at)))
    if len(today) >= policy.max_per_shopper_day:
        wait = (as_utc(today[-policy.max_per_shopper_day]) + timedelta(days=1) - now).total_seconds()
        raise RateLimited("too_many_requests_today", wait)


def request_callback(shopper: Shopper, merchant_id: int, when: object, order_ref: object,
                     note: object, policy: CallbackPolicy, now: datetime | None = None,
                     client_id: int | None = None) -> CallbackRequest:
    """Create a callback request, due at the first moment that suits both sides (asked for by
    the shopper, or by integration client `client_id` on the shopper's behalf)."""
    now = now or utcnow()
    merchant = get_or_refuse(Merchant, merchant_id, "not_found.store")
    ensure_not_blocked(shopper)
    unavailable = unavailable_code(merchant)
    if unavailable:
        raise Conflict(unavailable)
    asap, start, end = parse_when(when, now)
    order_ref = _text(order_ref, "order_ref", MAX_ORDER_REF, "too_long.order_ref")
    note = _text(note, "note", MAX_NOTE, "too_long.note")
    due = windows.first_moment(allowed_intervals(merchant, shopper, policy, start, end), start)
    if due is None:
        raise InvalidInput("outside_hours", field="when", hours=policy.shopper_call_hours)
    _check_caps(shopper, merchant, policy, now)
    request = CallbackRequest(merchant_id=merchant.id, shopper_id=shopper.id, order_ref=order_ref,
                              note=note, asap=asap, window_start=start, window_end=end, due_at=due,
                              status="scheduled", client_id=client_id)
    try:
        with dialects.savepoint():
            db.session.add(request)
    except IntegrityError:  # a concurrent request for the same pair won the race
        _check_caps(shopper, merchant, policy, now)
        raise
    events.notify(request)
    return request


def visible_request(request_id: int, *, shopper_id: int | None = None, owner_id: int | None = None,
                    staff: bool = False, client_id: int | None = None) -> CallbackRequest:
    """The request if the asker is its shopper, its merchant's owner, staff, or the integration
    client that asked for it; else 404."""
    request = get_or_refuse(CallbackRequest, request_id, "not_found.callback")
    if staff or (shopper_id is not None and request.shopper_id == shopper_id):
        return request
    if client_id is not None and request.client_id == client_id:
        return request
    if owner_id is not None:
        merchant = db.session.get(Merchant, request.merchant_id)
        if merchant is not None and merchant.owner_id == owner_id:
            return request
    raise NotFound("not_found.callback")


def cancel(request: CallbackRequest, reason: str = "canceled by the shopper") -> CallbackRequest:
    """Cancel an open request. A call already under way is not cut off."""
    if request.status in ("calling", "connected"):
        raise Conflict("call_in_progress")
    if request.is_open:
        request.status, request.reason, request.ended_at = "canceled", reason, utcnow()
        request.lease_owner = request.lease_until = None
        db.session.flush()
        events.notify(request)
    return request
