"""One benchmark run: set up, measure routing, allocation and the pool, report, clean up."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from bench import allocation, pool, routing, setup_db
from bench.autoanalyze import keep_statistics
from bench.machine import Meter, loop_ms
from bench.report import Row, number
from bench.settings import ROOT, Settings

Log = Callable[[str], None]

ROUTING_P99_MS = 20.0
ROUTING_RATIO = 0.5
ALLOCATIONS_PER_S = 1000.0
POOL_RATIO = 1.1


def stderr_log() -> Log:
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    return log


def _git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,  # noqa: S607
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,  # noqa: S607
                               text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" (uncommitted changes)" if dirty else "")


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _busy(busy: float | None, others: float | None) -> str:
    """How busy the machine was, and (in brackets) other work's part of it."""
    return f"{_share(busy)} ({_share(others)})"


def _note_others(notes: list[str], measure: str, share: float | None) -> None:
    """The machine is shared: say so beside the figures if other work took a real part of it."""
    if share is not None and share > 0.10:
        notes.append(f"other work took {share:.0%} of the machine's CPU during {measure}; "
                     "its figures are lower than on a quiet machine")


def header(settings: Settings, server_version: str, notes: list[str],
           speed: tuple[float, float] | None = None) -> list[str]:
    lines = [
        f"Masked-number benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_git_revision()}",
        f"{os.cpu_count()} cores, Python {platform.python_version()}, database {server_version}; "
        f"gunicorn -w {settings.gunicorn_workers} (sync); load: {settings.concurrency} concurrent "
        f"({settings.client_processes} processes), {settings.warmup:g} s warm-up + "
        f"{settings.duration:g} s measured per server",
    ]
    if speed:
        lines.append(f"machine speed: a fixed Python loop took {speed[0]:.0f} ms of CPU before the measures, "
                     f"{speed[1]:.0f} ms after (lower is faster; it moves with the host's load)")
    return lines + [f"note: {note}" for note in notes] + [""]


def _checks(url: str, fn):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def _server_version(url: str) -> str:
    def version(conn) -> str:
        if conn.dialect.name == "postgresql":
            return "PostgreSQL " + conn.scalar(text("SHOW server_version"))
        return "SQLite " + conn.scalar(text("SELECT sqlite_version()"))

    return _checks(url, version)


def _chain_report(url: str):
    """The chain after the load, sealed first (as the scheduler's job would have)."""
    from registry.calllog.chain import seal_pending
    from registry.calllog.verification import verify
    from registry.core.extensions import db

    app = setup_db.make_app(url)
    with app.app_context():
        try:
            seal_pending()
            return verify()
        finally:
            db.session.remove()
            db.engine.dispose()


def setup_rows(setup: setup_db.Setup) -> list[Row]:
    return [
        Row("setup: active bindings", number(setup.bindings)),
        Row("setup: proxy numbers / merchants", f"{setup.proxies:,} / {setup.merchants:,}"),
        Row("setup: counters equal active rows", f"{setup.counter_mismatches} off", "0 off",
            setup.counter_mismatches == 0),
        Row("setup: time (s)", number(setup.seconds, 1)),
    ]


CPU_PARTS = ("server", "postgres", "rest")


def _cpu_per_request(served: routing.Served) -> str:
    """"server / PostgreSQL / load clients" CPU ms per request."""
    parts = [served.cpu_ms_per_request(part) for part in CPU_PARTS]
    return "n/a" if None in parts else " / ".join(number(p, 2) for p in parts)


def _cpu_ratio(result: routing.RoutingResult) -> str:
    """How many times the trivial app's CPU per request (all its processes) routing takes."""
    r, t = (sum(s.cpu_ms_per_request(p) or 0.0 for p in CPU_PARTS) for s in (result.routing, result.trivial))
    return f"{r / t:.1f} x" if r and t else "n/a"


def routing_rows(result: routing.RoutingResult, chain) -> list[Row]:
    r, t = result.routing.load, result.trivial.load
    rows = [
        Row("routing: requests/s", number(r.rps)),
        Row("routing: p50 latency (ms)", number(r.percentile(0.5), 1)),
        Row("routing: p99 latency (ms)", number(r.percentile(0.99), 1), f"<= {ROUTING_P99_MS:g}",
            r.percentile(0.99) <= ROUTING_P99_MS),
        Row("routing: wrong answers or errors", number(r.errors), "0", r.errors == 0),
        Row("trivial app: requests/s", number(t.rps)),
        Row("trivial app: p50 latency (ms)", number(t.percentile(0.5), 1)),
        Row("trivial app: p99 latency (ms)", number(t.percentile(0.99), 1)),
        Row("trivial app: wrong answers or errors", number(t.errors), "0", t.errors == 0),
        Row("routing / trivial requests/s", number(result.ratio, 2), f">= {ROUTING_RATIO:.2f}",
            result.ratio >= ROUTING_RATIO),
        Row("trivial app: CPU ms/request: server / PostgreSQL / load", _cpu_per_request(result.trivial)),
        Row("routing: CPU ms/request: server / PostgreSQL / load", _cpu_per_request(result.routing)),
        Row("routing / trivial CPU per request, all processes", _cpu_ratio(result)),
        Row("trivial app: machine busy (other work)", _busy(result.trivial.busy, result.trivial.others)),
        Row("routing: machine busy (other work)", _busy(result.routing.busy, result.routing.others)),
        Row("call log: hash chain after the load", f"{'ok' if chain.ok else 'BROKEN'}, "
            f"{chain.events:,} events", "ok", chain.ok),
    ]
    if r.exhausted or t.exhausted:
        rows.append(Row("load: a client ran out of requests", "yes", "no", False))
    return rows


