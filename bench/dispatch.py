"""`python -m bench.dispatch [--requests N] [--quick] [--keep]`: callbacks falling due together.

10,000 callback requests fall due in the same minute on PostgreSQL; two
scheduler processes (`flask --app wsgi scheduler run`, the real APScheduler
job every 2 s, `OUTBOUND_CPS=0`) place them through the Twilio simulator.
Measured: time from a request's `due_at` to its `Calls.json` create
arriving at the simulator (p50, p99), calls placed per second, calls placed
before they were due, duplicates and lost requests.

- The simulator runs in this process; a small WSGI middleware timestamps
  every `POST .../Calls.json` as it arrives and reads the attempt id from
  its `Url`, so each Twilio request is tied to its attempt and request.
- Every merchant is scripted "busy" after a short ring, so calls end quickly.
- The simulator's status callbacks go to a stub server (a subprocess that
  answers 204, or `<Hangup/>` for TwiML), not to the app: serving the app's
  webhooks (signature check, hash-chained call log, one commit each) for
  20,000 callbacks a minute would take the cores the schedulers are being
  measured on. With the stub the app never hears a call's outcome, so no
  retry is planned and each request is called exactly once in the run.
- Data goes in set-based (`INSERT ... SELECT generate_series`), except rows
  whose phone numbers must be encrypted one by one (merchant numbers,
  shoppers), which go in as one multi-row insert. The requests themselves
  are inserted once both schedulers are up, due evenly over the minute that
  starts `lead` seconds later.
- This server runs with `autovacuum = off`; a thread stands in for it
  (ANALYZE/VACUUM at autovacuum's default thresholds), else plans made on
  the empty tables of the start decide the result.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import math
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.machine import loop_ms
from bench.report import Row, number, render
from bench.settings import DATA_KEY, DEFAULT_ADMIN_URL, ROOT, SECRET_KEY
from bench.setup_db import merchant_e164, proxy_e164
from registry.config import (
    BOOL_TUNABLES,
    INT_TUNABLES,
    SIMULATOR_ACCOUNT_SID,
    SIMULATOR_AUTH_TOKEN,
    SIMULATOR_VERIFY_SERVICE_SID,
    STR_TUNABLES,
)

P99_TARGET_S = 2.0
ALWAYS_OPEN = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
REQUESTS_PER_MERCHANT = 100
LOG_DIR = ROOT / "test-artifacts" / "bench-dispatch"
FINAL = ("completed", "failed", "expired", "canceled")


@dataclass(frozen=True)
class Options:
    requests: int = 10_000
    spread: float = 60.0  # seconds over which the requests fall due
    lead: float = 3.0  # seconds from the schedulers being up to the first due_at
    schedulers: int = 2
    time_limit: float = 300.0  # seconds after the last due_at before giving up
    ring: float = 0.5  # simulated seconds a merchant rings before "busy"
    keep: bool = False
    admin_url: str = DEFAULT_ADMIN_URL
    db_name: str = "registry_bench_dispatch"
    log_dir: Path = LOG_DIR

    def quick(self) -> Options:
        return replace(self, requests=2_000, spread=20.0, time_limit=60.0)


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, help="callback requests due (default 10,000)")
    parser.add_argument("--spread", type=float, help="seconds over which they fall due (default 60)")
    parser.add_argument("--quick", action="store_true", help="2,000 requests due over 20 s")
    parser.add_argument("--schedulers", type=int, help="scheduler processes (default 2)")
    parser.add_argument("--time-limit", type=float, help="seconds after the last due_at before the "
                        "schedulers are stopped anyway (default 300)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument("--db-name", help="the database created (default $BENCH_DISPATCH_DB or "
                        "registry_bench_dispatch); give each concurrent run its own")
    parser.add_argument("--admin-url", help="a PostgreSQL URL to create databases with "
                        "(default $BENCH_DATABASE_URL or the local postgres database)")
    parser.add_argument("--log-dir", type=Path, help="where scheduler logs go "
                        "(default test-artifacts/bench-dispatch)")
    args = parser.parse_args(argv)
    options = Options(admin_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
                      db_name=os.environ.get("BENCH_DISPATCH_DB") or Options.db_name)
    if args.quick:
        options = options.quick()
    changes = {"requests": args.requests, "spread": args.spread, "schedulers": args.schedulers,
               "time_limit": args.time_limit, "db_name": args.db_name, "admin_url": args.admin_url,
               "log_dir": args.log_dir}
    options = replace(options, keep=args.keep, **{k: v for k, v in changes.items() if v is not None})
    if options.requests < 1 or options.schedulers < 1 or options.spread <= 0:
        parser.error("--requests and --schedulers must be at least 1, --spread above 0")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", options.db_name):
        parser.error("the database name must be lower-case letters, digits and underscores")
    if make_url(options.admin_url).get_backend_name() != "postgresql":
        parser.error("the dispatch benchmark runs on PostgreSQL only")
    return options


_STARTED = time.monotonic()


def _log(message: str) -> None:
    print(f"[dispatch {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# --- the database ------------------------------------------------------------

def _admin(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def create_database(options: Options) -> str:
    drop_database(options)
    _admin(options.admin_url, f'CREATE DATABASE "{options.db_name}"')
    return make_url(options.admin_url).set(database=options.db_name).render_as_string(hide_password=False)


def drop_database(options: Options) -> None:
    _admin(options.admin_url, f'DROP DATABASE IF EXISTS "{options.db_name}" WITH (FORCE)')


def app_env(url: str, api_url: str, public_url: str) -> dict[str, str]:
    """Configuration shared by this process's app and the scheduler processes."""
    return {
        "REGISTRY_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "DATA_KEY": DATA_KEY,
        "TWILIO_ACCOUNT_SID": SIMULATOR_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": SIMULATOR_AUTH_TOKEN,
        "TWILIO_VERIFY_SERVICE_SID": SIMULATOR_VERIFY_SERVICE_SID,
        "TWILIO_API_URL": api_url,
        "PUBLIC_BASE_URL": public_url,
        "OUTBOUND_CPS": "0",  # the throttle off
        # Calls at any hour, so the run does not depend on the time of day.
        "SHOPPER_CALL_HOURS": "00:00-24:00",
        "RECORD_CALLS": "false",
    }


