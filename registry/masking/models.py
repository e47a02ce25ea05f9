"""Proxy numbers and the bindings that give them meaning for two parties."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.extensions import db
from registry.core.phones import EncryptedPhone
from registry.core.timeutil import utcnow

# active: takes new bindings. draining: takes none, its bindings live out their TTL (`proxy retire`
# and the console's "drain"; once called "retired"). released: given back to Twilio, kept for
# the bindings and call log that name it. Allocation only ever reads `status = 'active'`.
ACTIVE_STATUS, DRAINING, RELEASED = "active", "draining", "released"
PROXY_STATUSES = (ACTIVE_STATUS, DRAINING, RELEASED)
# How a number came into the pool: `proxy add`/`proxy sync`, a purchase by staff, or the scheduler
# buying when a country ran low (counted against POOL_AUTO_BUY_MAX a day).
ORIGINS = ("cli", "staff", "auto")
ACTIVE = text("ended_at IS NULL")
ACTIVE_DIRECT = text("ended_at IS NULL AND extension IS NULL")
ACTIVE_EXTENSION = text("ended_at IS NULL AND extension IS NOT NULL")
# Direct numbers allocation may still fill. Allocation writes this very text in its
# query, so the planner can match the partial indexes below on either backend.
DIRECT_WITH_ROOM = "status = 'active' AND NOT shared AND has_room"


def _partial_index(name: str, *columns: str, where, unique: bool = False) -> Index:
    return Index(name, *columns, unique=unique, sqlite_where=where, postgresql_where=where)


class ProxyNumber(db.Model):
    """A platform-owned number shoppers and merchants see instead of each other's.

    It is the platform's own number, not personal data, so it is kept in clear.
    """

    __tablename__ = "proxy_numbers"
    # First-fit walks the numbers that may have room in id order (the country's
    # first, then any), stopping at the first that fits: the full ones, most of
    # a busy pool, are not in these indexes at all.
    __table_args__ = (
        _partial_index("ix_proxy_numbers_room_country", "country", "id", where=text(DIRECT_WITH_ROOM)),
        _partial_index("ix_proxy_numbers_room", "id", where=text(DIRECT_WITH_ROOM)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    provider_sid: Mapped[str | None] = mapped_column(String(34), unique=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # A shared number carries only extension-mode bindings: every caller is
    # asked for an extension, so no direct binding may make a call ambiguous.
    shared: Mapped[bool] = mapped_column(default=False)
    # Most active bindings this number may carry; None means the configured default.
    cap: Mapped[int | None] = mapped_column()
    # Kept by the allocation operations in the same transaction as the
    # bindings they add or end; lets allocation skip full numbers cheaply.
    active_bindings: Mapped[int] = mapped_column(default=0)
    # False once an allocation filled the number to its cap (the configured default
    # when `cap` is None); true again as soon as one of its bindings ends. Kept in the
    # same statements as `active_bindings`; allocation still checks the count itself.
    has_room: Mapped[bool] = mapped_column(default=True, server_default=true())
    # What calls and texts Twilio says the number takes (a number added by hand: assumed both).
    voice: Mapped[bool] = mapped_column(default=True, server_default=true())
    sms: Mapped[bool] = mapped_column(default=True, server_default=true())
    origin: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When it stopped taking new bindings (began draining), and when it was given back.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def capacity(self, default_cap: int) -> int:
        """Most active bindings it may carry (a shared number: its extensions)."""
        return self.cap or default_cap


class Binding(db.Model):
    """Party A (a merchant's number) and party B (a shopper's) reach each other
    through one proxy number until the binding expires or is ended.

    The database keeps the masking rule: on one proxy number a party has at
    most one active direct binding, else a call from it would be ambiguous.
    Extension-mode bindings share a proxy number and are told apart by the
    extension the caller types instead.
    """

    __tablename__ = "bindings"
    __table_args__ = (
        _partial_index("uq_bindings_active_party_a", "proxy_number_id", "party_a_hash",
                       where=ACTIVE_DIRECT, unique=True),
        _partial_index("uq_bindings_active_party_b", "proxy_number_id", "party_b_hash",
                       where=ACTIVE_DIRECT, unique=True),
        _partial_index("uq_bindings_active_extension", "proxy_number_id", "extension",
                       where=ACTIVE_EXTENSION, unique=True),
        # With the expiry, "has this party expired bindings?" (asked before every allocation)
        # is one index range, whatever the plan, even for a merchant with thousands of bindings.
        _partial_index("ix_bindings_active_party_a", "party_a_hash", "expires_at", where=ACTIVE),
        _partial_index("ix_bindings_active_party_b", "party_b_hash", "expires_at", where=ACTIVE),
        _partial_index("ix_bindings_active_expiry", "expires_at", where=ACTIVE),
        _partial_index("ix_bindings_active_proxy", "proxy_number_id", where=ACTIVE),
        # A client's bindings, newest first (its list), and by its order reference.
        Index("ix_bindings_client_id_id", "client_id", "id"),
        Index("ix_bindings_client_id_order_ref", "client_id", "order_ref"),
        # The pool console counts the pairs that fell back to an extension in the last 24 h.
        _partial_index("ix_bindings_extension_created", "created_at", where=text("extension IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proxy_number_id: Mapped[int] = mapped_column(ForeignKey("proxy_numbers.id"))
    party_a: Mapped[str] = mapped_column("party_a_encrypted", EncryptedPhone)
    party_a_hash: Mapped[str] = mapped_column(String(64))
    party_b: Mapped[str] = mapped_column("party_b_encrypted", EncryptedPhone)
    party_b_hash: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    extension: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(100))
    # The integration client that asked for the binding (`POST /api/v1/bindings`): it vouches for
    # party B's number (the marketplace proved it; no code was sent); None for the platform's own
    # bindings (a shopper's callback, who proved the number by code). Only that client sees it.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("integration_clients.id"))
    order_ref: Mapped[str | None] = mapped_column(String(64))

    proxy_number: Mapped[ProxyNumber] = relationship()

    @property
    def active(self) -> bool:
        return self.ended_at is None


class PoolLowCountry(db.Model):
    """A country announced as low (`pool.low`) and not recovered since: kept in the database, so
    whichever scheduler runs the next check knows it was announced (an insert that finds the
    row announces nothing), and deleted when the country has room again."""

    __tablename__ = "pool_low_countries"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    announced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
