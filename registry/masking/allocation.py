"""Allocating a proxy number for a pair of parties: the rules.

The choice is first-fit (the lowest-id number that neither party already
uses and that has room), which keeps the pool close to its lower bound, the
busiest party's number of active bindings: a party needs one proxy number
per partner, and first-fit reuses the same numbers for everyone else.
On PostgreSQL the candidate row is taken `FOR UPDATE SKIP LOCKED`, so
concurrent allocations fan out over neighbouring numbers instead of
queueing on one; only when every number that fits is held by another
transaction does an allocation wait for them (held is not full). The
partial unique indexes are the last word, and a conflict (two allocations
racing for one party) is retried on the next number. When no number can
take the pair, a shared number with a 4-digit extension is used; when even
that is impossible, `PoolExhausted` is raised and the caller keeps the
request waiting.

The statements themselves, one round trip each (and on PostgreSQL the
common case in one), are `allocation_sql`'s. The `has_room` flag they walk
is a hint, the count is still checked, and when the flagged numbers run
out the whole pool is searched before giving up. The `Binding` returned is
built from what was written, not re-read.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, event, or_, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from registry.core import dialects
from registry.core.extensions import db
from registry.core.phones import get_cipher
from registry.core.timeutil import as_utc, utcnow
from registry.masking import allocation_sql as sql
from registry.masking.allocation_sql import KNOWN, B, P
from registry.masking.models import Binding, ProxyNumber
from registry.webhooks.events import emit, iso

MAX_RACE_RETRIES = 8
EXTENSION_SPACE = 10_000


class PoolExhausted(RuntimeError):
    """No proxy number, direct or shared, can take this pair right now."""


@dataclass(frozen=True)
class Party:
    """A party's number, the hash a new binding stores (the newest key's), and every hash its
    stored bindings may have: during a rotation of DATA_KEY, those `keys rotate` has not reached
    yet still carry an older key's, and must count (the pair's binding, a number it uses)."""

    e164: str
    number_hash: str
    hashes: tuple[str, ...]

    @classmethod
    def of(cls, e164: str) -> Party:
        hashes = tuple(get_cipher().lookup_hashes(e164))
        return cls(e164, hashes[0], hashes)


def _pick_shared(conn, country: str | None, skip: set[int]):
    query = (
        select(P.id, P.e164)
        .where(P.status == "active", P.shared.is_(True), P.active_bindings < EXTENSION_SPACE)
        .order_by(case((P.country == (country or ""), 0), else_=1), P.active_bindings, P.id)
        .limit(1)
    )
    if skip:
        query = query.where(P.id.not_in(skip))
    return conn.execute(query).first()


def _free_extension(conn, proxy_id: int, e164: str) -> str:
    taken = set(conn.scalars(select(B.extension).where(
        B.proxy_number_id == proxy_id, B.ended_at.is_(None), B.extension.is_not(None))))
    for _ in range(50):
        candidate = f"{secrets.randbelow(EXTENSION_SPACE):04d}"
        if candidate not in taken:
            return candidate
    free = sorted(set(f"{n:04d}" for n in range(EXTENSION_SPACE)) - taken)
    if not free:
        raise PoolExhausted(f"shared number {e164} has no free extension")
    return free[0]


def end_expired_for(parties: list[Party], now: datetime) -> int:
    """End the parties' expired bindings, so they stop blocking new ones."""
    hashes = [h for p in parties for h in p.hashes]
    expired = db.session.scalars(select(Binding).where(
        Binding.ended_at.is_(None), Binding.expires_at <= now,
        or_(Binding.party_a_hash.in_(hashes), Binding.party_b_hash.in_(hashes)),
    )).all()
    for binding in expired:
        end_binding(binding, "expired", now)
    return len(expired)


