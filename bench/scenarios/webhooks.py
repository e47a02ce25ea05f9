"""`python -m bench webhooks [--events N] [--quick] [--keep]`: outbound webhooks to a local receiver.

Two scheduler processes (`flask --app wsgi scheduler run`, the real `deliver-webhooks` job)
deliver events to one endpoint on a local receiver (a threaded HTTP/1.1 server in a child
process that answers 204 and notes each `webhook-id` and when it came), on PostgreSQL.

- Latency: events are emitted steadily (`--rate` a second for `--spread` seconds, a
  transaction every 50 ms, as the features emit them); measured from each event's
  `created_at` to its first arrival at the receiver (p50, p99).
- Throughput: then a backlog of `--events` events is committed at once; deliveries per second
  from that commit to the last of them arriving.
- Lost (an event never received) and sent twice (received more than once: there are no
  retries, every answer is 2xx), over both phases.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.harness import ROOT, cli, database
from bench.harness.app import admin_url, app_settings, make_app
from bench.harness.machine import loop_ms
from bench.harness.processes import stop
from bench.harness.tables import Row, number, publish
from bench.harness.timing import percentile, stderr_log
from bench.scenarios.dispatch import start_schedulers

log = stderr_log("webhooks")


@dataclass(frozen=True)
class Options:
    events: int = 20_000
    rate: int = 200
    spread: float = 10.0
    schedulers: int = 2
    time_limit: float = 180.0
    keep: bool = False
    admin_url: str = ""
    db_name: str = "registry_bench_webhooks"
    log_dir: Path = ROOT / "test-artifacts" / "bench-webhooks"

    def quick(self) -> Options:
        return replace(self, events=3_000, rate=100, spread=5.0, time_limit=60.0)


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="the backlog delivered for throughput (default 20,000)")
    parser.add_argument("--rate", type=int, help="events a second in the latency phase (default 200)")
    parser.add_argument("--spread", type=float, help="seconds of the latency phase (default 10)")
    parser.add_argument("--quick", action="store_true", help="3,000 events; 100/s for 5 s")
    parser.add_argument("--schedulers", type=int, help="scheduler processes (default 2)")
    parser.add_argument("--time-limit", type=float, help="seconds to wait for each phase (default 180)")
    parser.add_argument("--log-dir", type=Path, help="where scheduler logs go")
    cli.database_arguments(parser, "registry_bench_webhooks")
    args = parser.parse_args(argv)
    options = Options(admin_url=admin_url())
    if args.quick:
        options = options.quick()
    options = cli.replace_given(options, keep=args.keep, events=args.events, rate=args.rate,
                                spread=args.spread, schedulers=args.schedulers, time_limit=args.time_limit,
                                db_name=args.db_name, admin_url=args.admin_url, log_dir=args.log_dir)
    if options.events < 1 or options.rate < 1 or options.schedulers < 1:
        parser.error("--events, --rate and --schedulers must be at least 1")
    cli.check_database_name(parser, options.admin_url, options.db_name)
    if database.is_sqlite(options.admin_url):
        parser.error("the webhooks benchmark runs on PostgreSQL only")
    return options


# --- the receiver ---------------------------------------------------------------------------------


def _receive(port, count, out: str) -> None:
    """The receiver process: answer every POST 204, note (webhook-id, arrival); written to `out`
    on TERM."""
    arrivals: list[tuple[str, float]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the schedulers' sessions reuse connections

        def do_POST(self):  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                arrivals.append((self.headers.get("webhook-id", ""), time.time()))
            with count.get_lock():
                count.value += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_port
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.05)
    with lock:
        Path(out).write_text(json.dumps(arrivals))


class Receiver:
    def __init__(self, out: Path):
        ctx = multiprocessing.get_context("fork")
        self.port, self.count, self.out = ctx.Value("i", 0), ctx.Value("q", 0), out
        self.proc = ctx.Process(target=_receive, args=(self.port, self.count, str(out)), daemon=True)

    def __enter__(self) -> Receiver:
        self.proc.start()
        deadline = time.monotonic() + 10
        while not self.port.value:
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port.value}/hook"
        return self

    def arrivals(self) -> list[tuple[str, float]]:
        """Stop it; every (webhook-id, arrival time) it noted."""
        if self.proc.is_alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.join(15)
        return [tuple(pair) for pair in json.loads(self.out.read_text())] if self.out.exists() else []

    def __exit__(self, *exc) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)


# --- events ---------------------------------------------------------------------------------------


def emit_batch(app, n: int) -> None:
    """`n` events in one transaction, through `emit` as the features do."""
    from registry.core.extensions import db
    from registry.webhooks.events import emit

    with app.app_context():
        for i in range(n):
            emit("callback.completed", {"callback_id": i, "merchant_id": 1, "status": "completed"})
        db.session.commit()
        db.session.remove()


def latency_phase(app, options: Options) -> None:
    per_tick = max(1, round(options.rate * 0.05))
    ticks = int(options.spread / 0.05)
    start = time.monotonic()
    for tick in range(ticks):
        emit_batch(app, per_tick)
        delay = start + (tick + 1) * 0.05 - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def wait_for(receiver: Receiver, total: int, limit: float, procs) -> bool:
    """Until the receiver has `total` requests; False if the limit came first."""
    deadline = time.monotonic() + limit
    while receiver.count.value < total:
        if time.monotonic() > deadline:
            return False
        if any(proc.poll() is not None for proc in procs):
            raise RuntimeError("a scheduler exited early")
        time.sleep(0.05)
    return True


def created_at(app) -> dict[str, float]:
    from sqlalchemy import select

    from registry.core.extensions import db
    from registry.core.timeutil import as_utc
    from registry.webhooks.models import WebhookEvent

    with app.app_context():
        rows = db.session.execute(select(WebhookEvent.msg_id, WebhookEvent.created_at)).all()
        return {msg_id: as_utc(moment).timestamp() for msg_id, moment in rows}


def run_with(options: Options) -> list[Row]:
    url = database.create_database(options.admin_url, options.db_name)
    log(f"database {options.db_name}; {options.schedulers} schedulers")
    try:
        with ExitStack() as stack:
            receiver = stack.enter_context(Receiver(options.log_dir / "arrivals.json"))
            options.log_dir.mkdir(parents=True, exist_ok=True)
            env = app_settings(url)
            app = make_app(env)
            with app.app_context():
                from registry.core.extensions import db
                from registry.integrations.operations import create_client
                from registry.webhooks.operations import create_endpoint

                db.create_all()
                client, _ = create_client("Bench", ["webhooks"])
                create_endpoint(client.id, receiver.url, ["callback.completed"], None, app.config)
                db.session.commit()
            speed = loop_ms()
            procs = start_schedulers(stack, options, env)
            latency_events = max(1, round(options.rate * 0.05)) * int(options.spread / 0.05)
            latency_phase(app, options)
            latency_done = wait_for(receiver, latency_events, options.time_limit, procs)
            log(f"latency phase: {receiver.count.value:,} of {latency_events:,} received")
            committed = time.time()
            emit_batch(app, options.events)
            backlog_committed = time.time()
            throughput_done = wait_for(receiver, latency_events + options.events, options.time_limit, procs)
            time.sleep(1.0)  # anything sent twice arrives too
            for proc in procs:
                stop(proc, 30.0)
            arrivals = receiver.arrivals()
            created = created_at(app)
    finally:
        if options.keep:
            log(f"kept database {options.db_name}")
        else:
            database.drop_database(options.admin_url, options.db_name)
    return rows(options, arrivals, created, committed, backlog_committed, latency_events,
                latency_done and throughput_done, speed)


def rows(options: Options, arrivals, created: dict[str, float], committed: float, backlog_committed: float,
         latency_events: int, finished: bool, speed: float) -> list[Row]:
    first: dict[str, float] = {}
    seen: dict[str, int] = {}
    for msg_id, moment in arrivals:
        seen[msg_id] = seen.get(msg_id, 0) + 1
        first[msg_id] = min(first.get(msg_id, moment), moment)
    ordered = sorted(created, key=created.get)
    latency_ids, backlog_ids = ordered[:latency_events], ordered[latency_events:]
    delays = [first[m] - created[m] for m in latency_ids if m in first]
    backlog_last = max((first[m] for m in backlog_ids if m in first), default=float("nan"))
    rate = len([m for m in backlog_ids if m in first]) / (backlog_last - backlog_committed) \
        if backlog_ids and backlog_last == backlog_last else float("nan")
    lost = sum(1 for m in created if m not in first)
    twice = sum(1 for count in seen.values() if count > 1)
    return [
        Row("webhooks: events emitted", f"{len(created):,}"),
        Row("webhooks: event -> first attempt p50 (s)", number(percentile(delays, 0.5), 3)),
        Row("webhooks: event -> first attempt p99 (s)", number(percentile(delays, 0.99), 3)),
        Row(f"webhooks: deliveries per second ({options.schedulers} schedulers, backlog)", number(rate),
            ">= 1,000", rate >= 1000),
        Row(f"webhooks: backlog emitted and committed (s, {options.events:,} events)",
            number(backlog_committed - committed, 1)),
        Row("webhooks: lost", f"{lost:,}", "0", lost == 0 and finished),
        Row("webhooks: sent twice", f"{twice:,}", "0", twice == 0),
        Row("machine: fixed Python loop (ms)", number(speed, 1)),
    ]


def run(argv: list[str] | None = None) -> list[Row]:
    return run_with(parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    rows_ = run(argv)
    publish(rows_, [f"Outbound webhooks benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
