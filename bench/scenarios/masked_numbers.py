"""`python -m bench [--quick] [--only M] [--db-name N] ...`: the masked-number benchmark.

Set up a database with a million active bindings, then measure routing
(`bench.scenarios.routing`), allocation (`.allocation`) and the pool
(`.pool`); print the table (and write it to --output), drop the databases.
Exits 0 when every measure was taken (missed targets show as FAIL in the
table), 1 when a measure could not be taken, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import platform
import traceback
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import ROOT, cli, database
from bench.harness.app import admin_url
from bench.harness.machine import loop_ms, note_other_work
from bench.harness.tables import Row, git_revision, publish
from bench.harness.timing import Log, stderr_log
from bench.scenarios import allocation, masked_data, pool, routing

MEASURES = ("routing", "allocation", "pool")


@dataclass(frozen=True)
class PoolShape:
    """The synthetic marketplace the pool-efficiency measure allocates."""

    big_merchants: int = 5
    big_shoppers: tuple[int, int] = (300, 600)
    small_merchants: int = 200
    small_shoppers: tuple[int, int] = (1, 20)
    # Share of merchant-shopper slots filled by a shopper who already talks
    # to another merchant (each shopper has at most `max_merchants`).
    repeat_share: float = 0.15
    max_merchants: int = 3
    numbers: int = 1000
    cap: int = 200
    seed: int = 20240611


@dataclass(frozen=True)
class Settings:
    bindings: int = 1_000_000
    shoppers_per_merchant: int = 1000
    filler_proxies: int = 5000
    spare_proxies: int = 1000
    # Bindings made through `allocate()` with real numbers: the routing load's callers.
    real_bindings: int = 400

    gunicorn_workers: int = 2
    concurrency: int = 8
    client_processes: int = 2
    warmup: float = 1.0
    duration: float = 6.0
    max_requests: int = 60_000  # per measurement, across all client threads

    alloc_workers: int = 8
    alloc_per_worker: int = 1000

    pool: PoolShape = field(default_factory=PoolShape)
    pool_workers: int = 8

    admin_url: str = field(default_factory=admin_url)
    # BENCH_DB_NAME lets several people share one server without dropping each other's database.
    db_name: str = field(default_factory=lambda: os.environ.get("BENCH_DB_NAME", "registry_bench"))
    # Which measures run (setup always does): any of MEASURES.
    only: tuple[str, ...] = MEASURES
    keep: bool = False
    output: Path = ROOT / "test-artifacts" / "bench.txt"
    log_dir: Path = ROOT / "test-artifacts"

    @property
    def pool_db_name(self) -> str:
        return f"{self.db_name}_pool"

    def quick(self) -> Settings:
        return replace(self, bindings=20_000, duration=3.0, alloc_per_worker=250)

    @classmethod
    def smoke(cls, admin_url: str, workdir: Path, db_name: str = "registry_bench_smoke") -> Settings:
        """Every code path at a tiny scale, for the test suite."""
        return cls(
            bindings=2000, filler_proxies=1000, spare_proxies=100, real_bindings=40,
            concurrency=4, client_processes=1, warmup=0.3, duration=1.0, max_requests=5000,
            alloc_workers=2, alloc_per_worker=25,
            pool=PoolShape(big_merchants=2, big_shoppers=(30, 60), small_merchants=20,
                           small_shoppers=(1, 5), numbers=100),
            pool_workers=2, admin_url=admin_url, db_name=db_name,
            output=workdir / "bench.txt", log_dir=workdir,
        )


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--bindings", type=int, help="active bindings to load (default 1,000,000)")
    parser.add_argument("--quick", action="store_true",
                        help="20,000 bindings, shorter load and fewer allocations")
    parser.add_argument("--duration", type=float, help="seconds of measured load per server (default 6)")
    parser.add_argument("--output", type=Path, help="where the table is written too "
                        "(default test-artifacts/bench.txt)")
    parser.add_argument("--only", choices=MEASURES, action="append",
                        help="run only this measure (repeatable; default: all of them)")
    cli.database_arguments(parser, "$BENCH_DB_NAME or registry_bench; the pool measure uses NAME_pool")
    args = parser.parse_args(argv)
    settings = Settings().quick() if args.quick else Settings()
    settings = cli.replace_given(
        settings, keep=args.keep, bindings=args.bindings, duration=args.duration, output=args.output,
        db_name=args.db_name, admin_url=args.admin_url,
        only=tuple(m for m in MEASURES if m in args.only) if args.only else None)
    if settings.bindings < 1:
        parser.error("--bindings must be at least 1")
    cli.check_database_name(parser, settings.admin_url, settings.pool_db_name)
    return settings


def header(settings: Settings, server_version: str, notes: list[str],
           speed: tuple[float, float] | None = None) -> list[str]:
    lines = [
        f"Masked-number benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {git_revision()}",
        f"{os.cpu_count()} cores, Python {platform.python_version()}, database {server_version}; "
        f"gunicorn -w {settings.gunicorn_workers} (sync); load: {settings.concurrency} concurrent "
        f"({settings.client_processes} processes), {settings.warmup:g} s warm-up + "
        f"{settings.duration:g} s measured per server",
    ]
    if speed:
        lines.append(f"machine speed: a fixed Python loop took {speed[0]:.0f} ms of CPU before the measures, "
                     f"{speed[1]:.0f} ms after (lower is faster; it moves with the host's load)")
    return lines + [f"note: {note}" for note in notes] + [""]


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
            setup = masked_data.build(settings, log)
            rows += masked_data.setup_rows(setup)
            server_version = database.server_version(setup.url)

        if "routing" in settings.only:
            result = routing.measure(settings, setup.url, setup.callers, log)
            rows += routing.rows(result, routing.chain_report(setup.url))
            note_other_work(notes, "the trivial app's load", result.trivial.others)
            note_other_work(notes, "the routing load", result.routing.others)

        if "allocation" in settings.only:
            rows += allocation.measure(settings, setup, log, notes, analyzes)

        if "pool" in settings.only:
            made.append(settings.pool_db_name)
            sequential, concurrent = pool.measure(settings, log, analyzes)
            rows += pool.rows(sequential, concurrent, settings.pool_workers)
            if server_version == "unknown":
                server_version = database.server_version(
                    database.database_url(settings.admin_url, settings.pool_db_name))
    finally:
        if not settings.keep:
            for name in made:
                try:
                    database.drop_database(settings.admin_url, name)
                except Exception as exc:  # cleanup must not hide the original error
                    log(f"could not drop {name}: {exc}")
    if analyzes:
        notes.append("autovacuum is off on this server, so the benchmark ran ANALYZE where autovacuum "
                     "would have (50 + 10% of a table's rows changed): " + ", ".join(analyzes))
    return header(settings, server_version, notes, (speed_before, loop_ms())), rows


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    log = stderr_log()
    cli.stop_on_term()
    try:
        header_lines, rows = run(settings, log)
    except KeyboardInterrupt:
        log("interrupted; servers stopped" + ("" if settings.keep else ", databases dropped"))
        return 130
    except Exception:
        traceback.print_exc()
        log("the benchmark could not complete")
        return 1
    publish(rows, header_lines, settings.output)
    log(f"table written to {settings.output}")
    return 0
