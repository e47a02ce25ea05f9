"""Complaints a shopper or a merchant files about a call or a callback request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.extensions import db
from registry.core.timeutil import utcnow

COMPLAINT_CATEGORIES = ("harassment", "no_call", "misleading", "rude", "other")
COMPLAINT_STATUSES = ("open", "assigned", "resolved")


class Complaint(db.Model):
    """A shopper's or merchant's complaint about a call or a callback request."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    filed_by: Mapped[str] = mapped_column(String(16))  # shopper or merchant
    shopper_id: Mapped[int | None] = mapped_column(ForeignKey("shoppers.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    call_record_id: Mapped[int | None] = mapped_column(ForeignKey("call_records.id"), index=True)
    callback_request_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(2000))
    action: Mapped[str | None] = mapped_column(String(32))  # warn, suspend_number, block_shopper, none
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
