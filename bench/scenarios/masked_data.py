"""The masked-number benchmark's database: a million active bindings, loaded set-based.

A million bindings go in with one `INSERT ... SELECT` over a generated
series, not through the ORM: merchant i // 1000 (its real number, keyed
hash and encryption, so `allocate()` sees the merchant's real load), proxy
i % P (a merchant's 1,000 bindings land on distinct numbers), a shopper
hash made in SQL and one real Fernet token reused for every shopper. Then
a few hundred bindings go through the app's own `allocate()` with real
numbers: those are the callers the routing load uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bench.harness import database, fixtures
from bench.harness.app import make_app
from bench.harness.fixtures import merchant_e164
from bench.harness.tables import Row, number

TTL = timedelta(hours=72)
FILLER_SHOPPER = fixtures.shopper_e164(0)  # what every filler binding's party B decrypts to
TABLES = ("users", "merchants", "merchant_numbers", "proxy_numbers", "bindings")


def default_cap() -> int:
    """The bench's app runs with the default tunables (its environment drops any set in ours)."""
    from registry.core.config import INT_TUNABLES

    return INT_TUNABLES["PROXY_NUMBER_CAP"]


def caller_e164(index: int) -> str:
    """Shoppers with real bindings (the routing load's callers)."""
    return f"+86136{index:08d}"


def insert_filler_bindings(conn: Connection, count: int, per_merchant: int, proxies: int,
                           shopper_token: str) -> None:
    """Binding i: merchant i // per_merchant + 1, proxy i % proxies + 1, a fresh shopper."""
    from registry.core.timeutil import utcnow

    if count < 1:
        return
    now = utcnow()
    conn.execute(fixtures.stamped(
        f"{fixtures.dialect_sql(conn, 'series')} INSERT INTO bindings (proxy_number_id, "  # noqa: S608
        "party_a_encrypted, party_a_hash, party_b_encrypted, party_b_hash, merchant_id, created_at, "
        f"expires_at) SELECT g.i % :proxies + 1, mn.e164_encrypted, mn.number_hash, :token, "
        f"{fixtures.dialect_sql(conn, 'shopper_hash')}, mn.merchant_id, :now, :expires "
        "FROM g JOIN merchant_numbers mn ON mn.id = g.i / :per_merchant + 1"
    ), {"lo": 0, "hi": count - 1, "proxies": proxies, "per_merchant": per_merchant,
        "token": shopper_token, "now": now, "expires": now + TTL})


def recount_proxies(conn: Connection, cap: int) -> None:
    """`proxy_numbers.active_bindings` set from the rows themselves, and `has_room`
    from that count, as allocation keeps them."""
    conn.execute(text("UPDATE proxy_numbers SET active_bindings = 0"))
    conn.execute(text(
        "UPDATE proxy_numbers SET active_bindings = c.n FROM (SELECT proxy_number_id AS pid, "
        "count(*) AS n FROM bindings WHERE ended_at IS NULL GROUP BY proxy_number_id) AS c "
        "WHERE proxy_numbers.id = c.pid"))
    conn.execute(text("UPDATE proxy_numbers SET has_room = active_bindings < coalesce(cap, :cap)"),
                 {"cap": cap})


def masking_violations(conn: Connection) -> int:
    """(proxy, party) pairs with more than one active direct binding: must be none."""
    total = 0
    for column in ("party_a_hash", "party_b_hash"):
        total += conn.scalar(text(
            f"SELECT count(*) FROM (SELECT proxy_number_id, {column} FROM bindings "  # noqa: S608
            f"WHERE ended_at IS NULL AND extension IS NULL GROUP BY proxy_number_id, {column} "
            "HAVING count(*) > 1) AS dup"))
    return total


def counter_mismatches(conn: Connection, cap: int | None = None) -> int:
    """Proxy numbers whose `active_bindings` differs from their active rows; with
    `cap` (the default cap), also direct ones whose `has_room` disagrees with their count."""
    flag = "" if cap is None else (
        " OR (NOT p.shared AND p.has_room <> (p.active_bindings < coalesce(p.cap, :cap)))")
    return conn.scalar(text(
        "SELECT count(*) FROM proxy_numbers p LEFT JOIN (SELECT proxy_number_id AS pid, count(*) AS n "  # noqa: S608
        "FROM bindings WHERE ended_at IS NULL GROUP BY proxy_number_id) c ON c.pid = p.id "
        f"WHERE p.active_bindings <> coalesce(c.n, 0){flag}"), {"cap": cap})


@dataclass
class Setup:
    url: str
    seconds: float
    bindings: int
    merchants: int
    proxies: int
    counter_mismatches: int
    callers: list[tuple[str, str]]  # (From, To) pairs that have an active binding


def build(settings, log) -> Setup:
    """Create the bench database and fill it; the time this takes is reported."""
    from registry.core.extensions import db
    from registry.core.phones import get_cipher
    from registry.masking.allocation import allocate

    started = time.monotonic()
    url = database.create_database(settings.admin_url, settings.db_name)
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
            fixtures.insert_proxies(conn, 1, proxies)
            fixtures.insert_merchants(conn, merchants)
        log(f"setup: schema, {proxies:,} proxy numbers, {merchants:,} merchants "
            f"({time.monotonic() - started:.1f}s)")
        with db.engine.begin() as conn:
            with database.without_secondary_indexes(conn, "bindings"):
                insert_filler_bindings(conn, settings.bindings, settings.shoppers_per_merchant,
                                       filler, token)
                log(f"setup: {settings.bindings:,} filler bindings inserted "
                    f"({time.monotonic() - started:.1f}s)")
            recount_proxies(conn, default_cap())
            database.reset_sequences(conn, TABLES)
        database.vacuum_analyze(db.engine)
        log(f"setup: indexes built, counters set, VACUUM ANALYZE ({time.monotonic() - started:.1f}s)")
        callers = []
        for k in range(1, settings.real_bindings + 1):
            m = (k * 7919) % merchants + 1
            binding = allocate(merchant_e164(m), caller_e164(k), ttl=TTL,
                               default_cap=app.config["PROXY_NUMBER_CAP"], country="CN", merchant_id=m)
            callers += [(caller_e164(k), binding.proxy_number.e164),
                        (merchant_e164(m), binding.proxy_number.e164)]
        db.session.commit()
        db.session.remove()
        database.vacuum_analyze(db.engine)
        with db.engine.connect() as conn:
            count = conn.scalar(text("SELECT count(*) FROM bindings WHERE ended_at IS NULL"))
            mismatches = counter_mismatches(conn, default_cap())
        db.engine.dispose()
    seconds = time.monotonic() - started
    log(f"setup: {settings.real_bindings} real bindings allocated, VACUUM ANALYZE again ({seconds:.1f}s)")
    return Setup(url, seconds, count, merchants, proxies, mismatches, callers)


def setup_rows(setup: Setup) -> list[Row]:
    return [
        Row("setup: active bindings", number(setup.bindings)),
        Row("setup: proxy numbers / merchants", f"{setup.proxies:,} / {setup.merchants:,}"),
        Row("setup: counters equal active rows", f"{setup.counter_mismatches} off", "0 off",
            setup.counter_mismatches == 0),
        Row("setup: time (s)", number(setup.seconds, 1)),
    ]
