"""Call records (one per leg) and call events (append-only, hash-chained)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db
from registry.phones import EncryptedPhone
from registry.timeutil import utcnow

KINDS = ("callback_merchant_leg", "callback_shopper_leg", "relay", "intercepted")
# A leg's status only ever moves forward through these ranks; the last rank
# holds the final outcomes, and a final status never changes again.
STATUS_RANK = {
    "queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3,
    "completed": 4, "busy": 4, "no-answer": 4, "failed": 4, "canceled": 4,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 4)


class CallRecord(db.Model):
    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(34), unique=True)
    parent_call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # inbound, outbound-api, outbound-dial
    kind: Mapped[str] = mapped_column(String(24), index=True)
    proxy_number: Mapped[str | None] = mapped_column(String(16), index=True)
    from_masked: Mapped[str | None] = mapped_column(String(32))
    to_masked: Mapped[str | None] = mapped_column(String(32))
    from_number: Mapped[str | None] = mapped_column("from_encrypted", EncryptedPhone)
    to_number: Mapped[str | None] = mapped_column("to_encrypted", EncryptedPhone)
    from_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    to_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("bindings.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    callback_request_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[int | None] = mapped_column()
    recording_sid: Mapped[str | None] = mapped_column(String(34))
    recording_url: Mapped[str | None] = mapped_column(String(500))


class CallEvent(db.Model):
    """One status callback or routing decision; never updated, never deleted.

    `digest = SHA-256(canonical(event))` and `hash = SHA-256(digest || previous
    hash)`, so changing or removing any row breaks the chain from there on
    (`calllog verify`). Hashing the digest rather than the canonical bytes
    themselves lets retention erase an event's content (`redacted_at`) while
    the chain still verifies: the digest stays as the event's witness.
    """

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # status, routing, dial, sms, recording
    source: Mapped[str] = mapped_column(String(16))  # twilio or app
    # Masked numbers only: the log is read by staff who have not revealed anything.
    data: Mapped[dict] = mapped_column(JSON)
    # Identifies a webhook delivery, so Twilio's retries are stored once.
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    digest: Mapped[str] = mapped_column(String(64))
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


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


class ChainHead(db.Model):
    """The chain's tip: one row, locked while an event is appended."""

    __tablename__ = "call_event_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