def _cpu_per_binding(result: allocation.AllocationResult, meter: Meter | None) -> str:
    """"workers / PostgreSQL" CPU ms per binding allocated."""
    if meter is None or not meter.cpu_seconds or not result.allocated:
        return "n/a"
    return " / ".join(number(meter.cpu_seconds[part] * 1000 / result.allocated, 2)
                      for part in ("rest", "postgres"))


def allocation_rows(result: allocation.AllocationResult, requested: int, workers: int,
                    violations: int, mismatches: int, meter: Meter | None = None) -> list[Row]:
    return [
        Row(f"allocation: bindings/s ({workers} processes)", number(result.rate),
            f">= {ALLOCATIONS_PER_S:,.0f}", result.rate >= ALLOCATIONS_PER_S),
        Row("allocation: allocated / asked", f"{result.allocated:,} / {requested:,}", "all",
            result.allocated == requested),
        Row("allocation: errors / pool exhausted", f"{result.errors} / {result.exhausted}", "0 / 0",
            result.errors == 0 and result.exhausted == 0),
        Row("allocation: masking violations", number(violations), "0", violations == 0),
        Row("allocation: counters off", number(mismatches), "0", mismatches == 0),
        Row("allocation: CPU ms/binding: workers / PostgreSQL", _cpu_per_binding(result, meter)),
        Row("allocation: machine busy (other work)", _busy(meter and meter.busy, meter and meter.others)),
    ]


def pool_rows(sequential: pool.PoolResult, concurrent: pool.PoolResult, workers: int) -> list[Row]:
    rows = [Row("pool: bindings (busiest party's partners)",
                f"{sequential.bindings:,} ({sequential.busiest_degree})")]
    for label, result in (("1 process", sequential), (f"{workers} processes", concurrent)):
        rows += [
            Row(f"pool ({label}): numbers used / lower bound",
                f"{result.numbers_used:,} / {result.lower_bound:,}"),
            Row(f"pool ({label}): used / lower bound", number(result.ratio, 3), f"<= {POOL_RATIO:g}",
                result.ratio <= POOL_RATIO),
            Row(f"pool ({label}): errors, exhausted, violations",
                f"{result.errors}, {result.exhausted}, {result.violations + result.counter_mismatches}",
                "0, 0, 0", result.errors == result.exhausted == result.violations
                == result.counter_mismatches == 0),
        ]
    return rows


def _allocation(settings: Settings, setup: setup_db.Setup, log: Log, notes: list[str],
                analyzes: list[str]) -> list[Row]:
    work = allocation.new_pairs(settings.alloc_workers, settings.alloc_per_worker, setup.merchants)
    log(f"allocation: {settings.alloc_workers} processes x {settings.alloc_per_worker:,} new pairs")
    meter = Meter(setup.url)
    with keep_statistics(setup.url) as keeper:
        allocated = allocation.run(setup.url, work, meter)
    if keeper.active:
        analyzes.append(f"{keeper.analyzes} during the allocations"
                        + (f" (stopped: {keeper.error})" if keeper.error else ""))
    violations, mismatches = _checks(setup.url, lambda conn: (
        setup_db.masking_violations(conn), setup_db.counter_mismatches(conn, setup_db.DEFAULT_CAP)))
    log(f"allocation: {allocated.rate:,.0f} bindings/s, {allocated.errors} errors, "
        f"{violations} violations")
    _note_others(notes, "the allocations", meter.others)
    return allocation_rows(allocated, sum(map(len, work)), settings.alloc_workers, violations,
                           mismatches, meter)


def run(settings: Settings, log: Log | None = None) -> tuple[list[str], list[Row]]:
    """Run the measures in `settings.only`; returns the table's header lines and rows.

    Targets missed show as FAIL rows; only a failure to measure raises. The
    databases are dropped at the end (also on errors) unless `settings.keep`.
    """
    log = log or stderr_log()
    rows: list[Row] = []
    notes: list[str] = []
    analyzes: list[str] = []  # ANALYZEs standing in for autovacuum, where it is off
    speed_before = loop_ms()
    server_version = "unknown"
    made: list[str] = []  # databases this run (re)created: only those are dropped
    try:
        # The loaded database serves routing and allocation; the pool measure has its own.
        if "routing" in settings.only or "allocation" in settings.only:
            made.append(settings.db_name)
            setup = setup_db.build(settings, log)
            rows += setup_rows(setup)
            server_version = _server_version(setup.url)

        if "routing" in settings.only:
            result = routing.measure(settings, setup.url, setup.callers, log)
            rows += routing_rows(result, _chain_report(setup.url))
            _note_others(notes, "the trivial app's load", result.trivial.others)
            _note_others(notes, "the routing load", result.routing.others)

        if "allocation" in settings.only:
            rows += _allocation(settings, setup, log, notes, analyzes)

        if "pool" in settings.only:
            made.append(settings.pool_db_name)
            sequential, concurrent = pool.measure(settings, log, analyzes)
            rows += pool_rows(sequential, concurrent, settings.pool_workers)
            if server_version == "unknown":
                server_version = _server_version(setup_db.database_url(settings.admin_url,
                                                                       settings.pool_db_name))
    finally:
        if not settings.keep:
            for name in made:
                try:
                    setup_db.drop_database(settings.admin_url, name)
                except Exception as exc:  # cleanup must not hide the original error
                    log(f"could not drop {name}: {exc}")
    if analyzes:
        notes.append("autovacuum is off on this server, so the benchmark ran ANALYZE where autovacuum "
                     "would have (50 + 10% of a table's rows changed): " + ", ".join(analyzes))
    return header(settings, server_version, notes, (speed_before, loop_ms())), rows