def end_binding(binding: Binding, reason: str, now: datetime | None = None) -> None:
    """End one binding: its proxy number stops connecting the pair at once.

    The number has room again whatever its cap (the count only went down), so
    it is flagged so; a number still over a lowered cap is skipped by the count.
    """
    if binding.ended_at is not None:
        return
    binding.ended_at, binding.end_reason = now or utcnow(), reason
    db.session.execute(
        update(ProxyNumber).where(ProxyNumber.id == binding.proxy_number_id)
        .values(active_bindings=ProxyNumber.active_bindings - 1, has_room=True)
    )
    db.session.flush()
    emit("binding.ended", {"binding_id": binding.id, "merchant_id": binding.merchant_id, "reason": reason,
                           "ended_at": iso(binding.ended_at),
                           "expires_at": iso(binding.expires_at)})


def _allocate_direct(conn, params: dict, flagged: bool, skip: set[int], wait: bool = False):
    """(binding id, proxy id, proxy number) of a new direct binding, None if no number
    fits, or KNOWN (PostgreSQL, while `params["check"]`): nothing was written.

    PostgreSQL passes over the numbers other transactions hold unless `wait`."""
    for _ in range(MAX_RACE_RETRIES):
        params["skip"] = sorted(skip)
        made = sql.try_direct(conn, params, flagged, wait)
        if made is KNOWN:
            return KNOWN
        row, binding_id = made
        if row is None:
            return None
        if binding_id is not None:
            return binding_id, row.id, row.e164
        skip.add(row.id)  # a racing allocation took it: the next number
    return None


def _as_loaded(binding_id: int, values: dict, proxy_e164: str) -> Binding:
    """The new binding as a persistent ORM object, without reading it back.

    It is put in the session as if just loaded (nothing to flush); its proxy
    number is the session's own if present (its count now expired), else one
    made from the id and number, its other attributes loaded on first use:
    `binding.id` and `binding.proxy_number.e164` (what a callback needs) cost
    no query.
    """
    session = db.session
    proxy_id = values["proxy_number_id"]
    proxy = session.identity_map.get(identity_key(ProxyNumber, proxy_id))
    if proxy is not None:
        session.expire(proxy, ["active_bindings", "has_room"])
        if "e164" not in proxy.__dict__:  # expired by a commit: the caller reads it next
            set_committed_value(proxy, "e164", proxy_e164)
    else:
        proxy = ProxyNumber(id=proxy_id, e164=proxy_e164)
        make_transient_to_detached(proxy)
        session.add(proxy)
    binding = Binding(id=binding_id, ended_at=None, end_reason=None,
                      **{f: values[f] for f in sql.FIELDS})
    make_transient_to_detached(binding)
    session.add(binding)
    set_committed_value(binding, "proxy_number", proxy)
    session.info.setdefault(_UNCOMMITTED, []).append(binding)
    return binding


# A binding put in the session "as loaded" is not new to the session, so a rollback
# would not remove it as it removes new objects: it would linger with the id of a row
# that no longer exists, an id the next insert may be given again (SQLite reuses them).
_UNCOMMITTED = "allocated_bindings_not_committed"


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_bindings(session: Session) -> None:
    for binding in session.info.pop(_UNCOMMITTED, ()):
        if binding in session:
            session.expunge(binding)


@event.listens_for(Session, "after_commit")
def _keep_committed_bindings(session: Session) -> None:
    session.info.pop(_UNCOMMITTED, None)


def _settle(conn, params: dict, a: Party, b: Party, ttl: timedelta, now: datetime) -> Binding | None:
    """End the parties' expired bindings; the pair's active binding, extended, if it has one."""
    current, expired = sql.lookup(conn, params, now)
    if expired:
        end_expired_for([a, b], now)
    if current is None:
        return None
    binding = db.session.get(Binding, current)
    extend(binding, ttl, now)
    return binding


def allocate(party_a: str, party_b: str, *, ttl: timedelta, default_cap: int,
             country: str | None = None, merchant_id: int | None = None,
             now: datetime | None = None) -> Binding:
    """A binding connecting `party_a` (merchant) and `party_b` (shopper).

    An active binding for the same pair is reused and its expiry extended.
    """
    return allocate_pair(party_a, party_b, ttl=ttl, default_cap=default_cap, country=country,
                         merchant_id=merchant_id, now=now)[0]


