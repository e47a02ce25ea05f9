"""`verification_attempts`: every code sent and checked, the source for limits and audits;
`verifications`: one row per Twilio Verify verification, owned by the context that started it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
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
# A verification's status: "pending" (sent; checks may be made against it), "approved" (the
# right code was given: used), "canceled" (canceled at Twilio so that a fresh one could be
# started: a resend after a lockout, or a send in another context for the same number).
STATUSES = ("pending", "approved", "canceled")
SHOPPER_CONTEXT = "shopper"


def merchant_number_context(merchant_number_id: int) -> str:
    """The context of one store's claim on a number: only its owner sends and checks there."""
    return f"merchant_number:{merchant_number_id}"


class Verification(db.Model):
    """One Twilio Verify verification (a code at Twilio), and the checks made against it.

    Twilio keeps one pending verification per number, so a shopper's and a
    merchant's code for one number would be the same one. The platform
    therefore gives each verification one context (`shopper`, or one store's
    number), checks only a context's own verification (by its SID), and
    counts the checks here, one atomic increment per check, so that the
    limit holds however many checks arrive at once.
    """

    __tablename__ = "verifications"
    __table_args__ = (Index("ix_verifications_number", "number_hash", "context"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    number_hash: Mapped[str] = mapped_column(String(64))
    context: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    checks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
