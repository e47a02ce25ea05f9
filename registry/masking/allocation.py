"""Allocating a proxy number for a pair of parties.

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

Every callback allocates, so the common case (a new pair, a number free)
is prebuilt Core statements and no ORM flush. On PostgreSQL it is one
statement: it checks that the pair has no binding and neither party an
expired one (else it writes nothing and says so, and those are dealt with
first), picks, inserts with `ON CONFLICT DO NOTHING` (a racing allocation
makes it insert nothing, not raise: no savepoint) and counts. On SQLite:
one look-up, one pick, the insert, the count. The pick walks only the
numbers flagged `has_room` (a partial index), in id order, so it stops at
the first fit instead of reading past every full number (5,000 of them in
the benchmark: ~1 ms of server CPU per allocation); the flag is a hint,
the count is still checked, and when the flagged numbers run out the
whole pool is searched before giving up. The `Binding` returned is built
from what was written, not re-read.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, event, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from registry.core.extensions import db
from registry.core.phones import get_cipher
from registry.core.timeutil import as_utc, utcnow
from registry.masking.models import DIRECT_WITH_ROOM, Binding, ProxyNumber

MAX_RACE_RETRIES = 8
EXTENSION_SPACE = 10_000

PROXIES, BINDINGS = ProxyNumber.__table__, Binding.__table__
P, B = PROXIES.c, BINDINGS.c


class PoolExhausted(RuntimeError):
    """No proxy number, direct or shared, can take this pair right now."""


@dataclass(frozen=True)
class Party:
    e164: str
    number_hash: str

    @classmethod
    def of(cls, e164: str) -> Party:
        return cls(e164, get_cipher().lookup_hash(e164))


def _uses(party_column, hash_param: str):
    """The proxy number holds an active direct binding of the party (one probe of its unique index)."""
    return exists().where(B.proxy_number_id == P.id, party_column == bindparam(hash_param),
                          B.ended_at.is_(None), B.extension.is_(None))


def _direct_query(dialect: str, flagged: bool, in_country: bool):
    """The first direct number that fits, in id order: built once, run with parameters
    (building a statement costs more client CPU than running it)."""
    query = _DIRECT.get((dialect, flagged, in_country))
    if query is None:
        where = [P.active_bindings < func.coalesce(P.cap, bindparam("default_cap")),
                 ~_uses(B.party_a_hash, "a_hash"), ~_uses(B.party_b_hash, "b_hash"),
                 P.id.not_in(bindparam("skip", expanding=True))]
        where += [text(DIRECT_WITH_ROOM)] if flagged else [P.status == "active", P.shared.is_(False)]
        if in_country:
            where.append(P.country == bindparam("country"))
        query = select(P.id, P.e164).where(*where).order_by(P.id).limit(1)
        if dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=PROXIES)
        _DIRECT[(dialect, flagged, in_country)] = query
    return query


_DIRECT: dict = {}


def _pick_direct(conn, params: dict, flagged: bool):
    """(id, e164) of the first direct number that fits, or None.

    The country's numbers first, then any: each query walks its index in id
    order and stops at the first fit. `flagged=False` also reads the numbers
    flagged full, for when the flag may be stale (the default cap was raised).
    """
    for in_country in ([True] if params["country"] else []) + [False]:
        row = conn.execute(_direct_query(conn.dialect.name, flagged, in_country), params).first()
        if row is not None:
            return row
    return None


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


_LOOKUP = select(B.id, B.party_a_hash, B.party_b_hash, B.expires_at).where(
    B.ended_at.is_(None),
    # Each branch an index range (ix_bindings_active_party_a/b), so no plan reads all
    # of a busy merchant's bindings to find none expired.
    or_(and_(B.party_a_hash == bindparam("a_hash"), B.party_b_hash == bindparam("b_hash")),
        and_(B.party_a_hash.in_(bindparam("hashes", expanding=True)), B.expires_at <= bindparam("now")),
        and_(B.party_b_hash.in_(bindparam("hashes", expanding=True)), B.expires_at <= bindparam("now"))),
)


def _lookup(conn, params: dict, now: datetime) -> tuple[int | None, bool]:
    """(the pair's active, unexpired binding, whether either party has expired ones): one query."""
    rows = conn.execute(_LOOKUP, params).all()
    expired = any(as_utc(row.expires_at) <= now for row in rows)
    pair = (params["a_hash"], params["b_hash"])
    current = min((row.id for row in rows
                   if as_utc(row.expires_at) > now and (row.party_a_hash, row.party_b_hash) == pair),
                  default=None)
    return current, expired


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


_FIELDS = ("proxy_number_id", "party_a", "party_a_hash", "party_b", "party_b_hash", "merchant_id",
           "extension", "created_at", "expires_at")
_COLUMN_OF = {"party_a": "party_a_encrypted", "party_b": "party_b_encrypted"}


def _typed(name: str):
    """A parameter named as the ORM attribute, typed as its column (the phones encrypt)."""
    return bindparam(name, type_=BINDINGS.c[_COLUMN_OF.get(name, name)].type)


_INSERT = {
    name: dialect.insert(BINDINGS).values({_COLUMN_OF.get(f, f): _typed(f) for f in _FIELDS})
    .on_conflict_do_nothing().returning(B.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_COUNT = update(PROXIES).where(P.id == bindparam("proxy_number_id")).values(
    active_bindings=P.active_bindings + 1,
    has_room=P.shared | (P.active_bindings + 1 < func.coalesce(P.cap, bindparam("default_cap"))),
)


def _insert(conn, params: dict) -> int | None:
    """Insert the binding and count it; its id, or None if a racing allocation took the
    slot first (a unique index refused it: no error, no savepoint to roll back)."""
    # Only their own parameters: Core would take any other column's name as a value to set.
    binding_id = conn.scalar(_INSERT[conn.dialect.name], {f: params[f] for f in _FIELDS})
    if binding_id is not None:
        conn.execute(_COUNT, {"proxy_number_id": params["proxy_number_id"],
                              "default_cap": params["default_cap"]})
    return binding_id


# PostgreSQL: the pick (the country's numbers first, then any), the insert and the
# count in one statement, one round trip. `chosen` comes back even when the insert
# met a conflict, so the next try skips that number.
_FITS = """p.active_bindings < coalesce(p.cap, :default_cap)
        AND p.id <> ALL(CAST(:skip AS integer[]))
        AND NOT EXISTS (SELECT 1 FROM bindings AS x WHERE x.proxy_number_id = p.id
            AND x.party_a_hash = :a_hash AND x.ended_at IS NULL AND x.extension IS NULL)
        AND NOT EXISTS (SELECT 1 FROM bindings AS x WHERE x.proxy_number_id = p.id
            AND x.party_b_hash = :b_hash AND x.ended_at IS NULL AND x.extension IS NULL)"""
_PG_ALLOCATE = """
WITH known AS (
    SELECT 1 WHERE :check AND (
        EXISTS (SELECT 1 FROM bindings WHERE ended_at IS NULL
                AND party_a_hash = :a_hash AND party_b_hash = :b_hash)
        OR EXISTS (SELECT 1 FROM bindings WHERE ended_at IS NULL
                   AND party_a_hash IN (:a_hash, :b_hash) AND expires_at <= :now)
        OR EXISTS (SELECT 1 FROM bindings WHERE ended_at IS NULL
                   AND party_b_hash IN (:a_hash, :b_hash) AND expires_at <= :now))
), here AS (
    SELECT p.id, p.e164 FROM proxy_numbers AS p
    WHERE {room} AND p.country = :country AND {fits} AND NOT EXISTS (SELECT 1 FROM known)
    ORDER BY p.id LIMIT 1 FOR UPDATE OF p {lock}
), anywhere AS (
    SELECT p.id, p.e164 FROM proxy_numbers AS p
    WHERE {room} AND {fits} AND NOT EXISTS (SELECT 1 FROM known) AND NOT EXISTS (SELECT 1 FROM here)
    ORDER BY p.id LIMIT 1 FOR UPDATE OF p {lock}
), chosen AS (
    SELECT id, e164 FROM here UNION ALL SELECT id, e164 FROM anywhere
), added AS (
    INSERT INTO bindings (proxy_number_id, party_a_encrypted, party_a_hash, party_b_encrypted,
                          party_b_hash, merchant_id, extension, created_at, expires_at)
    SELECT id, :party_a, :party_a_hash, :party_b, :party_b_hash, :merchant_id, :extension,
           :created_at, :expires_at
    FROM chosen
    ON CONFLICT DO NOTHING
    RETURNING id, proxy_number_id
), counted AS (
    UPDATE proxy_numbers AS p SET active_bindings = p.active_bindings + 1,
        has_room = p.active_bindings + 1 < coalesce(p.cap, :default_cap)
    FROM added WHERE p.id = added.proxy_number_id
)
SELECT EXISTS (SELECT 1 FROM known) AS known, chosen.id, chosen.e164, added.id AS binding_id
FROM (SELECT 1) AS one LEFT JOIN chosen ON true LEFT JOIN added ON true
"""


def _pg_statements(fits: str = _FITS) -> dict:
    """The allocating statement for each (flagged numbers only, wait for held numbers)."""
    return {
        (flagged, wait): text(_PG_ALLOCATE.format(  # fixed fragments; every value is a parameter
            fits=fits, room=DIRECT_WITH_ROOM if flagged else "status = 'active' AND NOT shared",
            lock="" if wait else "SKIP LOCKED"))
        .bindparams(bindparam("now", type_=B.expires_at.type),
                    *(_typed(f) for f in _FIELDS if f != "proxy_number_id"))
        for flagged in (True, False) for wait in (False, True)
    }


_PG_DIRECT = _pg_statements()
KNOWN = "known"  # the pair has a binding, or a party expired ones: look before allocating


def _allocate_direct(conn, params: dict, flagged: bool, skip: set[int], wait: bool = False):
    """(binding id, proxy id, proxy number) of a new direct binding, None if no number
    fits, or KNOWN (PostgreSQL, while `params["check"]`): nothing was written.

    PostgreSQL passes over the numbers other transactions hold unless `wait`."""
    for _ in range(MAX_RACE_RETRIES):
        params["skip"] = sorted(skip)
        if conn.dialect.name == "postgresql":
            row = conn.execute(_PG_DIRECT[flagged, wait], params).one()
            if row.known:
                return KNOWN
            binding_id = row.binding_id
        else:
            row = _pick_direct(conn, params, flagged)
            binding_id = None if row is None else _insert(conn, {**params, "proxy_number_id": row.id})
        if row is None or row.id is None:
            return None
        if binding_id is not None:
            return binding_id, row.id, row.e164
        skip.add(row.id)
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
                      **{f: values[f] for f in _FIELDS})
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
    current, expired = _lookup(conn, params, now)
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
    now = now or utcnow()
    a, b = Party.of(party_a), Party.of(party_b)
    if a.number_hash == b.number_hash:
        raise ValueError("a binding needs two different numbers")
    session = db.session
    session.flush()  # Core statements below do not autoflush; the caller's changes count
    conn = session.connection()
    params = {
        "a_hash": a.number_hash, "b_hash": b.number_hash, "hashes": [a.number_hash, b.number_hash],
        "now": now, "default_cap": default_cap, "country": country,
        "party_a": a.e164, "party_a_hash": a.number_hash, "party_b": b.e164,
        "party_b_hash": b.number_hash, "merchant_id": merchant_id, "extension": None,
        "created_at": utcnow(), "expires_at": now + ttl,
    }
    # PostgreSQL: the allocating statement itself says (KNOWN) when to look first,
    # which is rare; elsewhere look first, in one query.
    params["check"] = conn.dialect.name == "postgresql"
    if not params["check"] and (current := _settle(conn, params, a, b, ttl, now)) is not None:
        return current
    skip: set[int] = set()
    # The numbers flagged with room, then the whole pool. On PostgreSQL both pass over numbers
    # other transactions hold, but a number held is not a full one: before a pair is given an
    # extension (or told to wait), the pool is searched once more, waiting for those.
    searches = [(True, False), (False, False)]
    if conn.dialect.name == "postgresql":
        searches.append((False, True))
    for flagged, wait in searches:
        made = _allocate_direct(conn, params, flagged, skip, wait)
        if made is KNOWN:
            if (current := _settle(conn, params, a, b, ttl, now)) is not None:
                return current
            params["check"] = False
            made = _allocate_direct(conn, params, flagged, skip, wait)
        if made is not None:
            binding_id, proxy_id, e164 = made
            return _as_loaded(binding_id, {**params, "proxy_number_id": proxy_id}, e164)
    skip.clear()
    for _ in range(MAX_RACE_RETRIES):
        proxy = _pick_shared(conn, country, skip)
        if proxy is None:
            break
        values = {**params, "proxy_number_id": proxy.id,
                  "extension": _free_extension(conn, proxy.id, proxy.e164)}
        binding_id = _insert(conn, values)
        if binding_id is not None:
            return _as_loaded(binding_id, values, proxy.e164)
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

