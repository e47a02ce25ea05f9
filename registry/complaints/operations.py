"""Complaints: filed by a party to a call, handled by staff, acted upon."""

from __future__ import annotations

from sqlalchemy import select

from registry.audit.operations import audit, require_reason
from registry.callbacks import events as callback_events
from registry.callbacks.models import CallbackRequest
from registry.calllog.models import CallRecord
from registry.complaints.models import COMPLAINT_CATEGORIES, Complaint
from registry.core.errors import Conflict, InvalidInput, NotFound
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.phones import get_cipher
from registry.core.timeutil import utcnow
from registry.masking.allocation import end_binding
from registry.masking.models import Binding
from registry.merchants.models import Merchant, MerchantNumber
from registry.shoppers.models import Shopper
from registry.webhooks.events import emit, iso

ACTIONS = ("none", "warn", "suspend_number", "block_shopper")
MAX_TEXT = 2000


def _clean(category: object, text: object) -> tuple[str, str]:
    if category not in COMPLAINT_CATEGORIES:
        raise InvalidInput("invalid.category", field="category", values=", ".join(COMPLAINT_CATEGORIES))
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("invalid.complaint_text", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput("invalid.complaint_text_long", field="text", limit=MAX_TEXT)
    return category, text.strip()


def _target(call_record_id: object, callback_request_id: object):
    record = request = None
    if call_record_id is not None:
        if not isinstance(call_record_id, int) or isinstance(call_record_id, bool):
            raise InvalidInput("invalid.not_a_number", field="call_record_id", name="call_record_id")
        record = db.session.get(CallRecord, call_record_id)
        if record is None:
            raise NotFound("not_found.call", field="call_record_id")
    if callback_request_id is not None:
        if not isinstance(callback_request_id, int) or isinstance(callback_request_id, bool):
            raise InvalidInput("invalid.not_a_number", field="callback_request_id",
                               name="callback_request_id")
        request = db.session.get(CallbackRequest, callback_request_id)
        if request is None:
            raise NotFound("not_found.callback", field="callback_request_id")
    if record is None and request is None:
        raise InvalidInput("invalid.complaint_subject", field="call_record_id")
    return record, request


def file_by_shopper(shopper: Shopper, call_record_id: object, callback_request_id: object,
                    category: object, text: object) -> Complaint:
    """A shopper complains about a call or request they were part of (else 404)."""
    category, text = _clean(category, text)
    record, request = _target(call_record_id, callback_request_id)
    if request is not None and request.shopper_id != shopper.id:
        raise NotFound("not_found.callback", field="callback_request_id")
    if record is not None and not {record.from_hash, record.to_hash} & set(
            get_cipher().lookup_hashes(shopper.phone)):
        raise NotFound("not_found.call", field="call_record_id")
    merchant_id = request.merchant_id if request is not None else record.merchant_id
    if merchant_id is None:
        raise InvalidInput("invalid.call_without_store", field="call_record_id")
    complaint = Complaint(filed_by="shopper", shopper_id=shopper.id, merchant_id=merchant_id,
                          call_record_id=record.id if record else None,
                          callback_request_id=request.id if request else None, category=category, text=text)
    db.session.add(complaint)
    db.session.flush()
    _notify(complaint, "complaint.created")
    return complaint


def file_by_merchant(owner_id: int, call_record_id: object, category: object, text: object) -> Complaint:
    """A merchant complains about one of its own calls (else 404)."""
    category, text = _clean(category, text)
    record, _ = _target(call_record_id, None)
    merchant = db.session.get(Merchant, record.merchant_id) if record.merchant_id else None
    if merchant is None or merchant.owner_id != owner_id:
        raise NotFound("not_found.call", field="call_record_id")
    complaint = Complaint(filed_by="merchant", merchant_id=merchant.id, call_record_id=record.id,
                          callback_request_id=record.callback_request_id, category=category, text=text)
    db.session.add(complaint)
    db.session.flush()
    _notify(complaint, "complaint.created")
    return complaint


def _notify(complaint: Complaint, event_type: str) -> None:
    """The complaint's webhook event: who filed it about which call, never its text (a party's
    words may hold anything, a phone number among them)."""
    emit(event_type, {
        "complaint_id": complaint.id, "merchant_id": complaint.merchant_id, "filed_by": complaint.filed_by,
        "category": complaint.category, "call_record_id": complaint.call_record_id,
        "callback_id": complaint.callback_request_id, "status": complaint.status,
        "action": complaint.action, "created_at": iso(complaint.created_at),
        "resolved_at": iso(complaint.resolved_at)})


def get_complaint(complaint_id: int) -> Complaint:
    return get_or_refuse(Complaint, complaint_id, "not_found.complaint")


def assign(complaint: Complaint, staff_id: int) -> Complaint:
    if complaint.status == "resolved":
        raise Conflict("resolved")
    complaint.status, complaint.assignee_id = "assigned", staff_id
    audit(staff_id, "assign", f"complaint:{complaint.id}")
    db.session.flush()
    return complaint


def _cancel_open(condition, reason: str) -> int:
    requests = db.session.scalars(select(CallbackRequest).where(
        condition, CallbackRequest.status.in_(("requested", "scheduled")))).all()
    for request in requests:
        request.status, request.reason, request.ended_at = "canceled", reason, utcnow()
        request.lease_owner = request.lease_until = None
        callback_events.notify(request)
    return len(requests)


def _end_bindings(condition, reason: str) -> None:
    for binding in db.session.scalars(select(Binding).where(condition, Binding.ended_at.is_(None))).all():
        end_binding(binding, reason)


def suspend_merchant_numbers(merchant_id: int, staff_id: int, reason: str) -> int:
    """Suspend a store's verified numbers: no button, bindings end, pending callbacks cancelled."""
    numbers = db.session.scalars(select(MerchantNumber).where(
        MerchantNumber.merchant_id == merchant_id, MerchantNumber.status == "verified")).all()
    for number in numbers:
        number.status, number.status_reason = "suspended", reason
        _end_bindings(get_cipher().matches(Binding.party_a_hash, number.e164), "merchant number suspended")
    _cancel_open(CallbackRequest.merchant_id == merchant_id,
                 "The store's phone number was suspended; this request was cancelled.")
    audit(staff_id, "suspend", f"merchant:{merchant_id}", reason, {"numbers": [n.masked for n in numbers]})
    db.session.flush()
    return len(numbers)


def block_shopper(shopper_id: int, staff_id: int, reason: str) -> None:
    shopper = db.session.get(Shopper, shopper_id)
    if shopper is None:
        raise NotFound("not_found.shopper")
    shopper.blocked_at, shopper.blocked_reason = utcnow(), reason
    _end_bindings(get_cipher().matches(Binding.party_b_hash, shopper.phone), "shopper blocked")
    _cancel_open(CallbackRequest.shopper_id == shopper.id, "This number may no longer request callbacks.")
    audit(staff_id, "block", f"shopper:{shopper.id}", reason)
    db.session.flush()


def resolve(complaint: Complaint, staff_id: int, action: object, resolution: object) -> Complaint:
    """Close a complaint, taking the chosen action against the merchant or shopper."""
    if complaint.status == "resolved":
        raise Conflict("resolved")
    if action not in ACTIONS:
        raise InvalidInput("invalid.action", field="action", values=", ".join(ACTIONS))
    resolution = require_reason(resolution)
    if action == "suspend_number":
        suspend_merchant_numbers(complaint.merchant_id, staff_id, resolution)
    elif action == "block_shopper":
        if complaint.shopper_id is None:
            raise InvalidInput("invalid.no_shopper_to_block", field="action")
        block_shopper(complaint.shopper_id, staff_id, resolution)
    complaint.status, complaint.action, complaint.resolution = "resolved", action, resolution
    complaint.resolved_at, complaint.assignee_id = utcnow(), complaint.assignee_id or staff_id
    audit(staff_id, "resolve", f"complaint:{complaint.id}", resolution, {"action": action})
    db.session.flush()
    _notify(complaint, "complaint.resolved")
    return complaint


def complaints_for(*, staff: bool = False, merchant_id: int | None = None, shopper_id: int | None = None,
                   status: str | None = None, limit: int = 50) -> list[Complaint]:
    query = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
    if not staff:
        if merchant_id is None and shopper_id is None:
            return []
        query = query.where(Complaint.merchant_id == merchant_id) if merchant_id is not None \
            else query.where(Complaint.shopper_id == shopper_id)
    if status:
        query = query.where(Complaint.status == status)
    return list(db.session.scalars(query))


__all__ = ["ACTIONS", "assign", "block_shopper", "complaints_for", "file_by_merchant", "file_by_shopper",
           "get_complaint", "resolve", "suspend_merchant_numbers"]
