"""Rows every benchmark loads the same way: phone numbers, merchants, proxy numbers.

Merchant m's verified number is `merchant_e164(m)`, proxy number i's is
`proxy_e164(i)`; shoppers are `shopper_e164(i)`. Merchants go in through
Core (so the column types encrypt and hash the numbers for real), proxy
numbers set-based over a generated series.
"""

from __future__ import annotations

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.engine import Connection

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHOP_HOURS = {day: [["09:00", "21:00"]] for day in WEEK}
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in WEEK}


def merchant_e164(index: int) -> str:
    return f"+86138{index:08d}"


def shopper_e164(index: int) -> str:
    return f"+86137{index:08d}"


def proxy_e164(proxy_id: int) -> str:
    return f"+86139{proxy_id:08d}"


_SQL = {
    "postgresql": {
        "series": "WITH g(i) AS (SELECT generate_series(CAST(:lo AS integer), CAST(:hi AS integer)))",
        "proxy_e164": "'+86139' || lpad(g.i::text, 8, '0')",
        "shopper_hash": "md5('shopper:' || g.i) || md5('shopper;' || g.i)",
    },
    "sqlite": {
        "series": "WITH RECURSIVE g(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM g WHERE i < :hi)",
        "proxy_e164": "printf('+86139%08d', g.i)",
        "shopper_hash": "printf('%064x', g.i)",
    },
}


def dialect_sql(conn: Connection, key: str) -> str:
    """A SQL fragment in the connection's dialect: `series` (g.i from :lo to :hi), ..."""
    return _SQL[conn.dialect.name][key]


def stamped(statement: str):
    """A statement whose :now / :expires are typed, so SQLite stores them as the ORM does."""
    stamps = [bindparam(name, type_=DateTime(timezone=True)) for name in ("now", "expires")
              if f":{name}" in statement]
    return text(statement).bindparams(*stamps)


def insert_proxies(conn: Connection, first: int, last: int) -> None:
    """Proxy numbers with ids first..last (inclusive), E.164 +86139 followed by the id."""
    from registry.core.timeutil import utcnow

    if last < first:
        return
    conn.execute(stamped(
        f"{dialect_sql(conn, 'series')} INSERT INTO proxy_numbers "  # noqa: S608 - fixed fragments
        "(id, e164, country, status, shared, active_bindings, created_at) "
        f"SELECT g.i, {dialect_sql(conn, 'proxy_e164')}, 'CN', 'active', false, 0, :now FROM g"
    ), {"lo": first, "hi": last, "now": utcnow()})


def insert_merchants(conn: Connection, count: int, hours: dict = SHOP_HOURS) -> None:
    """Merchants 1..count, each with an owner and one verified number (real
    encryption and keyed hash), open `hours`."""
    from registry.accounts.models import User
    from registry.core.phones import get_cipher, mask
    from registry.core.timeutil import utcnow
    from registry.merchants.models import Merchant, MerchantNumber

    if count < 1:
        return
    cipher, now = get_cipher(), utcnow()
    conn.execute(User.__table__.insert(), [
        {"id": m, "email": f"bench-merchant-{m}@example.com", "password_hash": "-", "role": "merchant",
         "active": True, "created_at": now} for m in range(1, count + 1)])
    conn.execute(Merchant.__table__.insert(), [
        {"id": m, "owner_id": m, "name": f"Bench store {m}", "timezone": "Asia/Shanghai",
         "business_hours": hours, "status": "active", "created_at": now} for m in range(1, count + 1)])
    rows = []
    for m in range(1, count + 1):
        e164 = merchant_e164(m)
        rows.append({"id": m, "merchant_id": m, "e164_encrypted": e164,
                     "number_hash": cipher.lookup_hash(e164), "masked": mask(e164), "region": "CN",
                     "line_type": "mobile", "status": "verified", "verified_at": now, "created_at": now})
    conn.execute(MerchantNumber.__table__.insert(), rows)
