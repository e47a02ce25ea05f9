"""`python -m bench dispatch [--requests N] [--quick] [--keep]`: callbacks falling due together.

10,000 callback requests fall due in the same minute on PostgreSQL; two
scheduler processes (`flask --app wsgi scheduler run`, the real APScheduler
job every 2 s, `OUTBOUND_CPS=0`) place them through the Twilio simulator.
Measured: time from a request's `due_at` to its `Calls.json` create
arriving at the simulator (p50, p99), calls placed per second, calls placed
before they were due, duplicates and lost requests.

- The simulator runs in this process (`bench.harness.simulator`), recording
  each `Calls.json` create as it arrives.
- The simulator's status callbacks go to a stub server
  (`bench.harness.webhook_stub`), not to the app. With the stub the app never
  hears a call's outcome, so no retry is planned and each request is called
  exactly once in the run.
- Data goes in as `bench.scenarios.dispatch_data` describes; this server runs
  with `autovacuum = off`, so a thread stands in for it
  (`bench.harness.statistics`), else plans made on the empty tables of the
  start decide the result.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import ROOT, cli, database, servers, simulator
from bench.harness.app import admin_url, app_settings, child_environment, make_app
from bench.harness.machine import Meter, loop_ms
from bench.harness.processes import spawn, stop
from bench.harness.statistics import keep_statistics
from bench.harness.tables import Row, publish
from bench.harness.timing import stderr_log
from bench.scenarios import dispatch_data, dispatch_outcome

TABLES = ("callback_requests", "callback_attempts", "bindings", "proxy_numbers")
log = stderr_log("dispatch")


@dataclass(frozen=True)
class Options:
    requests: int = 10_000
    spread: float = 60.0  # seconds over which the requests fall due
    lead: float = 3.0  # seconds from the schedulers being up to the first due_at
    schedulers: int = 2
    time_limit: float = 300.0  # seconds after the last due_at before giving up
    ring: float = 0.5  # simulated seconds a merchant rings before "busy"
    keep: bool = False
    admin_url: str = ""
    db_name: str = "registry_bench_dispatch"
    log_dir: Path = ROOT / "test-artifacts" / "bench-dispatch"

    def quick(self) -> Options:
        return replace(self, requests=2_000, spread=20.0, time_limit=60.0)


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, help="callback requests due (default 10,000)")
    parser.add_argument("--spread", type=float, help="seconds over which they fall due (default 60)")
    parser.add_argument("--quick", action="store_true", help="2,000 requests due over 20 s")
    parser.add_argument("--schedulers", type=int, help="scheduler processes (default 2)")
    parser.add_argument("--time-limit", type=float, help="seconds after the last due_at before the "
                        "schedulers are stopped anyway (default 300)")
    parser.add_argument("--log-dir", type=Path, help="where scheduler logs go "
                        "(default test-artifacts/bench-dispatch)")
    cli.database_arguments(parser, "$BENCH_DISPATCH_DB or registry_bench_dispatch")
    args = parser.parse_args(argv)
    options = Options(admin_url=admin_url(), db_name=os.environ.get("BENCH_DISPATCH_DB") or Options.db_name)
    if args.quick:
        options = options.quick()
    options = cli.replace_given(
        options, keep=args.keep, requests=args.requests, spread=args.spread, schedulers=args.schedulers,
        time_limit=args.time_limit, db_name=args.db_name, admin_url=args.admin_url, log_dir=args.log_dir)
    if options.requests < 1 or options.schedulers < 1 or options.spread <= 0:
        parser.error("--requests and --schedulers must be at least 1, --spread above 0")
    cli.check_database_name(parser, options.admin_url, options.db_name)
    if database.is_sqlite(options.admin_url):
        parser.error("the dispatch benchmark runs on PostgreSQL only")
    return options


def start_schedulers(stack: ExitStack, options: Options, env: dict[str, str]) -> list:
    """`flask scheduler run` processes, each logging to its own file; returned once all run."""
    options.log_dir.mkdir(parents=True, exist_ok=True)
    started = []
    for n in range(options.schedulers):
        log_file = stack.enter_context(open(options.log_dir / f"scheduler-{n + 1}.log", "w+b"))
        proc = spawn([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
                     env=child_environment(env), log=log_file)
        stack.callback(stop, proc, 30.0)
        started.append((proc, Path(log_file.name)))
    deadline = time.monotonic() + 60
    for proc, path in started:
        while b"scheduler: running" not in path.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"a scheduler did not start; see {path}")
            time.sleep(0.1)
    return [proc for proc, _ in started]


def wait_for_placement(options: Options, recorder, procs, first_due: datetime) -> bool:
    """Wait until every request reached the simulator; True if the time limit ended the wait."""
    deadline = first_due.timestamp() + options.spread + options.time_limit
    last_report = 0.0
    while recorder.placed() < options.requests:
        now = time.time()
        if now > deadline:
            log(f"time limit: {recorder.placed():,} of {options.requests:,} placed")
            return True
        if any(proc.poll() is not None for proc in procs):
            raise RuntimeError(f"a scheduler exited early; see {options.log_dir}")
        if now - last_report >= 10:
            log(f"{recorder.placed():,} placed")
            last_report = now
        time.sleep(0.2)
    log(f"all {options.requests:,} placed, "
        f"{time.time() - first_due.timestamp():.1f} s after the first due_at")
    return False


def _scheduler_cpu(meter: Meter, schedulers: int) -> dict:
    """The meter's CPU seconds as the table splits them: schedulers (and each), simulator+stub
    (this process and the rest), PostgreSQL."""
    each = [meter.cpu_seconds.get(f"scheduler-{n}", 0.0) for n in range(schedulers)]
    return {"schedulers": sum(each), "each": each, "simulator": meter.cpu_seconds.get("rest", 0.0),
            "postgres": meter.cpu_seconds.get("postgres", 0.0)}


def run_with(options: Options) -> list[Row]:
    """Run the benchmark; return the table rows (see `dispatch_outcome.rows`)."""
    from registry.core.config import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, SIMULATOR_VERIFY_SERVICE_SID

    shape = dispatch_data.Shape.for_requests(options.requests)
    log(f"{shape.requests:,} requests, {shape.merchants} stores, {shape.proxies} proxy numbers, "
        f"database {options.db_name}")
    url = database.create_database(options.admin_url, options.db_name)
    try:
        with ExitStack() as stack:
            sim_url, state, recorder = stack.enter_context(simulator.serve(
                SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, SIMULATOR_VERIFY_SERVICE_SID))
            stub_url, _ = stack.enter_context(servers.webhook_stub())
            env = app_settings(url, stub_url, sim_url, account_sid=SIMULATOR_ACCOUNT_SID,
                               auth_token=SIMULATOR_AUTH_TOKEN, OUTBOUND_CPS="0",  # the throttle off
                               # Calls at any hour, so the run does not depend on the time of day.
                               SHOPPER_CALL_HOURS="00:00-24:00", RECORD_CALLS="false")
            app = make_app(env)
            started = time.monotonic()
            dispatch_data.seed(app, shape, state, options.ring)
            log(f"seeded in {time.monotonic() - started:.1f} s; starting {options.schedulers} schedulers")
            speed = loop_ms()
            procs = start_schedulers(stack, options, env)
            keeper = stack.enter_context(keep_statistics(url, TABLES, vacuum=True))
            load = os.getloadavg()[0]
            meter = Meter(url)
            for n, proc in enumerate(procs):
                meter.track(f"scheduler-{n}", proc.pid)
            meter.start()
            first_due = dispatch_data.add_requests(app, shape, options.lead, options.spread)
            log(f"due from {first_due:%H:%M:%S} for {options.spread:g} s")
            stopped_early = wait_for_placement(options, recorder, procs, first_due)
            meter.stop()
            for proc in procs:
                stop(proc, 30.0)
            try:  # let the last calls end and their callbacks go out (no longer measured)
                state.wait_idle(timeout=30)
            except TimeoutError as exc:
                log(f"simulator not idle: {str(exc)[:200]}")
            outcome = dispatch_outcome.collect(app, recorder, state, stopped_early,
                                               _scheduler_cpu(meter, len(procs)), load, speed,
                                               keeper.runs if keeper.active else None)
            log(f"statuses after the run: {dict(outcome.statuses)}")
    finally:
        if options.keep:
            log(f"kept database {options.db_name}")
        else:
            database.drop_database(options.admin_url, options.db_name)
    return dispatch_outcome.rows(outcome, options.requests, options.spread, options.schedulers)


def run(argv: list[str] | None = None) -> list[Row]:
    """Parse `argv`, run the benchmark; return the table rows."""
    return run_with(parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    rows = run(argv)
    publish(rows, [f"Callback dispatch benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"])
    return 0
