"""`integration_clients` (who may call, with which scopes) and `integration_calls` (what they called)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.extensions import db
from registry.core.timeutil import utcnow

# What a key may be used for; each later endpoint asks for one (`auth.client_required`).
SCOPES = ("bindings", "callbacks", "merchants", "webhooks")


class IntegrationClient(db.Model):
    """A marketplace back end. Only the SHA-256 of its key is stored (see `operations.hash_key`)."""

    __tablename__ = "integration_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The first characters of the key after `rk_`, to tell keys apart in lists; not a secret.
    key_prefix: Mapped[str] = mapped_column(String(8))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The admin who created it from the console; None from the command line.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Updated at most once a minute per client (`operations.record_call`).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def shown_key(self) -> str:
        """How lists show the key: `rk_AbCd1234…`."""
        return f"rk_{self.key_prefix}…"


class IntegrationCall(db.Model):
    """One authenticated call of a client: who, what, when, and the answer's status.

    Its own table rather than `staff_audit`, whose rows are staff actions (a non-null user)
    shown to complaint staff; machine calls come in far greater numbers and are read by client.
    """

    __tablename__ = "integration_calls"
    __table_args__ = (Index("ix_integration_calls_client_id_id", "client_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("integration_clients.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(8))
    endpoint: Mapped[str] = mapped_column(String(100))  # the Flask endpoint, or the path if none matched
    status: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyKey(db.Model):
    """An `Idempotency-Key` a client sent with a POST (`integrations.idempotency`), kept at least
    `IDEMPOTENCY_KEY_TTL_HOURS` hours.

    While its request runs the row is *held*: `status` is null and `lease` is the running request's
    token (`locked_at` when it took it). Once the request has succeeded, `status` and `body` are its
    answer, stored in the request's own transaction, and are replayed to the same request again.
    Rows are read and written by `idempotency_keys` only.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),
                      Index("ix_idempotency_keys_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("integration_clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))  # for the reader; the fingerprint is what is compared
    # Keyed hash (`DATA_KEY`) of the method, the path with its query string and the SHA-256 of the
    # body: a body holds a phone number, which a plain hash would let anyone with the table guess.
    fingerprint: Mapped[str] = mapped_column(String(64))
    lease: Mapped[str | None] = mapped_column(String(32))
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[int | None]
    # The answer's JSON, encrypted with `DATA_KEY` as phone numbers are: it may hold what only its
    # client may see (a number in full, a set-password link). Null: no body (a 204).
    body: Mapped[str | None] = mapped_column(Text, info={"encrypted": "phone_cipher"})
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
