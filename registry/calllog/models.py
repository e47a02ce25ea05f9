"""Call records (one per leg) and call events (append-only, hash-chained)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from registry.core import dialects
from registry.core.extensions import db
from registry.core.phones import EncryptedPhone
from registry.core.timeutil import utcnow

KINDS = ("callback_merchant_leg", "callback_shopper_leg", "relay", "intercepted")
# A leg's status only ever moves forward through these ranks; the last rank
# holds the final outcomes, and a final status never changes again.
STATUS_RANK = {
    "queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3,
    "completed": 4, "busy": 4, "no-answer": 4, "failed": 4, "canceled": 4,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 4)
# A recording's copy into the platform's storage (`recordings.py`): none yet (NULL),
# `pending` (a try failed; retried at `recording_retry_at`), `stored`, `failed` (gave
# up), `deleted` (retention removed it, or it expired before it was ever copied).
RECORDING_STATUSES = ("pending", "stored", "failed", "deleted")
_UNSEALED = text("seq IS NULL")
_RECORDING_DUE = text(
    "recording_url IS NOT NULL AND (recording_status IS NULL OR recording_status = 'pending')")


class CallRecord(db.Model):
    __tablename__ = "call_records"
    __table_args__ = (
        # A store's calls in a period (the staff console's commonest search).
        Index("ix_call_records_merchant_created", "merchant_id", "created_at"),
        # The copy job's queue: only recordings not yet stored are in it.
        Index("ix_call_records_recording_due", "recording_retry_at",
              postgresql_where=_RECORDING_DUE, sqlite_where=_RECORDING_DUE),
    )

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
    # Indexed by ix_call_records_merchant_created, whose first column it is.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    callback_request_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[int | None] = mapped_column()
    recording_sid: Mapped[str | None] = mapped_column(String(34))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_status: Mapped[str | None] = mapped_column(String(16))
    recording_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    recording_retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recording_stored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recording_sha256: Mapped[str | None] = mapped_column(String(64))
    # Set when retention erased the leg's personal data (numbers, their hashes and masks).
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def canonical_json(value) -> str:
    """The one text form of a JSON value the chain hashes: keys sorted, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class CanonicalJSON(TypeDecorator):
    """JSON stored as `canonical_json` writes it (the values read back are the same).

    An event's stored `data` is then, byte for byte, the `data` part of what
    its digest covers, so verifying on PostgreSQL (whose `json` type accepts
    only valid JSON) can hash the stored text without parsing it again.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect):
        return dialects.json_bind_processor(dialect, canonical_json)


class CallEvent(db.Model):
    """One status callback or routing decision; never deleted, never changed once sealed.

    Appended unsealed; `chain.seal()` then sets `seq`, `digest =
    SHA-256(canonical(event))` and `hash = SHA-256(digest || previous hash)`,
    so changing or removing any sealed row breaks the chain from there on
    (`calllog verify`). Hashing the digest rather than the canonical bytes
    themselves lets retention erase an event's content (`redacted_at`) while
    the chain still verifies: the digest stays as the event's witness.
    """

    __tablename__ = "call_events"
    __table_args__ = (
        # The sealer's queue: only events not yet numbered and linked are in it.
        Index("ix_call_events_unsealed", "id", postgresql_where=_UNSEALED, sqlite_where=_UNSEALED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None until `chain.seal()` numbers the event, and with it its digest and links.
    seq: Mapped[int | None] = mapped_column(unique=True)
    call_sid: Mapped[str | None] = mapped_column(String(34), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # status, routing, dial, sms, recording
    source: Mapped[str] = mapped_column(String(16))  # twilio or app
    # Masked numbers only: the log is read by staff who have not revealed anything.
    data: Mapped[dict] = mapped_column(CanonicalJSON)
    # Identifies a webhook delivery, so Twilio's retries are stored once.
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    digest: Mapped[str | None] = mapped_column(String(64))
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class ChainHead(db.Model):
    """The chain's tip: one row, locked while an event is appended."""

    __tablename__ = "call_event_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))


class ChainVerification(db.Model):
    """The outcome of one walk of the hash chain (the daily job, or `calllog verify`)."""

    __tablename__ = "call_log_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    ok: Mapped[bool] = mapped_column()
    events: Mapped[int] = mapped_column()
    broken_at: Mapped[int | None] = mapped_column()  # the seq of the first broken link
    reason: Mapped[str | None] = mapped_column(String(200))
    seconds: Mapped[float] = mapped_column(Float)


class ChainCheckpoint(db.Model):
    """A signed statement that the sealed chain had `events` events, the last with hash `head_hash`
    (calllog/checkpoints.py): what lets `calllog verify` see rows cut from the tail."""

    __tablename__ = "call_log_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    events: Mapped[int] = mapped_column()  # the count of sealed events, so the head's seq
    head_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(88))  # base64 of the 64-byte Ed25519 signature
