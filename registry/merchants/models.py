"""Merchants (stores) and their contact numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.extensions import db
from registry.core.phones import EncryptedPhone
from registry.core.timeutil import utcnow

MERCHANT_STATUSES = ("active", "suspended")
NUMBER_STATUSES = ("unverified", "pending", "verified", "lapsed", "suspended")


class Merchant(db.Model):
    __tablename__ = "merchants"
    # A marketplace names its stores by its own ids: unique per integration client.
    __table_args__ = (UniqueConstraint("client_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    business_hours: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The integration client that imported the store, and its id for it (`merchant_for_client`).
    client_id: Mapped[int | None] = mapped_column(ForeignKey("integration_clients.id"))
    external_id: Mapped[str | None] = mapped_column(String(100))

    numbers: Mapped[list[MerchantNumber]] = relationship(
        back_populates="merchant", order_by="MerchantNumber.id"
    )
    # The sites that may show the store's callback button (`merchants.embed`).
    embed_origins: Mapped[list[EmbedOrigin]] = relationship(
        order_by="EmbedOrigin.id", cascade="all, delete-orphan"
    )


class EmbedOrigin(db.Model):
    """A web origin (`https://shop.example.com`) allowed to frame the store's callback flow."""

    __tablename__ = "merchant_embed_origins"
    __table_args__ = (UniqueConstraint("merchant_id", "origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    origin: Mapped[str] = mapped_column(String(255))


class MerchantNumber(db.Model):
    """A contact number a merchant added; `verified` once it proved it owns it."""

    __tablename__ = "merchant_numbers"
    __table_args__ = (
        UniqueConstraint("merchant_id", "number_hash"),
        # One verified claim per real number, enforced by the database.
        Index(
            "uq_merchant_numbers_verified_number",
            "number_hash",
            unique=True,
            sqlite_where=text("status = 'verified'"),
            postgresql_where=text("status = 'verified'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    e164: Mapped[str] = mapped_column("e164_encrypted", EncryptedPhone)
    number_hash: Mapped[str] = mapped_column(String(64), index=True)
    masked: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(2))
    line_type: Mapped[str] = mapped_column(String(24))
    label: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(16), default="unverified")
    status_reason: Mapped[str | None] = mapped_column(String(200))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reverify_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    merchant: Mapped[Merchant] = relationship(back_populates="numbers")

    @property
    def default_channel(self) -> str:
        """Mobiles verify by SMS, fixed lines by a voice call."""
        return "sms" if self.line_type in {"mobile", "fixed_line_or_mobile"} else "call"
