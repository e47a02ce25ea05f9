"""Shoppers and their bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.extensions import db
from registry.core.phones import EncryptedPhone
from registry.core.timeutil import utcnow


class Shopper(db.Model):
    __tablename__ = "shoppers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column("phone_encrypted", EncryptedPhone)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    masked: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(2))
    # IANA zone from the number (phonenumbers); callbacks respect its calling hours.
    timezone: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The integration client that vouched for the number when it asked for a callback on the
    # shopper's behalf (the marketplace proved it), if the shopper first came that way; None for a
    # shopper who proved the number by code here (`verified_at` is then the code's time).
    asserted_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("integration_clients.id"))
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ShopperToken(db.Model):
    """A shopper's bearer token; only its SHA-256 is stored."""

    __tablename__ = "shopper_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    shopper_id: Mapped[int] = mapped_column(ForeignKey("shoppers.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    shopper: Mapped[Shopper] = relationship()
