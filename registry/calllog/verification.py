"""Verifying the stored hash chain: a consistent, fast walk, and the kept results.

`scan()` reads the events as plain tuples (no ORM objects) in one database
snapshot, so events appended while it runs neither count nor look like a
removed tail. On PostgreSQL a long chain is split into `seq` ranges walked by
worker processes that share the coordinator's exported snapshot
(`pg_export_snapshot()`); each range checks its own links from its first
row, and `chain.combine` checks the junctions and the head, so the result is
exactly what one sequential walk reports.

The daily job (`verify_call_log`) stores each outcome as a
`ChainVerification` row; the staff console shows `last_result()`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context

from flask import Flask, current_app
from sqlalchemy import select

from registry.calllog import checkpoints
from registry.calllog.chain import GENESIS, ChainReport, check_rows, combine, seal_pending
from registry.calllog.models import CallEvent, ChainCheckpoint, ChainHead, ChainVerification
from registry.core import dialects
from registry.core.extensions import db
from registry.core.timeutil import as_utc

# Below this many events one process is quicker than starting workers.
PARALLEL_MIN_EVENTS = 500_000
RANGES_PER_WORKER = 4
FETCH_ROWS = 20_000
_PG_COLUMNS = ("seq, call_sid, kind, source, data::text, dedupe_key, "
               "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), "
               "digest, redacted_at IS NOT NULL, prev_hash, hash")
_SQLITE_COLUMNS = ("seq, call_sid, kind, source, data, dedupe_key, "
                   "replace(recorded_at, ' ', 'T') || '+00:00', "
                   "digest, redacted_at IS NOT NULL, prev_hash, hash")
_HEAD = "SELECT seq, hash FROM call_event_chain_head WHERE id = 1"
_UNSEALED = "SELECT count(*) FROM call_events WHERE seq IS NULL"


def scan(workers: int | None = None) -> ChainReport:
    """Walk the whole stored chain (the app's database) and report its first broken link."""
    engine = db.engine
    if not dialects.is_postgresql(engine):
        return _scan_sqlite()
    if workers is None:
        workers = current_app.config.get("CALLLOG_VERIFY_WORKERS", 0) or os.cpu_count() or 1
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            cur.execute(_HEAD)
            head = cur.fetchone()
            cur.execute("SELECT max(seq) FROM call_events")
            top = cur.fetchone()[0] or 0
            cur.execute(_UNSEALED)
            unsealed = cur.fetchone()[0]
            # The stored text can be hashed as it is only if the column's type vouches for it.
            cur.execute("SELECT format_type(atttypid, atttypmod) = 'json' FROM pg_attribute "
                        "WHERE attrelid = 'call_events'::regclass AND attname = 'data'")
            valid_json = bool(cur.fetchone()[0])
        if workers <= 1 or top < PARALLEL_MIN_EVENTS:
            segments = [_walk_pg(raw, None, None, valid_json)]
        else:
            bounds = _ranges(top, workers * RANGES_PER_WORKER)
            n = len(bounds)
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                segments = list(pool.map(_walk_range, [url] * n, [snapshot] * n, *zip(*bounds, strict=True),
                                         [valid_json] * n))
        conn.rollback()
    return replace(combine(segments, tuple(head) if head else None), unsealed=unsealed)


def _ranges(top: int, parts: int) -> list[tuple[int | None, int | None]]:
    """`seq` ranges `(lo, hi]` covering everything: the first open below, the last above."""
    step = -(-top // parts)
    cuts = list(range(step, top, step))
    lows = [None, *cuts]
    highs = [*cuts, None]
    return list(zip(lows, highs, strict=True))


def _walk_pg(raw, lo: int | None, hi: int | None, valid_json: bool):
    """Check one range over a psycopg connection, streaming through a server-side cursor."""
    bounds = [f"seq {op} {int(v)}" for op, v in ((">", lo), ("<=", hi)) if v is not None]
    where = " AND ".join(["seq IS NOT NULL", *bounds])  # unsealed events are not in the chain yet
    query = f"SELECT {_PG_COLUMNS} FROM call_events WHERE {where} ORDER BY seq"  # noqa: S608
    with raw.cursor(name="calllog_verify") as cur:
        cur.itersize = FETCH_ROWS
        cur.execute(query)
        first = lo is None
        return check_rows(cur, prev=GENESIS if first else None, expected=1 if first else None,
                          valid_json=valid_json)


def _walk_range(url: str, snapshot: str, lo: int | None, hi: int | None, valid_json: bool):
    """A worker process: one range, read in the coordinator's snapshot."""
    import psycopg

    with psycopg.connect(url) as raw:
        raw.isolation_level, raw.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
        raw.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # the transaction's first statement
        segment = _walk_pg(raw, lo, hi, valid_json)
        raw.rollback()
    return segment


def _scan_sqlite() -> ChainReport:
    """SQLite: one read transaction on the session's own connection (an in-memory
    database has no other)."""
    raw = db.session.connection().connection.driver_connection
    began = not raw.in_transaction
    if began:
        raw.execute("BEGIN")
    try:
        head = raw.execute(_HEAD).fetchone()
        unsealed = raw.execute(_UNSEALED).fetchone()[0]
        rows = raw.execute(
            f"SELECT {_SQLITE_COLUMNS} FROM call_events WHERE seq IS NOT NULL ORDER BY seq")  # noqa: S608
        segment = check_rows(rows, prev=GENESIS, expected=1)
    finally:
        if began:
            raw.rollback()
    return replace(combine([segment], tuple(head) if head else None), unsealed=unsealed)


# --- the kept results --------------------------------------------------------

def run_verification(workers: int | None = None,
                     kept: list[ChainCheckpoint] | None = None) -> ChainVerification:
    """Seal what is committed, verify the chain (and against `kept`, checkpoints of an earlier
    export) and keep the outcome (flushed; the caller commits)."""
    started = time.perf_counter()
    seal_pending()
    report = checkpoints.check_export(verify(workers=workers), kept or [])
    result = ChainVerification(ok=report.ok, events=report.events, broken_at=report.broken_at,
                               reason=report.reason, seconds=round(time.perf_counter() - started, 3))
    db.session.add(result)
    db.session.flush()
    return result


def last_result() -> ChainVerification | None:
    """The most recent verification outcome, or None if the chain was never verified."""
    query = select(ChainVerification).order_by(ChainVerification.ran_at.desc(), ChainVerification.id.desc())
    return db.session.scalars(query.limit(1)).first()


def verify_call_log(app: Flask) -> str:
    """The daily job: verify, keep the outcome, and say it in a line for the log."""
    result = run_verification()
    if result.ok:
        return f"intact, {result.events} events in {result.seconds:.1f} s"
    current_app.logger.error("call log verification FAILED at event %s: %s", result.broken_at, result.reason)
    return f"BROKEN at event {result.broken_at}: {result.reason}"


def _as_row(event: CallEvent) -> tuple:
    recorded = as_utc(event.recorded_at).isoformat(timespec="microseconds")
    return (event.seq, event.call_sid, event.kind, event.source, event.data, event.dedupe_key, recorded,
            event.digest, event.redacted_at is not None, event.prev_hash, event.hash)


def verify(events: Iterable[CallEvent] | None = None, head: ChainHead | None = None,
           workers: int | None = None) -> ChainReport:
    """Walk the sealed chain in `seq` order; report the first broken link, if any,
    and how many events wait to be sealed.

    With no `events`, the whole stored chain is read in one consistent
    snapshot (see `scan`), in `workers` processes on PostgreSQL, and checked
    against every signed checkpoint (`checkpoints.check`): a cut tail shows.
    """
    if events is None and head is None:
        up_to = checkpoints.latest_id()  # before the scan: see `checkpoints.latest_id`
        return checkpoints.check(scan(workers=workers), up_to)
    if events is None:
        events = db.session.scalars(
            select(CallEvent).where(CallEvent.seq.is_not(None)).order_by(CallEvent.seq)
            .execution_options(yield_per=5000))
    segment = check_rows((_as_row(e) for e in events), prev=GENESIS, expected=1)
    head = head or db.session.get(ChainHead, 1)
    return combine([segment], (head.seq, head.hash) if head is not None else None)
