"""Allocating a proxy number for a pair of parties.

The choice is first-fit (the lowest-id number that neither party already
uses and that has room), which keeps the pool close to its lower bound, the
busiest party's number of active bindings: a party needs one proxy number
per partner, and first-fit reuses the same numbers for everyone else.
On PostgreSQL the candidate row is taken `FOR UPDATE SKIP LOCKED`, so
concurrent allocations fan out over neighbouring numbers instead of
queueing on one; the partial unique indexes are the last word, and a
conflict (two allocations racing for one party) is retried on the next
number. When no number can take the pair, a shared number with a 4-digit
extension is used; when even that is impossible, `PoolExhausted` is raised
and the caller keeps the request waiting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from registry.extensions import db
from registry.masking.models import Binding, ProxyNumber
from registry.phones import get_cipher
from registry.timeutil import as_utc, utcnow

MAX_RACE_RETRIES = 8
EXTENSION_SPACE = 10_000


class PoolExhausted(RuntimeError):
    """No proxy number, direct or shared, can take this pair right now."""


@dataclass(frozen=True)
class Party:
    e164: str
    number_hash: str

    @classmethod
    def of(cls, e164: str) -> Party:
        return cls(e164, get_cipher().lookup_hash(e164))


def _uses(party_column, party: Party):
    """Proxy numbers on which `party` holds an active direct binding."""
    return exists().where(
        Binding.proxy_number_id == ProxyNumber.id, party_column == party.number_hash,
        Binding.ended_at.is_(None), Binding.extension.is_(None),
    )


def _has_room(default_cap: int):
    return ProxyNumber.active_bindings < func.coalesce(ProxyNumber.cap, default_cap)


def _pick_direct(a: Party, b: Party, country: str | None, default_cap: int, skip: set[int]):
    query = (
        select(ProxyNumber)
        .where(ProxyNumber.status == "active", ProxyNumber.shared.is_(False), _has_room(default_cap))
        .where(~_uses(Binding.party_a_hash, a), ~_uses(Binding.party_b_hash, b))
        .order_by(case((ProxyNumber.country == (country or ""), 0), else_=1), ProxyNumber.id)
        .limit(1)
    )
    if skip:
        query = query.where(ProxyNumber.id.not_in(skip))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=ProxyNumber)
    return db.session.scalars(query).first()


def _pick_shared(country: str | None, skip: set[int]):
    query = (
        select(ProxyNumber)
        .where(ProxyNumber.status == "active", ProxyNumber.shared.is_(True))
        .where(ProxyNumber.active_bindings < EXTENSION_SPACE)
        .order_by(case((ProxyNumber.country == (country or ""), 0), else_=1),
                  ProxyNumber.active_bindings, ProxyNumber.id)
        .limit(1)
    )
    if skip:
        query = query.where(ProxyNumber.id.not_in(skip))
    return db.session.scalars(query).first()


def _free_extension(proxy: ProxyNumber) -> str:
    taken = set(db.session.scalars(select(Binding.extension).where(
        Binding.proxy_number_id == proxy.id, Binding.ended_at.is_(None),
        Binding.extension.is_not(None))))
    for _ in range(50):
        candidate = f"{secrets.randbelow(EXTENSION_SPACE):04d}"
        if candidate not in taken:
            return candidate
    free = sorted(set(f"{n:04d}" for n in range(EXTENSION_SPACE)) - taken)
    if not free:
        raise PoolExhausted(f"shared number {proxy.e164} has no free extension")
    return free[0]


def _existing(a: Party, b: Party) -> Binding | None:
    return db.session.scalars(
        select(Binding).where(Binding.party_a_hash == a.number_hash,
                              Binding.party_b_hash == b.number_hash, Binding.ended_at.is_(None))
        .order_by(Binding.id).limit(1)
    ).first()


def end_expired_for(parties: list[Party], now: datetime) -> int:
    """End the parties' expired bindings, so they stop blocking new ones."""
    hashes = [p.number_hash for p in parties]
    expired = db.session.scalars(select(Binding).where(
        Binding.ended_at.is_(None), Binding.expires_at <= now,
        or_(Binding.party_a_hash.in_(hashes), Binding.party_b_hash.in_(hashes)),
    )).all()
    for binding in expired:
        end_binding(binding, "expired", now)
    return len(expired)


def end_binding(binding: Binding, reason: str, now: datetime | None = None) -> None:
    """End one binding: its proxy number stops connecting the pair at once."""
    if binding.ended_at is not None:
        return
    binding.ended_at, binding.end_reason = now or utcnow(), reason
    db.session.execute(
        update(ProxyNumber).where(ProxyNumber.id == binding.proxy_number_id)
        .values(active_bindings=ProxyNumber.active_bindings - 1)
    )
    db.session.flush()


def _insert(proxy: ProxyNumber, a: Party, b: Party, expires_at: datetime, merchant_id: int | None,
            extension: str | None) -> Binding | None:
    """Insert in a savepoint; None if a racing allocation took the slot first."""
    try:
        with db.session.begin_nested():
            binding = Binding(
                proxy_number_id=proxy.id, party_a=a.e164, party_a_hash=a.number_hash,
                party_b=b.e164, party_b_hash=b.number_hash, merchant_id=merchant_id,
                extension=extension, expires_at=expires_at,
            )
            db.session.add(binding)
            db.session.execute(
                update(ProxyNumber).where(ProxyNumber.id == proxy.id)
                .values(active_bindings=ProxyNumber.active_bindings + 1)
            )
            db.session.flush()
    except IntegrityError:
        return None
    binding.proxy_number = proxy
    return binding


def allocate(party_a: str, party_b: str, *, ttl: timedelta, default_cap: int,
             country: str | None = None, merchant_id: int | None = None,
             now: datetime | None = None) -> Binding:
    """A binding connecting `party_a` (merchant) and `party_b` (shopper).

    An active binding for the same pair is reused and its expiry extended.
    """
    now = now or utcnow()
    a, b = Party.of(party_a), Party.of(party_b)
    if a.number_hash == b.number_hash:
        raise ValueError("a binding needs two different numbers")
    end_expired_for([a, b], now)
    current = _existing(a, b)
    if current is not None:
        extend(current, ttl, now)
        return current
    skip: set[int] = set()
    for _ in range(MAX_RACE_RETRIES):
        proxy = _pick_direct(a, b, country, default_cap, skip)
        if proxy is None:
            break
        binding = _insert(proxy, a, b, now + ttl, merchant_id, None)
        if binding is not None:
            return binding
        skip.add(proxy.id)
    skip.clear()
    for _ in range(MAX_RACE_RETRIES):
        proxy = _pick_shared(country, skip)
        if proxy is None:
            break
        binding = _insert(proxy, a, b, now + ttl, merchant_id, _free_extension(proxy))
        if binding is not None:
            return binding
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

