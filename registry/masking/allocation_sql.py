"""The statements an allocation runs, per backend: built once, run with parameters.

Every callback allocates, so the common case (a new pair, a number free)
is prebuilt Core statements and no ORM flush (building a statement costs
more client CPU than running it). On PostgreSQL it is one statement: it
checks that the pair has no binding and neither party an expired one (else
it writes nothing and says so, `KNOWN`, and those are dealt with first),
picks, inserts with `ON CONFLICT DO NOTHING` (a racing allocation makes it
insert nothing, not raise: no savepoint) and counts. On SQLite: one
look-up, one pick, the insert, the count. The pick walks only the numbers
flagged `has_room` (a partial index), in id order, so it stops at the
first fit instead of reading past every full number (5,000 of them in the
benchmark: ~1 ms of server CPU per allocation).

What to try in what order, and what to do with the answers, is
`allocation`'s: this module only says it in SQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update

from registry.core import dialects
from registry.core.timeutil import as_utc
from registry.masking.models import DIRECT_WITH_ROOM, Binding, ProxyNumber

PROXIES, BINDINGS = ProxyNumber.__table__, Binding.__table__
P, B = PROXIES.c, BINDINGS.c


def _uses(party_column, hashes_param: str):
    """The proxy number holds an active direct binding of the party, under any of its hashes
    (one probe of its unique index per key `DATA_KEY` lists)."""
    return exists().where(B.proxy_number_id == P.id,
                          party_column.in_(bindparam(hashes_param, expanding=True)),
                          B.ended_at.is_(None), B.extension.is_(None))


def _direct_query(flavour: str, flagged: bool, in_country: bool):
    """The first direct number that fits, in id order: built once, run with parameters
    (building a statement costs more client CPU than running it)."""
    query = _DIRECT.get((flavour, flagged, in_country))
    if query is None:
        where = [P.active_bindings < func.coalesce(P.cap, bindparam("default_cap")),
                 ~_uses(B.party_a_hash, "a_hashes"), ~_uses(B.party_b_hash, "b_hashes"),
                 P.id.not_in(bindparam("skip", expanding=True))]
        where += [text(DIRECT_WITH_ROOM)] if flagged else [P.status == "active", P.shared.is_(False)]
        if in_country:
            where.append(P.country == bindparam("country"))
        query = dialects.skip_locked(select(P.id, P.e164).where(*where).order_by(P.id).limit(1), flavour,
                                     of=PROXIES)
        _DIRECT[(flavour, flagged, in_country)] = query
    return query


_DIRECT: dict = {}


def pick_direct(conn, params: dict, flagged: bool):
    """(id, e164) of the first direct number that fits, or None.

    The country's numbers first, then any: each query walks its index in id
    order and stops at the first fit. `flagged=False` also reads the numbers
    flagged full, for when the flag may be stale (the default cap was raised).
    """
    for in_country in ([True] if params["country"] else []) + [False]:
        row = conn.execute(_direct_query(dialects.flavour(conn), flagged, in_country), params).first()
        if row is not None:
            return row
    return None


LOOKUP = select(B.id, B.party_a_hash, B.party_b_hash, B.expires_at).where(
    B.ended_at.is_(None),
    # Each branch an index range (ix_bindings_active_party_a/b), so no plan reads all
    # of a busy merchant's bindings to find none expired.
    or_(and_(B.party_a_hash.in_(bindparam("a_hashes", expanding=True)),
             B.party_b_hash.in_(bindparam("b_hashes", expanding=True))),
        and_(B.party_a_hash.in_(bindparam("hashes", expanding=True)), B.expires_at <= bindparam("now")),
        and_(B.party_b_hash.in_(bindparam("hashes", expanding=True)), B.expires_at <= bindparam("now"))),
)


def lookup(conn, params: dict, now: datetime) -> tuple[int | None, bool]:
    """(the pair's active, unexpired binding, whether either party has expired ones): one query."""
    rows = conn.execute(LOOKUP, params).all()
    expired = any(as_utc(row.expires_at) <= now for row in rows)
    current = min((row.id for row in rows
                   if as_utc(row.expires_at) > now and row.party_a_hash in params["a_hashes"]
                   and row.party_b_hash in params["b_hashes"]), default=None)
    return current, expired


FIELDS = ("proxy_number_id", "party_a", "party_a_hash", "party_b", "party_b_hash", "merchant_id",
          "extension", "created_at", "expires_at", "client_id", "order_ref")
_COLUMN_OF = {"party_a": "party_a_encrypted", "party_b": "party_b_encrypted"}


def _typed(name: str):
    """A parameter named as the ORM attribute, typed as its column (the phones encrypt)."""
    return bindparam(name, type_=BINDINGS.c[_COLUMN_OF.get(name, name)].type)


_INSERT = {
    flavour: dialects.insert_ignore(BINDINGS, flavour)
    .values({_COLUMN_OF.get(f, f): _typed(f) for f in FIELDS}).returning(B.id)
    for flavour in (dialects.POSTGRESQL, dialects.SQLITE)
}
_COUNT = update(PROXIES).where(P.id == bindparam("proxy_number_id")).values(
    active_bindings=P.active_bindings + 1,
    has_room=P.shared | (P.active_bindings + 1 < func.coalesce(P.cap, bindparam("default_cap"))),
)


def insert_binding(conn, params: dict) -> int | None:
    """Insert the binding and count it; its id, or None if a racing allocation took the
    slot first (a unique index refused it: no error, no savepoint to roll back)."""
    # Only their own parameters: Core would take any other column's name as a value to set.
    binding_id = conn.scalar(_INSERT[dialects.flavour(conn)], {f: params[f] for f in FIELDS})
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
            AND x.party_a_hash = ANY(CAST(:a_hashes AS varchar[])) AND x.ended_at IS NULL
            AND x.extension IS NULL)
        AND NOT EXISTS (SELECT 1 FROM bindings AS x WHERE x.proxy_number_id = p.id
            AND x.party_b_hash = ANY(CAST(:b_hashes AS varchar[])) AND x.ended_at IS NULL
            AND x.extension IS NULL)"""
_PG_ALLOCATE = """
WITH known AS (
    SELECT 1 WHERE :check AND (
        EXISTS (SELECT 1 FROM bindings WHERE ended_at IS NULL
                AND party_a_hash = ANY(CAST(:a_hashes AS varchar[]))
                AND party_b_hash = ANY(CAST(:b_hashes AS varchar[])))
        OR EXISTS (SELECT 1 FROM bindings WHERE ended_at IS NULL
                   AND party_a_hash = ANY(CAST(:hashes AS varchar[])) AND expires_at <= :now)
        OR EXISTS (SELECT 1 FROM bindings WHERE ended_at IS NULL
                   AND party_b_hash = ANY(CAST(:hashes AS varchar[])) AND expires_at <= :now))
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
                          party_b_hash, merchant_id, extension, created_at, expires_at, client_id,
                          order_ref)
    SELECT id, :party_a, :party_a_hash, :party_b, :party_b_hash, :merchant_id, :extension,
           :created_at, :expires_at, :client_id, :order_ref
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
                    *(_typed(f) for f in FIELDS if f != "proxy_number_id"))
        for flagged in (True, False) for wait in (False, True)
    }


_PG_DIRECT = _pg_statements()
KNOWN = "known"  # the pair has a binding, or a party expired ones: look before allocating


def try_direct(conn, params: dict, flagged: bool, wait: bool):
    """One try at a new direct binding: `(number, binding id)`, where the number is the
    `(id, e164)` row chosen (None if none fits) and the binding id is None if a racing
    allocation took that slot first; or `KNOWN` (PostgreSQL, while `params["check"]`):
    nothing was written.

    PostgreSQL passes over the numbers other transactions hold unless `wait`."""
    if dialects.is_postgresql(conn):
        row = conn.execute(_PG_DIRECT[flagged, wait], params).one()
        if row.known:
            return KNOWN
        return (None if row.id is None else row), row.binding_id
    row = pick_direct(conn, params, flagged)
    return row, None if row is None else insert_binding(conn, {**params, "proxy_number_id": row.id})
