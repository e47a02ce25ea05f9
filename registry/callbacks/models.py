"""Callback requests and their attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.extensions import db
from registry.core.timeutil import utcnow

OPEN_STATUSES = ("requested", "scheduled", "calling", "connected")
FINAL_STATUSES = ("completed", "failed", "expired", "canceled")
_OPEN = text("status IN ('requested', 'scheduled', 'calling', 'connected')")


class CallbackRequest(db.Model):
    """A shopper's "call me back", from creation to its outcome.

    The database is the only record of pending work: `due_at` says when,
    `lease_owner`/`lease_until` which scheduler process is placing the call.
    """

    __tablename__ = "callback_requests"
    __table_args__ = (
        # One open request per shopper and merchant, kept by the database.
        Index("uq_callback_requests_open_pair", "shopper_id", "merchant_id", unique=True,
              sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_callback_requests_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    shopper_id: Mapped[int] = mapped_column(ForeignKey("shoppers.id"), index=True)
    order_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    asap: Mapped[bool] = mapped_column(default=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    reason: Mapped[str | None] = mapped_column(String(200))
    shopper_misses: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("bindings.id"))
    # The integration client that asked on the shopper's behalf (`POST /api/v1/callbacks`); it
    # alone of the clients may read or cancel the request. None when the shopper asked.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("integration_clients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    attempts: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="request", order_by="CallbackAttempt.seq")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CallbackAttempt(db.Model):
    """One try at the bridged call. Written before Twilio is asked, so a
    scheduler that dies mid-way leaves a trace the next one can reconcile."""

    __tablename__ = "callback_attempts"
    __table_args__ = (UniqueConstraint("request_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("callback_requests.id"), index=True)
    seq: Mapped[int] = mapped_column()
    # placing -> placed -> ended; or placing -> ended (never reached Twilio)
    state: Mapped[str] = mapped_column(String(16), default="placing")
    outcome: Mapped[str | None] = mapped_column(String(32))
    proxy_number: Mapped[str] = mapped_column(String(16))
    merchant_call_sid: Mapped[str | None] = mapped_column(String(34), unique=True)
    shopper_call_sid: Mapped[str | None] = mapped_column(String(34))
    merchant_pressed_connect: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    placed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    request: Mapped[CallbackRequest] = relationship(back_populates="attempts")
