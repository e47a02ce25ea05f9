"""The benchmark's databases: creating, filling fast with set-based SQL, dropping.

A million bindings go in with one `INSERT ... SELECT` over a generated
series, not through the ORM: merchant i // 1000 (its real number, keyed
hash and encryption, so `allocate()` sees the merchant's real load), proxy
i % P (a merchant's 1,000 bindings land on distinct numbers), a shopper
hash made in SQL and one real Fernet token reused for every shopper. Then
a few hundred bindings go through the app's own `allocate()` with real
numbers: those are the callers the routing load uses.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import DateTime, bindparam, create_engine, text
from sqlalchemy.engine import Connection, make_url

from bench import settings as S
from registry.core.config import BOOL_TUNABLES, INT_TUNABLES, STR_TUNABLES
from registry.core.timeutil import utcnow

TTL = timedelta(hours=72)
# The bench's app runs with the default tunables (server_env drops any set in the environment).
DEFAULT_CAP = INT_TUNABLES["PROXY_NUMBER_CAP"]
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def merchant_e164(index: int) -> str:
    return f"+86138{index:08d}"


def shopper_e164(index: int) -> str:
    """Shoppers with real bindings (the routing load's callers)."""
    return f"+86136{index:08d}"


def proxy_e164(proxy_id: int) -> str:
    return f"+86139{proxy_id:08d}"


FILLER_SHOPPER = "+8613700000000"  # what every filler binding's party B decrypts to


# --- databases -------------------------------------------------------------

def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server (or in the directory) of `admin_url`."""
    if not _NAME.match(name):
        raise ValueError(f"not a safe database name: {name!r}")
    url = make_url(admin_url)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database).resolve().parent if url.database else Path.cwd()
        return f"sqlite:///{folder / (name + '.sqlite3')}"
    return url.set(database=name).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    """A fresh, empty database `name` (dropped first if a previous run left it)."""
    drop_database(admin_url, name)
    url = database_url(admin_url, name)
    if not is_sqlite(url):
        _admin(admin_url, f'CREATE DATABASE "{name}"')
    return url


def drop_database(admin_url: str, name: str) -> None:
    url = database_url(admin_url, name)
    if is_sqlite(url):
        path = Path(make_url(url).database)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


# --- the app, in this process and in the servers ---------------------------

def server_env(url: str, public_base_url: str, twilio_api_url: str) -> dict[str, str]:
    """The environment a gunicorn serving the app gets: the bench database, fixed
    secrets, default tunables, and a Twilio URL nothing listens on."""
    env = {k: v for k, v in os.environ.items()
           if k not in INT_TUNABLES and k not in STR_TUNABLES and k not in BOOL_TUNABLES}
    env.update({
        "REGISTRY_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": S.SECRET_KEY,
        "DATA_KEY": S.DATA_KEY,
        "TWILIO_ACCOUNT_SID": S.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": S.AUTH_TOKEN,
        "TWILIO_API_URL": twilio_api_url,
        "PUBLIC_BASE_URL": public_base_url,
        "RECORD_CALLS": "true",
    })
    return env


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def make_app(url: str):
    """The app on the bench database, configured as the server is (no files written)."""
    from registry import create_app

    env = server_env(url, "http://127.0.0.1:9", "http://127.0.0.1:9")
    keys = ("REGISTRY_ENV", "DATABASE_URL", "SECRET_KEY", "DATA_KEY", "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN", "TWILIO_API_URL", "PUBLIC_BASE_URL", "RECORD_CALLS")
    with _environ({k: env[k] for k in keys}):
        return create_app({"SQLALCHEMY_DATABASE_URI": url})


# --- set-based loading -----------------------------------------------------

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


def _sql(conn: Connection, key: str) -> str:
    return _SQL[conn.dialect.name][key]


def _stamped(statement: str):
    """A statement whose :now / :expires are typed, so SQLite stores them as the ORM does."""
    stamps = [bindparam(name, type_=DateTime(timezone=True)) for name in ("now", "expires")
              if f":{name}" in statement]
    return text(statement).bindparams(*stamps)


def insert_proxies(conn: Connection, first: int, last: int) -> None:
    """Proxy numbers with ids first..last (inclusive), E.164 +86139 followed by the id."""
    if last < first:
        return
    conn.execute(_stamped(
        f"{_sql(conn, 'series')} INSERT INTO proxy_numbers "  # noqa: S608 - fixed fragments
        "(id, e164, country, status, shared, active_bindings, created_at) "
        f"SELECT g.i, {_sql(conn, 'proxy_e164')}, 'CN', 'active', false, 0, :now FROM g"
    ), {"lo": first, "hi": last, "now": utcnow()})


def insert_merchants(conn: Connection, count: int) -> None:
    """Merchants 1..count, each with an owner and one verified number (real
    encryption and keyed hash), through Core so the column types encrypt."""
    from registry.accounts.models import User
    from registry.core.phones import get_cipher, mask
    from registry.merchants.models import Merchant, MerchantNumber

    if count < 1:
        return
    cipher, now = get_cipher(), utcnow()
    hours = {day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
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


def reset_sequences(conn: Connection) -> None:
    """After explicit ids, PostgreSQL's sequences must continue after them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("users", "merchants", "merchant_numbers", "proxy_numbers", "bindings"):
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
            f"GREATEST((SELECT max(id) FROM {table}), 1))"))


