"""`verification_attempts`: every code sent and checked, the source for limits and audits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.extensions import db
from registry.core.timeutil import utcnow

ACTIONS = ("send", "check")
OUTCOMES = (
    "sent",  # a code went out (counts towards send limits)
    "rate_limited",  # refused by a platform limit, nothing sent
    "provider_error",  # Twilio refused or was unreachable
    "approved",  # right code
    "wrong_code",  # wrong code (counts towards check limits)
    "expired",  # checked after the code's life, or nothing pending
)


class VerificationAttempt(db.Model):
    __tablename__ = "verification_attempts"
    __table_args__ = (
        Index("ix_verification_attempts_number", "number_hash", "action", "created_at"),
        Index("ix_verification_attempts_ip", "ip", "created_at"),
        Index("ix_verification_attempts_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Keyed hash of the E.164 number: limits apply per real number, across
    # merchants and shoppers, without the number being stored here again.
    number_hash: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(16))  # "merchant_number" or "shopper"
    merchant_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchant_numbers.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    # Twilio's Verification SID (VE...): the code a check was made against.
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
