"""Asking for, reading and cancelling callbacks: the shopper-facing rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from registry.callbacks import windows
from registry.callbacks.models import OPEN_STATUSES, CallbackRequest
from registry.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.merchants.models import Merchant, MerchantNumber
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
    return next((n for n in merchant.numbers if n.status == "verified"), None)


def unavailable_reason(merchant: Merchant) -> str | None:
    """Why this store shows no callback button, or None if it shows one."""
    if merchant.status != "active":
        return "This store is suspended and cannot take callback requests."
    if callable_number(merchant) is None:
        if any(n.status == "suspended" for n in merchant.numbers):
            return "This store's phone number is suspended."
        return "This store has no verified phone number yet."
    if not any(merchant.business_hours.get(day) for day in merchant.business_hours):
        return "This store has not set its business hours."
    return None


def allowed_intervals(merchant: Merchant, shopper: Shopper, policy: CallbackPolicy,
                      since: datetime, until: datetime):
    return windows.allowed(merchant.business_hours, merchant.timezone, zones_for_number(shopper.phone),
                           policy.shopper_call_hours, since, until)


def offered_slots(merchant: Merchant, shopper: Shopper, policy: CallbackPolicy, now=None):
    """Half-hour slots in the next 7 days that suit both sides."""
    now = now or utcnow()
    intervals = allowed_intervals(merchant, shopper, policy, now, now + windows.HORIZON)
    return windows.slots(intervals, now + policy.min_lead)


def _parse_time(value: object, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput(f"'when.{name}' must be an ISO 8601 time with an offset.", field="when")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"'when.{name}' is not an ISO 8601 time.", field="when") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"'when.{name}' needs a UTC offset, e.g. 2026-11-23T10:00:00+08:00.",
                           field="when")
    return as_utc(moment)


def parse_when(when: object, now: datetime) -> tuple[bool, datetime, datetime]:
    """`"asap"` or `{"start", "end"}` -> (asap, window start, window end)."""
    if when == "asap" or when is None:
        return True, now, now + windows.HORIZON
    if not isinstance(when, dict) or set(when) - {"start", "end"} or "start" not in when:
        raise InvalidInput('\'when\' is "asap" or {"start": ..., "end": ...}.', field="when")
    start = _parse_time(when["start"], "start")
    end = _parse_time(when["end"], "end") if when.get("end") is not None \
        else start + windows.SLOT_LENGTH
    if end <= start:
        raise InvalidInput("The slot must end after it starts.", field="when")
    if end <= now:
        raise InvalidInput("That time has already passed.", field="when", code="in_the_past")
    if start > now + windows.HORIZON:
        raise InvalidInput("Choose a time within the next 7 days.", field="when")
    return False, max(start, now), end


def _text(value: object, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be text.", field=name, code="invalid_type")
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"'{name}' must be at most {limit} characters.", field=name, code="too_long")
    return value or None


def _check_caps(shopper: Shopper, merchant: Merchant, policy: CallbackPolicy, now: datetime) -> None:
    existing = db.session.scalar(select(CallbackRequest).where(
        CallbackRequest.shopper_id == shopper.id, CallbackRequest.merchant_id == merchant.id,
        CallbackRequest.status.in_(OPEN_STATUSES)))
    if existing is not None:
        raise Conflict("You already have an open callback request with this store.",
                       code="duplicate_request", id=existing.id, status=existing.status)
    open_count = db.session.scalar(select(func.count(CallbackRequest.id)).where(
        CallbackRequest.shopper_id == shopper.id, CallbackRequest.status.in_(OPEN_STATUSES)))
    if open_count >= policy.max_open_per_shopper:
        raise RateLimited(f"You can have at most {policy.max_open_per_shopper} open callback requests; "
                          "cancel one or wait for it to finish.", 3600, code="too_many_open_requests")
    day_ago = now - timedelta(days=1)
    today = list(db.session.scalars(select(CallbackRequest.created_at).where(
        CallbackRequest.shopper_id == shopper.id, CallbackRequest.created_at > day_ago)
        .order_by(CallbackRequest.created_at)))
    if len(today) >= policy.max_per_shopper_day:
        wait = (as_utc(today[-policy.max_per_shopper_day]) + timedelta(days=1) - now).total_seconds()
        raise RateLimited("You have asked for too many callbacks today.", wait,
                          code="too_many_requests_today")


def request_callback(shopper: Shopper, merchant_id: int, when: object, order_ref: object,
                     note: object, policy: CallbackPolicy, now: datetime | None = None) -> CallbackRequest:
    """Create a callback request, due at the first moment that suits both sides."""
    now = now or utcnow()
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("No such store.")
    ensure_not_blocked(shopper)
    reason = unavailable_reason(merchant)
    if reason:
        raise Conflict(reason, code="callback_unavailable")
    asap, start, end = parse_when(when, now)
    order_ref, note = _text(order_ref, "order_ref", MAX_ORDER_REF), _text(note, "note", MAX_NOTE)
    due = windows.first_moment(allowed_intervals(merchant, shopper, policy, start, end), start)
    if due is None:
        raise InvalidInput("That time is outside the store's business hours or your calling hours "
                           f"({policy.shopper_call_hours} your time).", field="when",
                           code="outside_hours")
    _check_caps(shopper, merchant, policy, now)
    request = CallbackRequest(merchant_id=merchant.id, shopper_id=shopper.id, order_ref=order_ref,
                              note=note, asap=asap, window_start=start, window_end=end, due_at=due,
                              status="scheduled")
    try:
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError:  # a concurrent request for the same pair won the race
        _check_caps(shopper, merchant, policy, now)
        raise
    return request


def visible_request(request_id: int, *, shopper_id: int | None = None, owner_id: int | None = None,
                    staff: bool = False) -> CallbackRequest:
    """The request if the asker is its shopper, its merchant's owner or staff; else 404."""
    request = db.session.get(CallbackRequest, request_id)
    if request is None:
        raise NotFound("No such callback request.")
    if staff or (shopper_id is not None and request.shopper_id == shopper_id):
        return request
    if owner_id is not None:
        merchant = db.session.get(Merchant, request.merchant_id)
        if merchant is not None and merchant.owner_id == owner_id:
            return request
    raise NotFound("No such callback request.")


def cancel(request: CallbackRequest, reason: str = "canceled by the shopper") -> CallbackRequest:
    """Cancel an open request. A call already under way is not cut off."""
    if request.status in ("calling", "connected"):
        raise Conflict("The call is already under way.", code="call_in_progress")
    if request.is_open:
        request.status, request.reason, request.ended_at = "canceled", reason, utcnow()
        request.lease_owner = request.lease_until = None
        db.session.flush()
    return request
