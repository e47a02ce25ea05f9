"""JSON shapes of complaints and of the call log's queries, as `core.openapi` models."""

from __future__ import annotations

from typing import Literal

from registry.complaints.models import Complaint
from registry.core.openapi import ApiModel, LenientModel, Timestamp
from registry.core.openapi.models import checked_by_operation

_TEXT = {"type": "string"}
_ID = {"type": "integer", "minimum": 1}


class ComplaintShown(ApiModel):
    id: int
    filed_by: str
    merchant_id: int | None
    call_record_id: int | None
    callback_request_id: int | None
    category: str
    text: str | None
    status: str
    assignee_id: int | None
    action: str | None
    resolution: str | None
    created_at: Timestamp | None
    resolved_at: Timestamp | None

    @classmethod
    def of(cls, item: Complaint) -> ComplaintShown:
        return cls(id=item.id, filed_by=item.filed_by, merchant_id=item.merchant_id,
                   call_record_id=item.call_record_id, callback_request_id=item.callback_request_id,
                   category=item.category, text=item.text, status=item.status,
                   assignee_id=item.assignee_id, action=item.action, resolution=item.resolution,
                   created_at=item.created_at, resolved_at=item.resolved_at)


class NewComplaint(LenientModel):
    """About a call (`call_record_id`) or, for a shopper, a callback request."""

    call_record_id: checked_by_operation(_ID, optional=True) = None
    callback_request_id: checked_by_operation(_ID, optional=True) = None
    category: checked_by_operation(_TEXT)
    text: checked_by_operation({**_TEXT, "maxLength": 2000}, optional=True) = None


class Resolution(LenientModel):
    action: checked_by_operation(_TEXT)
    resolution: checked_by_operation(_TEXT, optional=True) = None


class ComplaintFilter(LenientModel):
    status: Literal["open", "assigned", "resolved", ""] | None = None


class RevealRequest(LenientModel):
    """Which side's real number, and why (the reason is audited)."""

    side: checked_by_operation({"type": "string", "enum": ["from", "to"]})
    reason: checked_by_operation(_TEXT)


class RevealedNumber(ApiModel):
    number: str


class CallSearchQuery(LenientModel):
    """Filters of the call log; each is checked by the search, which names a bad one."""

    merchant_id: str | None = None
    phone: str | None = None
    proxy_number: str | None = None
    call_sid: str | None = None
    order_ref: str | None = None
    kind: str | None = None
    status: str | None = None
    since: str | None = None
    until: str | None = None
    has_complaint: str | None = None
    cursor: str | None = None
    per_page: str | None = None
