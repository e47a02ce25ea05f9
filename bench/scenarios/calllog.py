"""`python -m bench calllog [--events N] [--quick]`: call-log search latency and verify throughput.

On a dedicated PostgreSQL database (`bench.scenarios.calllog_data`: 10,000,000 chained
events and 2,000,000 call records by default), each search kind runs through
`registry.complaints.search` about 200 times with values sampled from the data,
then the whole chain is verified as `flask calllog verify` does. The table
goes to stdout and to test-artifacts/bench-calllog.txt.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from bench.harness import cli, database
from bench.harness.app import make_app
from bench.harness.fixtures import merchant_e164
from bench.harness.tables import Row, number, publish
from bench.harness.timing import percentile
from bench.scenarios.calllog_data import Settings, build, log

TARGET_P99_MS, TARGET_EVENTS_PER_S = 50.0, 200_000
KINDS = ("phone", "merchant + date range", "order reference", "call SID")


# --- measuring -------------------------------------------------------------------

def samples(conn, s: Settings, rng: random.Random) -> dict[str, list[dict]]:
    """Query parameters for each search kind, taken from real rows."""
    ids = [rng.randint(1, s.records) for _ in range(s.searches)]
    rows = conn.execute(text(
        "SELECT c.call_sid, c.merchant_id, c.created_at, n.e164, c.id % 2 FROM call_records c "
        "LEFT JOIN bench_numbers n ON n.hash IN (c.from_hash, c.to_hash) AND n.kind = 's' "
        "WHERE c.id = ANY(:ids)"),
        {"ids": ids}).all()
    refs = conn.execute(text("SELECT order_ref FROM callback_requests WHERE order_ref IS NOT NULL "
                             "AND id = ANY(:ids)"), {"ids": [i // 5 + 1 for i in ids]}).scalars().all()
    phone, merchant = [], []
    for _, merchant_id, created, shopper, pick in rows:
        # Half the phone searches are a shopper's number, half a store's (busy ones are likelier).
        use_shopper = shopper and (pick or merchant_id is None)
        phone.append({"phone": shopper if use_shopper else merchant_e164(merchant_id)})
        if merchant_id is not None:
            width = timedelta(days=rng.randint(1, 30))
            since = created - width * rng.random()
            merchant.append({"merchant_id": str(merchant_id), "since": since.isoformat(),
                             "until": (since + width).isoformat()})
    return {"phone": phone, "merchant + date range": merchant,
            "order reference": [{"order_ref": ref} for ref in refs],
            "call SID": [{"call_sid": sid} for sid, *_ in rows]}


def timed(db, fn, params: list[dict]) -> tuple[float, float, float, dict] | None:
    """p50 and p99 in ms, mean rows found, and the slowest parameters, of `fn(args)` over
    `params` (the first ten run once more beforehand, to warm up)."""
    timings = []
    for i, args in enumerate(params[:10] + params):
        started = time.perf_counter()
        found = fn(args)
        elapsed = (time.perf_counter() - started) * 1000
        db.session.rollback()
        db.session.expunge_all()
        if i >= min(10, len(params)):
            timings.append((elapsed, len(found), args))
    if not timings:
        return None
    ms = [t[0] for t in timings]
    return (percentile(ms, 0.50), percentile(ms, 0.99),
            statistics.mean(t[1] for t in timings), max(timings, key=lambda t: t[0])[2])


def measure_searches(app, s: Settings, rng: random.Random) -> list[Row]:
    from sqlalchemy import select

    from registry.calllog.models import CallRecord
    from registry.complaints.search import parse_search, search
    from registry.core.extensions import db

    def by_created_at(args):  # the same filters, newest first by time: what the index serves best
        c = parse_search(args, "CN", 100)
        return list(db.session.scalars(select(CallRecord).where(
            CallRecord.merchant_id == c.merchant_id, CallRecord.created_at >= c.since,
            CallRecord.created_at <= c.until).order_by(CallRecord.created_at.desc(), CallRecord.id.desc())
            .limit(c.per_page + 1)))

    rows = []
    with app.app_context():
        with db.engine.connect() as conn:
            params = samples(conn, s, rng)
        for kind in KINDS:
            result = timed(db, lambda args: search(parse_search(args, "CN", 100))[0], params[kind])
            if result is None:
                continue
            p50, p99, hits, slowest = result
            rows.append(Row(f"search {kind}: p50 ({len(params[kind])} runs, {hits:.0f} rows avg)",
                                   f"{number(p50, 1)} ms"))
            rows.append(Row(f"search {kind}: p99", f"{number(p99, 1)} ms",
                                   f"<= {TARGET_P99_MS:.0f} ms", p99 <= TARGET_P99_MS))
            if s.explain:
                explain(db, slowest)
        result = timed(db, by_created_at, params["merchant + date range"])
        if result is not None:
            rows.append(Row("  same, ORDER BY created_at DESC, id DESC: p50 / p99 (info)",
                                   f"{result[0]:.1f} / {result[1]:.1f} ms"))
    return rows


def explain(db, args: dict) -> None:
    """EXPLAIN ANALYZE the statement `search()` runs for `args` (the slowest of its kind)."""
    from sqlalchemy import event

    from registry.complaints.search import parse_search, search

    captured = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        search(parse_search(args, "CN", 100))
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
        db.session.rollback()
    statement, parameters = captured[-1]
    with db.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
    log(f"EXPLAIN ANALYZE, search {args}:\n  " + "\n  ".join(plan))


def measure_verify(app, s: Settings) -> list[Row]:
    from registry.calllog.verification import verify

    with app.app_context():
        started = time.perf_counter()
        outcome = verify(workers=s.workers)
        seconds = time.perf_counter() - started
    rate = outcome.events / seconds if seconds else float("nan")
    return [
        Row("calllog verify: chain intact", f"{outcome.events:,} events",
                   f"{s.events:,} events, intact", outcome.ok and outcome.events == s.events),
        Row(f"calllog verify: throughput ({seconds:.1f} s)", f"{number(rate)} events/s",
                   f">= {TARGET_EVENTS_PER_S:,} events/s", rate >= TARGET_EVENTS_PER_S),
    ]


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench calllog", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="call events to load (default 10,000,000)")
    parser.add_argument("--records", type=int, help="call records (default events / 5)")
    parser.add_argument("--quick", action="store_true", help="200,000 events and a smaller marketplace")
    parser.add_argument("--searches", type=int, help="searches of each kind (default 200)")
    parser.add_argument("--workers", type=int, help="verify processes (default: the app's setting)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each kind's slowest search")
    parser.add_argument("--output", type=Path, help="where the table is written too")
    cli.database_arguments(parser, "registry_bench_calllog")
    args = parser.parse_args(argv)
    s = Settings().quick() if args.quick else Settings()
    if args.events:
        s = replace(s, events=args.events, records=max(1, args.records or args.events // 5))
    elif args.records:
        s = replace(s, records=args.records)
    s = cli.replace_given(s, keep=args.keep, explain=args.explain, searches=args.searches,
                          workers=args.workers, admin_url=args.admin_url, db_name=args.db_name,
                          output=args.output)
    if s.events < s.records or s.records < 10:
        parser.error("need at least 10 call records, and at least as many events as records")
    cli.check_database_name(parser, s.admin_url, s.db_name)
    return s


def run(argv: list[str] | None = None) -> list[Row]:
    """Build the database, measure, print and write the table; returns its rows."""
    s = parse_args(argv)
    started = time.monotonic()
    try:
        url = build(s)
        rows = [Row("load (set-based records, COPY of chained events)",
                           f"{time.monotonic() - started:,.0f} s", "", None)]
        app = make_app(url)
        rows += measure_searches(app, s, random.Random(7))
        rows += measure_verify(app, s)
    finally:
        if not s.keep:
            database.drop_database(s.admin_url, s.db_name)
    header = [f"call log on PostgreSQL: {s.events:,} events, {s.records:,} call records, "
              f"{s.merchants:,} merchants, {s.shoppers:,} shoppers; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f} at the end (other work on the machine slows every measure)"]
    publish(rows, header, s.output)
    return rows


def main(argv: list[str] | None = None) -> int:
    run(argv)
    return 0
