"""`python -m bench multihost [--quick] [--duration S] [--instances-workers W] ...`: routing
throughput with 1 and 2 web instances side by side (issue 17).

One database loaded as the masked-number benchmark loads it (`masked_data`, by default 50,000
bindings), then the inbound-call webhook (`/webhooks/twilio/voice/incoming`) is loaded through one
gunicorn instance, then through two (each with the same workers; the client threads share
themselves between the two, as a round-robin load balancer would). Reported: requests/s of each,
the ratio (goal: 2 >= 1.8 x 1, which needs the second instance on CPUs of its own), and the CPU
ms per routed call (the web instances' processes, PostgreSQL, the load clients).

Each instance has half this machine's cores in workers (at least one), as if on a host of its
own: with as many workers as cores, one instance alone would already keep every core busy and the
second could add nothing, whatever the product does. PostgreSQL and the load clients still share
the machine with both, so the ratio here is a floor of what two hosts give.
"""

from __future__ import annotations

import argparse
import os
import platform
import traceback
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bench.harness import cli, database, load, servers
from bench.harness.app import ACCOUNT_SID, AUTH_TOKEN, app_settings, child_environment
from bench.harness.machine import Meter, busy_cell, note_other_work
from bench.harness.tables import Row, git_revision, number, publish
from bench.harness.timing import stderr_log
from bench.scenarios import masked_data
from bench.scenarios.masked_numbers import Settings
from bench.scenarios.routing import WEBHOOK

GOAL = 1.8


@dataclass
class Run:
    instances: int
    load: load.LoadResult
    cpu_seconds: dict[str, float]
    busy: float | None
    others: float | None

    def cpu_ms(self, part: str) -> float | None:
        if not self.cpu_seconds or not self.load.completed:
            return None
        seconds = sum(v for k, v in self.cpu_seconds.items() if k.startswith(part))
        return seconds * 1000 / self.load.completed


def serve(settings: Settings, url: str, callers, instances: int, log) -> Run:
    twilio_port = servers.free_port()  # nothing listens there: routing must not call Twilio

    def app_env(port: int) -> dict[str, str]:
        return child_environment(app_settings(url, f"http://127.0.0.1:{port}",
                                              f"http://127.0.0.1:{twilio_port}"))

    meter = Meter(url)
    with ExitStack() as stack:
        ports = []
        for n in range(instances):
            log_path = settings.log_dir / f"bench-multihost-{instances}-{n}.log"
            port, pid = stack.enter_context(servers.gunicorn("wsgi:app", app_env, settings.gunicorn_workers,
                                                             log_path))
            meter.track(f"server-{n}", pid)
            ports.append(port)
        result = load.run(load.LoadSpec(
            port=ports[0], ports=tuple(ports), path=WEBHOOK, pairs=callers, expect=b"<Dial",
            auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, concurrency=settings.concurrency * instances,
            processes=settings.client_processes, warmup=settings.warmup, duration=settings.duration,
            max_requests=settings.max_requests * instances), meter)
    log(f"multihost: {instances} instance(s) {result.rps:,.0f} req/s, p99 {result.percentile(0.99):.1f} ms, "
        f"{result.errors} errors")
    return Run(instances, result, meter.cpu_seconds, meter.busy, meter.others)


def _cpu(run: Run) -> str:
    parts = [run.cpu_ms(part) for part in ("server", "postgres", "rest")]
    return "n/a" if None in parts else " / ".join(number(p, 2) for p in parts)


def rows(one: Run, two: Run) -> list[Row]:
    ratio = two.load.rps / one.load.rps if one.load.rps else 0.0
    table = []
    for run in (one, two):
        name = f"{run.instances} web instance{'s' if run.instances > 1 else ''}"
        table += [
            Row(f"routing, {name}: requests/s", number(run.load.rps)),
            Row(f"routing, {name}: p99 latency (ms)", number(run.load.percentile(0.99), 1)),
            Row(f"routing, {name}: wrong answers or errors", number(run.load.errors), "0",
                run.load.errors == 0),
            Row(f"routing, {name}: CPU ms/routed call: web / PostgreSQL / load", _cpu(run)),
            Row(f"routing, {name}: machine busy (other work)", busy_cell(run.busy, run.others)),
        ]
    table.append(Row("routing: 2 instances / 1 instance requests/s", number(ratio, 2), f">= {GOAL:g}",
                     ratio >= GOAL))
    return table


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench multihost", description=__doc__.splitlines()[0])
    parser.add_argument("--bindings", type=int, help="active bindings to load (default 50,000)")
    parser.add_argument("--quick", action="store_true", help="20,000 bindings, 3 s of load per measure")
    parser.add_argument("--duration", type=float, help="seconds of measured load per measure (default 6)")
    parser.add_argument("--workers", type=int,
                        help="gunicorn workers per instance (default half the cores, at least 1)")
    parser.add_argument("--output", help="where the table is written too "
                        "(default test-artifacts/bench-multihost.txt)")
    cli.database_arguments(parser, "$BENCH_DB_NAME_multihost or registry_bench_multihost")
    args = parser.parse_args(argv)
    base = Settings()
    settings = replace(base, bindings=50_000, db_name=f"{base.db_name}_multihost",
                       output=base.log_dir / "bench-multihost.txt",
                       gunicorn_workers=max(1, (os.cpu_count() or 2) // 2))
    if args.quick:
        settings = replace(settings, bindings=20_000, duration=3.0)
    settings = cli.replace_given(settings, keep=args.keep, bindings=args.bindings, duration=args.duration,
                                 gunicorn_workers=args.workers, db_name=args.db_name,
                                 admin_url=args.admin_url,
                                 output=None if args.output is None else type(base.output)(args.output))
    cli.check_database_name(parser, settings.admin_url, settings.db_name)
    return settings


def run(settings: Settings, log) -> tuple[list[str], list[Row]]:
    notes: list[str] = []
    try:
        setup = masked_data.build(settings, log)
        version = database.server_version(setup.url)
        one = serve(settings, setup.url, setup.callers, 1, log)
        two = serve(settings, setup.url, setup.callers, 2, log)
    finally:
        if not settings.keep:
            database.drop_database(settings.admin_url, settings.db_name)
    note_other_work(notes, "the 1-instance load", one.others)
    note_other_work(notes, "the 2-instance load", two.others)
    notes.append(f"both instances share this machine's {os.cpu_count()} cores with PostgreSQL and the load "
                 f"clients, each with half of them in workers: the {GOAL:g} x goal is for instances on "
                 "hosts of their own, which this approaches from below")
    header = [f"Multi-host routing benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
              f"commit {git_revision()}",
              f"{os.cpu_count()} cores, Python {platform.python_version()}, database {version}; "
              f"{settings.bindings:,} bindings; each instance gunicorn -w {settings.gunicorn_workers} "
              "(sync); "
              f"load: {settings.concurrency} concurrent per instance, {settings.warmup:g} s warm-up + "
              f"{settings.duration:g} s measured"]
    return header + [f"note: {n}" for n in notes] + [""], rows(one, two)


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    log = stderr_log()
    cli.stop_on_term()
    try:
        header, table = run(settings, log)
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    except Exception:
        traceback.print_exc()
        log("the benchmark could not complete")
        return 1
    publish(table, header, settings.output)
    log(f"table written to {settings.output}")
    return 0
