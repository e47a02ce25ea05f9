"""`staff_audit`: who looked at what, who revealed a number, who suspended what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.extensions import db
from registry.core.timeutil import utcnow


class StaffAudit(db.Model):
    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(24), index=True)  # search, view, reveal, suspend, ...
    target: Mapped[str | None] = mapped_column(String(100))  # e.g. "call_record:12"
    reason: Mapped[str | None] = mapped_column(String(500))
    # The search filters or action details, with phone numbers masked.
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