def insert_filler_bindings(conn: Connection, count: int, per_merchant: int, proxies: int,
                           shopper_token: str) -> None:
    """Binding i: merchant i // per_merchant + 1, proxy i % proxies + 1, a fresh shopper."""
    if count < 1:
        return
    now = utcnow()
    conn.execute(_stamped(
        f"{_sql(conn, 'series')} INSERT INTO bindings (proxy_number_id, party_a_encrypted, "  # noqa: S608
        "party_a_hash, party_b_encrypted, party_b_hash, merchant_id, created_at, expires_at) "
        f"SELECT g.i % :proxies + 1, mn.e164_encrypted, mn.number_hash, :token, "
        f"{_sql(conn, 'shopper_hash')}, mn.merchant_id, :now, :expires "
        "FROM g JOIN merchant_numbers mn ON mn.id = g.i / :per_merchant + 1"
    ), {"lo": 0, "hi": count - 1, "proxies": proxies, "per_merchant": per_merchant,
        "token": shopper_token, "now": now, "expires": now + TTL})


def recount_proxies(conn: Connection, default_cap: int) -> None:
    """`proxy_numbers.active_bindings` set from the rows themselves, and `has_room`
    from that count, as allocation keeps them."""
    conn.execute(text("UPDATE proxy_numbers SET active_bindings = 0"))
    conn.execute(text(
        "UPDATE proxy_numbers SET active_bindings = c.n FROM (SELECT proxy_number_id AS pid, "
        "count(*) AS n FROM bindings WHERE ended_at IS NULL GROUP BY proxy_number_id) AS c "
        "WHERE proxy_numbers.id = c.pid"))
    conn.execute(text("UPDATE proxy_numbers SET has_room = active_bindings < coalesce(cap, :cap)"),
                 {"cap": default_cap})


