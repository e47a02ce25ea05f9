"""The call-log benchmark's database: built by the app's migrations, then filled.

Merchants, shoppers, callback requests (with order references) and call
records go in set-based (`generate_series`, a power law over merchants so a
few stores are busy). The call events carry a real hash chain, so Python
computes it in order (the canonical bytes built as the verifier builds them,
checked against `canonical()` every 100,000 events) and streams them in with
COPY, call_events' secondary indexes built afterwards.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from json.encoder import c_make_encoder, encode_basestring
from pathlib import Path

from sqlalchemy import text

from bench.harness import ROOT, database
from bench.harness.app import admin_url, make_app
from bench.harness.fixtures import insert_merchants, proxy_e164, shopper_e164
from bench.harness.timing import stderr_log

GENESIS = "0" * 64


@dataclass(frozen=True)
class Settings:
    """What one run loads and measures (`--quick`: 200,000 events, a smaller marketplace)."""

    events: int = 10_000_000
    records: int = 2_000_000
    merchants: int = 20_000
    shoppers: int = 500_000
    proxies: int = 5_000
    days: int = 365
    searches: int = 200
    workers: int | None = None
    admin_url: str = field(default_factory=admin_url)
    db_name: str = "registry_bench_calllog"
    keep: bool = False
    explain: bool = False
    output: Path = ROOT / "test-artifacts" / "bench-calllog.txt"

    def quick(self) -> Settings:
        return replace(self, events=200_000, records=40_000, merchants=2_000, shoppers=20_000, proxies=500)


log = stderr_log("calllog")
TABLES = ("users", "merchants", "merchant_numbers", "shoppers", "callback_requests", "call_records",
          "call_events")


def load_people(conn, s: Settings) -> None:
    """Shoppers and proxy numbers (with their keyed hashes, computed here once), then the
    shoppers table, callback requests with order references, and the call records."""
    from registry.core.phones import get_cipher

    cipher = get_cipher()
    token = cipher.encrypt("+8613700000000")  # one real Fernet token for every stored number
    conn.execute(text("CREATE TABLE bench_numbers (kind char(1), i integer, e164 text, hash text, "
                      "masked text, PRIMARY KEY (kind, i))"))
    raw = conn.connection.driver_connection
    with raw.cursor().copy("COPY bench_numbers FROM STDIN") as copy:
        for kind, count, number in (("s", s.shoppers, shopper_e164), ("p", s.proxies, proxy_e164)):
            for i in range(1, count + 1):
                e164 = number(i)
                copy.write_row((kind, i, e164, cipher.lookup_hash(e164), f"+86 {e164[3:6]}****{e164[-4:]}"))
    conn.execute(text("CREATE INDEX ON bench_numbers (hash)"))
    conn.execute(text(
        "INSERT INTO shoppers (id, phone_encrypted, phone_hash, masked, region, timezone, verified_at, "
        "created_at) SELECT i, :token, hash, masked, 'CN', 'Asia/Shanghai', now(), now() "
        "FROM bench_numbers WHERE kind = 's'"), {"token": token})
    start = datetime.now(UTC) - timedelta(days=s.days)
    step = s.days * 86400 / s.records  # seconds between consecutive call records
    # Merchants are skewed (power 3: the biggest store has a few per cent of all calls).
    merchant = f"1 + floor({s.merchants} * power(random(), 3))::int"
    conn.execute(text("SELECT setseed(0.42)"))
    conn.execute(text(
        "INSERT INTO callback_requests (id, merchant_id, shopper_id, order_ref, note, asap, "  # noqa: S608
        "window_start, "
        "window_end, due_at, status, shopper_misses, created_at, updated_at) "
        f"SELECT j, {merchant}, 1 + floor(random() * :shoppers)::int, "
        "CASE WHEN j % 5 = 0 THEN NULL ELSE 'TM' || lpad((j::bigint * 7919)::text, 14, '0') END, "
        "NULL, true, t, t + interval '1 hour', t, 'completed', 0, t, t "
        "FROM (SELECT j, CAST(:start AS timestamptz) + make_interval(secs => (j - 1) * 5 * :step) AS t "
        "FROM generate_series(1, :requests) AS j) AS g"),
        {"shoppers": s.shoppers, "start": start, "step": step, "requests": s.records // 5})
    # Of every ten legs: 0-3 a callback's two legs (request (i-1)/5 + ...), 4-8 relays, 9 intercepted.
    conn.execute(text(
        "INSERT INTO call_records (id, call_sid, direction, kind, proxy_number, from_masked, to_masked, "
        "from_encrypted, to_encrypted, from_hash, to_hash, merchant_id, callback_request_id, status, "
        "created_at, answered_at, ended_at, duration_seconds, recording_attempts) "
        "SELECT g.i, 'CA' || lpad(to_hex(g.i), 32, '0'), "
        "CASE WHEN g.r < 4 THEN 'outbound-api' ELSE 'inbound' END, "
        "(ARRAY['callback_merchant_leg', 'callback_shopper_leg', 'relay', 'intercepted'])"
        "[CASE WHEN g.r IN (0, 2) THEN 1 WHEN g.r IN (1, 3) THEN 2 WHEN g.r < 9 THEN 3 ELSE 4 END], "
        "p.e164, CASE WHEN g.r < 4 THEN p.masked ELSE sh.masked END, "
        "CASE WHEN g.r IN (1, 3) THEN sh.masked WHEN g.r = 9 THEN p.masked ELSE mn.masked END, "
        ":token, :token, CASE WHEN g.r < 4 THEN p.hash ELSE sh.hash END, "
        "CASE WHEN g.r IN (1, 3) THEN sh.hash WHEN g.r = 9 THEN p.hash ELSE mn.number_hash END, "
        "CASE WHEN g.r = 9 THEN NULL ELSE g.m END, "
        "CASE WHEN g.r < 4 THEN least((g.i - 1) / 5 + 1, :requests) END, "
        "CASE WHEN g.i % 7 = 0 THEN 'no-answer' ELSE 'completed' END, g.t, g.t + interval '8 seconds', "
        "g.t + interval '95 seconds', 87, 0 "
        "FROM (SELECT i, i % 10 AS r, " + merchant + " AS m, 1 + floor(random() * :shoppers)::int AS s, "
        "1 + i % :proxies AS p, CAST(:start AS timestamptz) + make_interval(secs => (i - 1) * :step) AS t "
        "FROM generate_series(1, :records) AS i) AS g "
        "JOIN bench_numbers sh ON sh.kind = 's' AND sh.i = g.s "
        "JOIN bench_numbers p ON p.kind = 'p' AND p.i = g.p "
        "JOIN merchant_numbers mn ON mn.id = g.m"),
        {"token": token, "shoppers": s.shoppers, "proxies": s.proxies, "start": start, "step": step,
         "records": s.records, "requests": s.records // 5})


# The event's canonical bytes, built as `registry.calllog.chain.check_rows` checks them (and
# checked against `canonical()` itself below); `data` is stored in that form too (`CanonicalJSON`).
_SORTED = c_make_encoder(None, None, encode_basestring, None, ":", ",", True, False, True)
STATUSES = ("initiated", "ringing", "in-progress", "completed")


def events(s: Settings):
    """The events, in chain order: (row for COPY, canonical payload)."""
    start_us = int((datetime.now(UTC) - timedelta(days=s.days)).timestamp() * 1e6)
    step_us = s.days * 86_400_000_000 // s.events
    prev = GENESIS
    for seq in range(1, s.events + 1):
        record = (seq - 1) * s.records // s.events + 1
        position = (seq - 1) * s.records % s.events // s.records  # this event's place in its record's
        call_sid = f"CA{record:032x}"
        moment = datetime.fromtimestamp((start_us + seq * step_us) / 1e6, UTC)
        stamp = moment.isoformat(timespec="microseconds")
        masked = f"+86 137****{record % 10000:04d}"
        if position == 0:
            kind, data = "routing", {"decision": "connect", "reason": None, "binding_id": record,
                                     "extension": None, "to_masked": masked}
        else:
            kind = "status"
            data = {"status": STATUSES[min(position - 1, 3)], "sequence": str(position - 1),
                    "duration": 87 if position >= 4 else None, "parent_call_sid": None,
                    "from_masked": masked, "to_masked": "+86 138****0001"}
        dedupe = hashlib.sha256(b"bench:%d" % seq).hexdigest()
        body = "".join(_SORTED(data, 0))
        payload = (f'{{"call_sid":"{call_sid}","data":{body},"dedupe_key":"{dedupe}","kind":"{kind}",'
                   f'"recorded_at":"{stamp}","seq":{seq},"source":"twilio"}}').encode()
        digest = hashlib.sha256(payload).hexdigest()
        hash_ = hashlib.sha256(bytes.fromhex(digest + prev)).hexdigest()
        yield (seq, seq, call_sid, kind, "twilio", body, dedupe, stamp, digest, None, prev, hash_), \
            (seq, call_sid, kind, data, dedupe, moment, digest)
        prev = hash_


def load_events(conn, s: Settings) -> None:
    """COPY the chained events in, with call_events' secondary indexes built afterwards."""
    from registry.calllog.chain import canonical, digest_of

    columns = ("id, seq, call_sid, kind, source, data, dedupe_key, recorded_at, digest, redacted_at, "
               "prev_hash, hash")
    last, started = None, time.monotonic()
    with database.without_secondary_indexes(conn, "call_events", unique_constraints=True, work_mem="1GB"):
        copying = conn.connection.driver_connection.cursor().copy(f"COPY call_events ({columns}) FROM STDIN")
        with copying as copy:
            for row, (seq, call_sid, kind, data, dedupe, moment, digest) in events(s):
                if seq % 100_000 == 1:  # the shortcut must give `canonical()`'s digest exactly
                    assert digest_of(canonical(seq, call_sid, kind, "twilio", data, dedupe, moment)) == digest
                    if seq > 1:
                        log(f"  {seq - 1:,} events ({(seq - 1) / (time.monotonic() - started):,.0f}/s)")
                copy.write_row(row)
                last = row
        conn.execute(text("INSERT INTO call_event_chain_head (id, seq, hash) VALUES (1, :seq, :hash)"),
                     {"seq": last[1] if last else 0, "hash": last[-1] if last else GENESIS})


def build(s: Settings) -> str:
    """Create and fill the bench database; returns its URL."""
    from flask_migrate import upgrade

    from registry.core.extensions import db

    started = time.monotonic()
    url = database.create_database(s.admin_url, s.db_name)
    app = make_app(url)
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            insert_merchants(conn, s.merchants)
            load_people(conn, s)
        log(f"setup: {s.merchants:,} merchants, {s.records:,} call records "
            f"({time.monotonic() - started:.0f} s)")
        with db.engine.begin() as conn:
            load_events(conn, s)
            database.reset_sequences(conn, TABLES)
        log(f"setup: {s.events:,} chained events ({time.monotonic() - started:.0f} s)")
        database.vacuum_analyze(db.engine)
        db.engine.dispose()
    log(f"setup: VACUUM ANALYZE done ({time.monotonic() - started:.0f} s)")
    return url