def allocate_pair(party_a: str, party_b: str, *, ttl: timedelta, default_cap: int,
                  country: str | None = None, merchant_id: int | None = None,
                  client_id: int | None = None, order_ref: str | None = None,
                  now: datetime | None = None) -> tuple[Binding, bool]:
    """`allocate`, saying whether the binding is new (True) or the pair's, extended (False).

    A new binding records the integration client that asked for it and its order reference
    (`bindings.for_client`); a reused one keeps what it had (the caller decides).
    """
    now = now or utcnow()
    a, b = Party.of(party_a), Party.of(party_b)
    if a.number_hash == b.number_hash:
        raise ValueError("a binding needs two different numbers")
    session = db.session
    session.flush()  # Core statements below do not autoflush; the caller's changes count
    conn = session.connection()
    params = {
        "a_hashes": list(a.hashes), "b_hashes": list(b.hashes), "hashes": [*a.hashes, *b.hashes],
        "now": now, "default_cap": default_cap, "country": country,
        "party_a": a.e164, "party_a_hash": a.number_hash, "party_b": b.e164,
        "party_b_hash": b.number_hash, "merchant_id": merchant_id, "extension": None,
        "created_at": utcnow(), "expires_at": now + ttl, "client_id": client_id, "order_ref": order_ref,
    }
    # PostgreSQL: the allocating statement itself says (KNOWN) when to look first,
    # which is rare; elsewhere look first, in one query.
    params["check"] = dialects.is_postgresql(conn)
    if not params["check"] and (current := _settle(conn, params, a, b, ttl, now)) is not None:
        return current, False
    skip: set[int] = set()
    # The numbers flagged with room, then the whole pool. On PostgreSQL both pass over numbers
    # other transactions hold, but a number held is not a full one: before a pair is given an
    # extension (or told to wait), the pool is searched once more, waiting for those.
    searches = [(True, False), (False, False)]
    if dialects.is_postgresql(conn):
        searches.append((False, True))
    for flagged, wait in searches:
        made = _allocate_direct(conn, params, flagged, skip, wait)
        if made is KNOWN:
            if (current := _settle(conn, params, a, b, ttl, now)) is not None:
                return current, False
            params["check"] = False
            made = _allocate_direct(conn, params, flagged, skip, wait)
        if made is not None:
            binding_id, proxy_id, e164 = made
            return _as_loaded(binding_id, {**params, "proxy_number_id": proxy_id}, e164), True
    skip.clear()
    for _ in range(MAX_RACE_RETRIES):
        proxy = _pick_shared(conn, country, skip)
        if proxy is None:
            break
        values = {**params, "proxy_number_id": proxy.id,
                  "extension": _free_extension(conn, proxy.id, proxy.e164)}
        binding_id = sql.insert_binding(conn, values)
        if binding_id is not None:
            return _as_loaded(binding_id, values, proxy.e164), True
        skip.add(proxy.id)
    raise PoolExhausted("no proxy number can take this pair now")


def extend(binding: Binding, ttl: timedelta, now: datetime | None = None) -> None:
    """Keep a binding alive for `ttl` from now (each call through it does this)."""
    now = now or utcnow()
    binding.expires_at = max(as_utc(binding.expires_at), now + ttl)
    db.session.flush()


def end_expired(now: datetime | None = None, batch: int = 1000) -> int:
    """End every binding past its expiry (the scheduler's job)."""
    now = now or utcnow()
    ended = 0
    while True:
        rows = db.session.scalars(select(Binding).where(
            Binding.ended_at.is_(None), Binding.expires_at <= now).limit(batch)).all()
        for binding in rows:
            end_binding(binding, "expired", now)
        ended += len(rows)
        if len(rows) < batch:
            return ended