@contextmanager
def _without_secondary_indexes(conn: Connection, table: str) -> Iterator[None]:
    """PostgreSQL: drop `table`'s secondary indexes for a bulk load, build them after
    (one sort each instead of a million inserts into each)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    rows = conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = :t AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
    ), {"t": table}).all()
    for name, _ in rows:
        conn.execute(text(f'DROP INDEX "{name}"'))
    yield
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for _, definition in rows:
        conn.execute(text(definition))


def vacuum_analyze(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("VACUUM"))
            conn.execute(text("ANALYZE"))


# --- checks ----------------------------------------------------------------

def masking_violations(conn: Connection) -> int:
    """(proxy, party) pairs with more than one active direct binding: must be none."""
    total = 0
    for column in ("party_a_hash", "party_b_hash"):
        total += conn.scalar(text(
            f"SELECT count(*) FROM (SELECT proxy_number_id, {column} FROM bindings "  # noqa: S608
            f"WHERE ended_at IS NULL AND extension IS NULL GROUP BY proxy_number_id, {column} "
            "HAVING count(*) > 1) AS dup"))
    return total


def counter_mismatches(conn: Connection, default_cap: int | None = None) -> int:
    """Proxy numbers whose `active_bindings` differs from their active rows; with
    `default_cap`, also direct ones whose `has_room` disagrees with their count."""
    flag = "" if default_cap is None else (
        " OR (NOT p.shared AND p.has_room <> (p.active_bindings < coalesce(p.cap, :cap)))")
    return conn.scalar(text(
        "SELECT count(*) FROM proxy_numbers p LEFT JOIN (SELECT proxy_number_id AS pid, count(*) AS n "  # noqa: S608
        "FROM bindings WHERE ended_at IS NULL GROUP BY proxy_number_id) c ON c.pid = p.id "
        f"WHERE p.active_bindings <> coalesce(c.n, 0){flag}"), {"cap": default_cap})


def active_bindings(conn: Connection) -> int:
    return conn.scalar(text("SELECT count(*) FROM bindings WHERE ended_at IS NULL"))


# --- the whole setup -------------------------------------------------------

@dataclass
class Setup:
    url: str
    seconds: float
    bindings: int
    merchants: int
    proxies: int
    counter_mismatches: int
    callers: list[tuple[str, str]]  # (From, To) pairs that have an active binding


def build(settings: S.Settings, log) -> Setup:
    """Create the bench database and fill it; the time this takes is reported."""
    from registry.core.extensions import db
    from registry.core.phones import get_cipher
    from registry.masking.allocation import allocate

    started = time.monotonic()
    url = create_database(settings.admin_url, settings.db_name)
    app = make_app(url)
    merchants = -(-settings.bindings // settings.shoppers_per_merchant)
    filler = max(settings.filler_proxies, -(-settings.bindings // 200))
    if filler < min(settings.shoppers_per_merchant, settings.bindings):
        raise ValueError("a merchant's filler bindings need distinct proxy numbers")
    proxies = filler + settings.spare_proxies
    with app.app_context():
        db.create_all()
        token = get_cipher().encrypt(FILLER_SHOPPER)
        with db.engine.begin() as conn:
            insert_proxies(conn, 1, proxies)
            insert_merchants(conn, merchants)
        log(f"setup: schema, {proxies:,} proxy numbers, {merchants:,} merchants "
            f"({time.monotonic() - started:.1f}s)")
        with db.engine.begin() as conn:
            with _without_secondary_indexes(conn, "bindings"):
                insert_filler_bindings(conn, settings.bindings, settings.shoppers_per_merchant,
                                       filler, token)
                log(f"setup: {settings.bindings:,} filler bindings inserted "
                    f"({time.monotonic() - started:.1f}s)")
            recount_proxies(conn, DEFAULT_CAP)
            reset_sequences(conn)
        vacuum_analyze(db.engine)
        log(f"setup: indexes built, counters set, VACUUM ANALYZE ({time.monotonic() - started:.1f}s)")
        callers = []
        for k in range(1, settings.real_bindings + 1):
            m = (k * 7919) % merchants + 1
            binding = allocate(merchant_e164(m), shopper_e164(k), ttl=TTL,
                               default_cap=app.config["PROXY_NUMBER_CAP"], country="CN", merchant_id=m)
            callers += [(shopper_e164(k), binding.proxy_number.e164),
                        (merchant_e164(m), binding.proxy_number.e164)]
        db.session.commit()
        db.session.remove()
        vacuum_analyze(db.engine)
        with db.engine.connect() as conn:
            count, mismatches = active_bindings(conn), counter_mismatches(conn, DEFAULT_CAP)
        db.engine.dispose()
    seconds = time.monotonic() - started
    log(f"setup: {settings.real_bindings} real bindings allocated, VACUUM ANALYZE again ({seconds:.1f}s)")
    return Setup(url, seconds, count, merchants, proxies, mismatches, callers)