def make_app(env: dict[str, str]):
    from registry import create_app

    config = {"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "OUTBOUND_CPS": 0, "RECORD_CALLS": False}
    config.update({k: v for k, v in env.items() if k not in config and k != "DATABASE_URL"})
    return create_app(config)


def shopper_e164(i: int) -> str:
    return f"+86137{i:08d}"


@dataclass(frozen=True)
class Shape:
    requests: int
    merchants: int
    proxies: int

    @classmethod
    def for_requests(cls, n: int) -> Shape:
        merchants = max(1, math.ceil(n / REQUESTS_PER_MERCHANT))
        # A merchant needs one proxy number per shopper it calls; 20% to spare.
        per_merchant = math.ceil(n / merchants)
        return cls(n, merchants, per_merchant + max(5, per_merchant // 5))


def seed(app, shape: Shape, state, ring: float) -> None:
    """Owners, stores with a verified number, shoppers and the pool (the requests come later)."""
    from registry.extensions import db
    from registry.masking.models import ProxyNumber
    from registry.merchants.models import MerchantNumber
    from registry.phones import get_cipher, mask
    from registry.shoppers.models import Shopper
    from registry.timeutil import utcnow

    now = utcnow()
    with app.app_context():
        db.create_all()
        cipher = get_cipher()
        session = db.session
        session.execute(text(
            "INSERT INTO users (email, password_hash, role, active, created_at) "
            "SELECT 'bench-owner-' || i || '@example.com', 'x', 'merchant', true, :now "
            "FROM generate_series(1, :m) AS i"), {"m": shape.merchants, "now": now})
        session.execute(text(
            "INSERT INTO merchants (owner_id, name, timezone, business_hours, status, created_at) "
            "SELECT id, 'Bench store ' || id, 'Asia/Shanghai', CAST(:hours AS json), 'active', :now "
            "FROM users ORDER BY id"), {"hours": _json(ALWAYS_OPEN), "now": now})
        merchant_ids = list(session.scalars(text("SELECT id FROM merchants ORDER BY id")))
        session.execute(insert(MerchantNumber), [
            {"merchant_id": mid, "e164": merchant_e164(i),
             "number_hash": cipher.lookup_hash(merchant_e164(i)), "masked": mask(merchant_e164(i)),
             "region": "CN", "line_type": "mobile", "status": "verified", "verified_at": now,
             "created_at": now}
            for i, mid in enumerate(merchant_ids)])
        session.execute(insert(Shopper), [
            {"phone": shopper_e164(i), "phone_hash": cipher.lookup_hash(shopper_e164(i)),
             "masked": mask(shopper_e164(i)), "region": "CN", "timezone": "Asia/Shanghai",
             "verified_at": now, "created_at": now}
            for i in range(shape.requests)])
        session.execute(insert(ProxyNumber), [
            {"e164": proxy_e164(i), "provider_sid": state.add_incoming_number(proxy_e164(i)),
             "country": "CN", "status": "active", "shared": False, "active_bindings": 0, "created_at": now}
            for i in range(shape.proxies)])
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        session.remove()
    for i in range(shape.merchants):
        state.script(merchant_e164(i), outcome="busy", answer_after=ring)


def _json(value) -> str:
    import json

    return json.dumps(value)


def add_requests(app, shape: Shape, options: Options) -> datetime:
    """One request per shopper (store k mod M), due evenly over `spread` seconds from `lead` on.

    Inserted once the schedulers run, rather than updated from a placeholder, so the
    table holds no dead row versions for the claims to step over.
    """
    from registry.extensions import db
    from registry.timeutil import utcnow

    now = utcnow()
    first = now + timedelta(seconds=options.lead)
    with app.app_context():
        db.session.execute(text(
            "INSERT INTO callback_requests (merchant_id, shopper_id, asap, window_start, window_end, "
            "due_at, status, shopper_misses, created_at, updated_at) "
            "SELECT m.id, s.id, true, :now, :end, :first + (s.k * :step) * interval '1 second', "
            "'scheduled', 0, :now, :now "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM shoppers) AS s "
            "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM merchants) AS m "
            "ON m.k = s.k % :m"),
            {"now": now, "end": now + timedelta(days=7), "first": first,
             "step": options.spread / options.requests, "m": shape.merchants})
        db.session.commit()
        db.session.execute(text("ANALYZE callback_requests"))
        db.session.commit()
        db.session.remove()
    return first


class StatisticsKeeper:
    """Autovacuum's ANALYZE and VACUUM of the tables dispatch works on, for a server that runs
    with `autovacuum = off` (as this one does): without them, plans chosen on the empty tables
    of the start (the allocation's anti-join above all) soon cost tens of milliseconds each,
    which no production server with autovacuum shows. Same thresholds as autovacuum's defaults."""

    TABLES = ("callback_requests", "callback_attempts", "bindings", "proxy_numbers")

    def __init__(self, url: str):
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as conn:
            self.active = conn.scalar(text("SHOW autovacuum")) == "off"
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-autovacuum")

    def __enter__(self) -> StatisticsKeeper:
        if self.active:
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)
        self.engine.dispose()

    def _run(self) -> None:
        with self.engine.connect() as conn:
            while not self._stop.wait(1.0):
                for table in self.TABLES:
                    changed, dead, tuples = conn.execute(text(
                        "SELECT s.n_mod_since_analyze, s.n_dead_tup, greatest(c.reltuples, 0) "
                        "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                        "WHERE s.relname = :t"), {"t": table}).one()
                    if dead > 50 + 0.2 * tuples:
                        conn.execute(text(f"VACUUM ANALYZE {table}"))
                        self.runs += 1
                    elif changed > 50 + 0.1 * tuples:
                        conn.execute(text(f"ANALYZE {table}"))
                        self.runs += 1


# --- the simulator, and what reached it ---------------------------------------

@dataclass(frozen=True)
class Create:
    arrived: float  # time.time() when the request reached the simulator
    attempt_id: int | None
    status: int
    handling: float  # seconds the simulator took to answer it


class CreateRecorder:
    """WSGI middleware: timestamps each `POST .../Calls.json` and notes its attempt and answer."""

    def __init__(self, app):
        self.app = app
        self.creates: list[Create] = []
        self.placed_ids: set[int | None] = set()  # kept as they come: polled five times a second
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.endswith("/Calls.json"):
            return self.app(environ, start_response)
        arrived = time.time()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        url = parse_qs(body.decode("utf-8", "replace")).get("Url", [""])[0]
        attempt = parse_qs(urlsplit(url).query).get("attempt", [""])[0]
        statuses = []

        def recording_start_response(status, headers, exc_info=None):
            statuses.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        result = self.app(environ, recording_start_response)
        create = Create(arrived, int(attempt) if attempt.isdigit() else None,
                        statuses[0] if statuses else 0, time.time() - arrived)
        with self.lock:
            self.creates.append(create)
            if create.status == 201:
                self.placed_ids.add(create.attempt_id)
        return result

    def placed(self) -> int:
        with self.lock:
            return len(self.placed_ids)


async def _stub_connection(reader, writer) -> None:
    hangup = b'<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>'
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length, close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value == b"close":
                    close = True
            if length:
                await reader.readexactly(length)
            path = lines[0].split(b" ")[1] if len(lines[0].split(b" ")) > 1 else b""
            if b"/status" in path:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            else:  # anything asking for TwiML: end the call
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
                             + str(len(hangup)).encode() + b"\r\n\r\n" + hangup)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    except asyncio.CancelledError:
        pass  # the stub is stopping with the connection still open (kept alive): end quietly
    finally:
        writer.close()


async def _stub_serve() -> None:
    server = await asyncio.start_server(_stub_connection, "127.0.0.1", 0, backlog=1024)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await stopped.wait()


def webhook_stub_main() -> None:
    """The stub the simulator's webhooks go to (run as `python -m bench.dispatch --webhook-stub`)."""
    asyncio.run(_stub_serve())


# --- processes ---------------------------------------------------------------

def _child_env(values: dict[str, str]) -> dict[str, str]:
    tunables = set(INT_TUNABLES) | set(STR_TUNABLES) | set(BOOL_TUNABLES)
    env = {k: v for k, v in os.environ.items() if k not in tunables}
    env.update(values)
    return env


def _stop(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def start_stub(stack: ExitStack) -> tuple[str, subprocess.Popen]:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "bench.dispatch", "--webhook-stub"], cwd=ROOT, stdout=subprocess.PIPE,
        text=True, start_new_session=True)
    stack.callback(_stop, proc, 5.0)
    port = proc.stdout.readline().strip()
    if not port.isdigit():
        raise RuntimeError("the webhook stub did not start")
    return f"http://127.0.0.1:{port}", proc


def start_schedulers(stack: ExitStack, options: Options, env: dict[str, str]) -> list[subprocess.Popen]:
    options.log_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for n in range(options.schedulers):
        log = stack.enter_context(open(options.log_dir / f"scheduler-{n + 1}.log", "w+b"))
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"], cwd=ROOT,
            env=_child_env(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(_stop, proc)
        procs.append((proc, log))
    deadline = time.monotonic() + 60
    for proc, log in procs:
        while b"scheduler: running" not in _read(log):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"a scheduler did not start; see {log.name}")
            time.sleep(0.1)
    return [proc for proc, _ in procs]


def _read(log) -> bytes:
    log.flush()
    with open(log.name, "rb") as handle:
        return handle.read()


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used; NaN where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


class CpuMeter:
    """CPU used during the measured part: scheduler processes, this process (the simulator)
    with the webhook stub, and the PostgreSQL backends serving the benchmark database."""

    def __init__(self, app, schedulers: list[int], stub: int):
        self.app, self.schedulers, self.stub = app, schedulers, stub
        self.start = self._snapshot()

    def _backends(self) -> list[int]:
        from registry.extensions import db

        with self.app.app_context():
            pids = list(db.session.scalars(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")))
            db.session.remove()
        return pids

    def _snapshot(self) -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"schedulers": sum(_proc_cpu(pid) for pid in self.schedulers),
                "each": [_proc_cpu(pid) for pid in self.schedulers],
                "simulator": usage.ru_utime + usage.ru_stime + _proc_cpu(self.stub),
                "postgres": {pid: _proc_cpu(pid) for pid in self._backends()}}

    def used(self) -> dict[str, float]:
        end = self._snapshot()
        postgres = sum(cpu - self.start["postgres"].get(pid, 0.0) for pid, cpu in end["postgres"].items())
        return {"schedulers": end["schedulers"] - self.start["schedulers"],
                "each": [b - a for a, b in zip(self.start["each"], end["each"], strict=True)],
                "simulator": end["simulator"] - self.start["simulator"], "postgres": postgres}


# --- the run -------------------------------------------------------------------

@dataclass
class Outcome:
    requests: int
    placed: int
    latencies: list[float]
    early: int
    duplicates: int
    lost: int
    errors: Counter
    span: float
    statuses: Counter
    webhook_failures: int
    stopped_early: bool
    handling: list[float]
    cpu: dict  # CPU seconds: "schedulers", "simulator", "postgres"; "each": per scheduler process
    load: float
    loop_ms: float  # bench.machine.loop_ms() before the run: how fast the machine was
    maintenance: int | None  # ANALYZE/VACUUM runs standing in for autovacuum; None: autovacuum on


def measure(app, recorder: CreateRecorder, state, stopped_early: bool, cpu: dict,
            load: float, speed: float, maintenance: int | None) -> Outcome:
    from registry.extensions import db

    with app.app_context():
        requests = {rid: (due, status) for rid, due, status in db.session.execute(text(
            "SELECT id, due_at, status FROM callback_requests"))}
        attempts = {aid: rid for aid, rid in db.session.execute(text(
            "SELECT id, request_id FROM callback_attempts"))}
        # The app's side: attempts that got a CallSid beyond one per request (no retry is due in
        # the run, so any second one would be a second call).
        db_duplicates = db.session.scalar(text(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM callback_attempts "
            "WHERE merchant_call_sid IS NOT NULL GROUP BY request_id) AS placed"))
        db.session.remove()
    creates = list(recorder.creates)
    first_arrival: dict[int, float] = {}
    per_request: Counter = Counter()
    per_attempt: Counter = Counter()
    errors: Counter = Counter()
    early = 0
    for create in creates:
        request_id = attempts.get(create.attempt_id)
        if request_id is not None and create.arrived < requests[request_id][0].timestamp():
            early += 1
        if create.status != 201:
            errors[create.status] += 1
            continue
        per_attempt[create.attempt_id] += 1
        if request_id is None:
            continue  # no such attempt: counted as a duplicate below
        per_request[request_id] += 1
        first_arrival[request_id] = min(first_arrival.get(request_id, math.inf), create.arrived)
    orphans = sum(n for attempt, n in per_attempt.items() if attempt not in attempts)
    duplicates = max(orphans + sum(n - 1 for n in per_request.values() if n > 1), int(db_duplicates))
    lost = sum(1 for rid, (_, status) in requests.items() if rid not in first_arrival and status not in FINAL)
    latencies = sorted(first_arrival[rid] - requests[rid][0].timestamp() for rid in first_arrival)
    arrivals = sorted(first_arrival.values())
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else math.nan
    webhook_failures = sum(1 for r in state.webhook_log() if r.error or (r.status_code or 0) >= 400)
    return Outcome(len(requests), len(first_arrival), latencies, early, duplicates, lost, errors, span,
                   Counter(status for _, status in requests.values()), webhook_failures, stopped_early,
                   sorted(c.handling for c in creates), cpu, load, speed, maintenance)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values` (NaN for none)."""
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))]


def rows_for(outcome: Outcome, options: Options) -> list[Row]:
    p50, p99 = percentile(outcome.latencies, 50), percentile(outcome.latencies, 99)
    rate = outcome.placed / outcome.span if outcome.span and outcome.span == outcome.span else math.nan
    due_rate = options.requests / options.spread
    errors = ", ".join(f"{n} x HTTP {status}" for status, n in sorted(outcome.errors.items()))
    return [
        Row("dispatch: requests due in one window",
            f"{outcome.requests:,} over {options.spread:g} s, {options.schedulers} schedulers"),
        Row("dispatch: placed (Calls.json 201)", f"{outcome.placed:,}", f"{outcome.requests:,}",
            outcome.placed == outcome.requests),
        Row("dispatch: due_at -> Twilio request p50 (s)", number(p50, 3)),
        Row("dispatch: due_at -> Twilio request p99 (s)", number(p99, 3), f"<= {P99_TARGET_S:g} s",
            p99 <= P99_TARGET_S),
        Row("dispatch: due_at -> Twilio request max (s)",
            number(outcome.latencies[-1] if outcome.latencies else math.nan, 3)),
        Row("dispatch: calls placed per second", number(rate, 1), f"(due at {due_rate:,.0f}/s)"),
        Row("dispatch: calls placed before due", f"{outcome.early:,}", "0", outcome.early == 0),
        Row("dispatch: duplicate Twilio requests", f"{outcome.duplicates:,}", "0", outcome.duplicates == 0),
        Row("dispatch: lost requests", f"{outcome.lost:,}", "0", outcome.lost == 0),
        Row("dispatch: Twilio errors", errors or "0"),
        Row("dispatch: simulator time per Calls.json p50 / p99 (ms)",
            f"{number(percentile(outcome.handling, 50) * 1000, 1)} / "
            f"{number(percentile(outcome.handling, 99) * 1000, 1)}"),
        Row("dispatch: CPU ms per call: schedulers / simulator+stub / PostgreSQL",
            " / ".join(number(outcome.cpu[k] * 1000 / max(outcome.placed, 1), 1)
                       for k in ("schedulers", "simulator", "postgres"))),
        Row("dispatch: CPU ms per call, each scheduler process",
            " / ".join(number(cpu * 1000 / max(outcome.placed, 1), 1)
                       for cpu in outcome.cpu.get("each", []))),
        Row("dispatch: machine", f"{os.cpu_count()} cores, load average {outcome.load:.1f} at the start, "
            f"a fixed Python loop {outcome.loop_ms:.0f} ms of CPU (lower is faster)"),
        Row("dispatch: statistics", "autovacuum on" if outcome.maintenance is None else
            f"autovacuum off; {outcome.maintenance} ANALYZE/VACUUM run as it would"),
        Row("dispatch: run ended by the time limit", "yes" if outcome.stopped_early else "no"),
        Row("dispatch: webhooks", "simulator -> stub (204 / <Hangup/>); "
            f"{outcome.webhook_failures} failed"),
    ]


def run(argv: list[str] | None = None) -> list[Row]:
    """Run the benchmark; return the table rows (see `rows_for`)."""
    options = parse_args(argv)
    return run_with(options)


def run_with(options: Options) -> list[Row]:
    from twilio_sim import SimulatorState, create_simulator_app
    from twilio_sim.server import SimulatorServer

    # The simulator's werkzeug would log every request at INFO once the app configured logging.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    shape = Shape.for_requests(options.requests)
    _log(f"{shape.requests:,} requests, {shape.merchants} stores, {shape.proxies} proxy numbers, "
         f"database {options.db_name}")
    url = create_database(options)
    try:
        with ExitStack() as stack:
            state = SimulatorState(time_scale=1.0)
            sim_app = create_simulator_app(SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN,
                                           SIMULATOR_VERIFY_SERVICE_SID, state=state)
            recorder = CreateRecorder(sim_app.wsgi_app)
            sim_app.wsgi_app = recorder
            server = SimulatorServer(sim_app).start()
            stack.callback(server.stop)
            stub_url, stub = start_stub(stack)
            env = app_env(url, server.url, stub_url)
            app = make_app(env)
            started = time.monotonic()
            seed(app, shape, state, options.ring)
            _log(f"seeded in {time.monotonic() - started:.1f} s; starting {options.schedulers} schedulers")
            speed = loop_ms()
            procs = start_schedulers(stack, options, env)
            keeper = stack.enter_context(StatisticsKeeper(url))
            load = os.getloadavg()[0]
            meter = CpuMeter(app, [proc.pid for proc in procs], stub.pid)
            first_due = add_requests(app, shape, options)
            _log(f"due from {first_due:%H:%M:%S} for {options.spread:g} s")
            stopped_early = wait_for_placement(options, recorder, procs, first_due)
            cpu = meter.used()
            for proc in procs:
                _stop(proc)
            _settle(state)
            outcome = measure(app, recorder, state, stopped_early, cpu, load, speed,
                              keeper.runs if keeper.active else None)
            _log(f"statuses after the run: {dict(outcome.statuses)}")
    finally:
        if options.keep:
            _log(f"kept database {options.db_name}")
        else:
            drop_database(options)
    return rows_for(outcome, options)


def _settle(state) -> None:
    """Let the last calls end and their callbacks go out (they no longer matter to the measure)."""
    try:
        state.wait_idle(timeout=30)
    except TimeoutError as exc:
        _log(f"simulator not idle: {str(exc)[:200]}")


def wait_for_placement(options: Options, recorder: CreateRecorder, procs, first_due: datetime) -> bool:
    """Wait until every request reached the simulator; True if the time limit ended the wait."""
    deadline = first_due.timestamp() + options.spread + options.time_limit
    last_report = 0.0
    while recorder.placed() < options.requests:
        now = time.time()
        if now > deadline:
            _log(f"time limit: {recorder.placed():,} of {options.requests:,} placed")
            return True
        if any(proc.poll() is not None for proc in procs):
            raise RuntimeError(f"a scheduler exited early; see {options.log_dir}")
        if now - last_report >= 10:
            _log(f"{recorder.placed():,} placed")
            last_report = now
        time.sleep(0.2)
    _log(f"all {options.requests:,} placed, "
         f"{time.time() - first_due.timestamp():.1f} s after the first due_at")
    return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--webhook-stub"]:
        webhook_stub_main()
        return 0
    rows = run(argv)
    print(render(rows, [f"Callback dispatch benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
