"""`python -m bench bindings [--quick] [--admin-url URL] ...`: bindings/s through the client API.

On a database of its own (`--admin-url`: PostgreSQL by default, a `sqlite:///` URL for SQLite),
with `--merchants` stores (each a verified number) and `--proxies` proxy numbers, the app
runs under gunicorn as in production and an integration client's key drives it from
closed-loop load clients: first `GET /api/v1/integration/whoami` (the trivial endpoint:
the same key check, the same call log row, no work), then `POST /api/v1/bindings`, each
request a new shopper (so each is a new binding: an allocation, two encrypted numbers,
the count on the proxy number), the stores taken in turn. The table gives bindings/s,
latencies, the ratio to the trivial endpoint in the same run, where the CPU went, and
checks the bindings written (one per correct answer, the counters equal to the rows,
no party twice on one proxy number).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import text

from bench.harness import ROOT, cli, database, fixtures, load, servers
from bench.harness.app import admin_url, app_settings, child_environment, make_app
from bench.harness.machine import Meter, busy_cell
from bench.harness.tables import Row, git_revision, number, publish
from bench.harness.timing import stderr_log

TARGET_BINDINGS_PER_S = 5_000  # the field's anchor: Alibaba's number protection, per account
WHOAMI, BINDINGS = "/api/v1/integration/whoami", "/api/v1/bindings"
CPU_PARTS = ("server", "postgres", "rest")
FIRST_SHOPPER = 10_000_000  # shoppers' numbers are fixtures.shopper_e164(FIRST_SHOPPER + n)


@dataclass(frozen=True)
class Settings:
    merchants: int = 2_000
    proxies: int = 600  # 40,000 bindings at the default cap of 200 need 200
    gunicorn_workers: int = 2
    concurrency: int = 8
    client_processes: int = 2
    warmup: float = 1.0
    duration: float = 6.0
    max_requests: int = 40_000
    admin_url: str = field(default_factory=admin_url)
    db_name: str = "registry_bench_bindings"
    keep: bool = False
    output: Path | None = ROOT / "test-artifacts" / "bench-bindings.txt"
    log_dir: Path = ROOT / "test-artifacts"

    def quick(self) -> Settings:
        return replace(self, merchants=200, proxies=200, duration=3.0, max_requests=10_000)


# --- the requests ---------------------------------------------------------------------------


def prepare_requests(spec: load.LoadSpec, client: int, count: int, run_id: str) -> list[bytes]:
    """One load client's requests: a GET of `spec.path`, or a new binding each (a shopper no
    other request uses, the stores in turn)."""
    key, merchants = spec.context["key"], spec.context["merchants"]
    head = f"Host: 127.0.0.1:{spec.port}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n"
    if spec.path == WHOAMI:
        return [f"GET {WHOAMI} HTTP/1.1\r\n{head}\r\n".encode()] * count
    requests = []
    for n in range(count):
        serial = client * count + n
        body = json.dumps({"merchant_id": serial % merchants + 1, "order_ref": f"{run_id}-{serial}",
                           "shopper_phone": fixtures.shopper_e164(FIRST_SHOPPER + serial)}).encode()
        requests.append(f"POST {BINDINGS} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return requests


# --- setting up and checking ----------------------------------------------------------------


def build(s: Settings, log) -> tuple[str, str]:
    """The bench database with its stores, proxy numbers and client; (its URL, the client's key)."""
    from registry.core.extensions import db
    from registry.integrations.operations import create_client

    url = database.create_database(s.admin_url, s.db_name)
    app = make_app(url)
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            fixtures.insert_proxies(conn, 1, s.proxies)
            fixtures.insert_merchants(conn, s.merchants, hours=fixtures.ALWAYS_OPEN)
            database.reset_sequences(conn, ("users", "merchants", "merchant_numbers", "proxy_numbers"))
        _, key = create_client("Bench marketplace", ["bindings"])
        db.session.commit()
        db.session.remove()
        database.vacuum_analyze(db.engine)
        db.engine.dispose()
    log(f"bindings: {s.merchants:,} stores, {s.proxies:,} proxy numbers, a client key")
    return url, key


def check_bindings(url: str) -> dict[str, int]:
    """What the load wrote: bindings, counters off, parties twice on one proxy number."""
    def run(conn) -> dict[str, int]:
        one = conn.scalar
        return {
            "bindings": one(text("SELECT count(*) FROM bindings WHERE ended_at IS NULL")),
            "counters_off": one(text(
                "SELECT count(*) FROM proxy_numbers p WHERE p.active_bindings <> (SELECT count(*) "
                "FROM bindings b WHERE b.proxy_number_id = p.id AND b.ended_at IS NULL)")),
            "violations": one(text(
                "SELECT count(*) FROM (SELECT proxy_number_id, party_a_hash FROM bindings WHERE ended_at "
                "IS NULL AND extension IS NULL GROUP BY 1, 2 HAVING count(*) > 1 UNION ALL "
                "SELECT proxy_number_id, party_b_hash FROM bindings WHERE ended_at IS NULL AND "
                "extension IS NULL GROUP BY 1, 2 HAVING count(*) > 1) AS twice")),
        }

    return database.with_connection(url, run)


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Served:
    load: load.LoadResult
    others: float | None
    busy: float | None
    cpu_seconds: dict[str, float]

    def cpu_ms(self, part: str) -> float | None:
        if not self.cpu_seconds or not self.load.completed:
            return None
        return self.cpu_seconds[part] * 1000 / self.load.completed


def _drive(s: Settings, port: int, pid: int, url: str, path: str, key: str, expect: bytes,
           statuses: tuple[bytes, ...]) -> Served:
    meter = Meter(url)
    meter.track("server", pid)
    result = load.run(load.LoadSpec(
        port=port, path=path, pairs=[], expect=expect, auth_token="", account_sid="",
        concurrency=s.concurrency, processes=s.client_processes, warmup=s.warmup, duration=s.duration,
        max_requests=s.max_requests, prepare=prepare_requests, statuses=statuses,
        context={"key": key, "merchants": s.merchants}), meter)
    return Served(result, meter.others, meter.busy, meter.cpu_seconds)


def measure(s: Settings, url: str, key: str, log) -> tuple[Served, Served]:
    """(whoami, bindings), loaded one after the other on the same gunicorn."""
    settings = app_settings(url)
    log_path = s.log_dir / "bench-gunicorn-bindings.log"
    with servers.gunicorn("wsgi:app", lambda port: child_environment(settings), s.gunicorn_workers,
                          log_path) as (port, pid):
        trivial = _drive(s, port, pid, url, WHOAMI, key, b'"scopes"', (b"200",))
        log(f"bindings: whoami {trivial.load.rps:,.0f} req/s, {trivial.load.errors} errors")
        bound = _drive(s, port, pid, url, BINDINGS, key, b'"proxy_number"', (b"201",))
        log(f"bindings: POST {bound.load.rps:,.0f} bindings/s, {bound.load.errors} errors "
            f"{bound.load.error_samples}")
    return trivial, bound


def _cpu(served: Served) -> str:
    parts = [served.cpu_ms(part) for part in CPU_PARTS]
    return "n/a" if None in parts else " / ".join(number(p, 2) for p in parts)


def rows(trivial: Served, bound: Served, written: dict[str, int]) -> list[Row]:
    b, t = bound.load, trivial.load
    ratio = b.rps / t.rps if t.rps else float("nan")
    cpu_b, cpu_t = (sum(x.cpu_ms(p) or 0.0 for p in CPU_PARTS) for x in (bound, trivial))
    answered = b.completed + b.errors  # every correct answer outside the window wrote one too
    table = [
        Row("bindings: POST /api/v1/bindings bindings/s", number(b.rps),
            f">= {TARGET_BINDINGS_PER_S:,} (Alibaba's per-account cap)", b.rps >= TARGET_BINDINGS_PER_S),
        Row("bindings: p50 latency (ms)", number(b.percentile(0.5), 1)),
        Row("bindings: p99 latency (ms)", number(b.percentile(0.99), 1)),
        Row("bindings: wrong answers or errors", number(b.errors), "0", b.errors == 0),
        Row("trivial (GET /api/v1/integration/whoami): requests/s", number(t.rps)),
        Row("trivial: p99 latency (ms)", number(t.percentile(0.99), 1)),
        Row("trivial: wrong answers or errors", number(t.errors), "0", t.errors == 0),
        Row("bindings / trivial requests/s (same run)", number(ratio, 2)),
        Row("trivial: CPU ms/request: server / database / load", _cpu(trivial)),
        Row("bindings: CPU ms/binding: server / database / load", _cpu(bound)),
        Row("bindings / trivial CPU per request, all processes",
            f"{cpu_b / cpu_t:.1f} x" if cpu_b and cpu_t else "n/a"),
        Row("trivial: machine busy (other work)", busy_cell(trivial.busy, trivial.others)),
        Row("bindings: machine busy (other work)", busy_cell(bound.busy, bound.others)),
        Row("bindings written (active) / answered in the measured window", f"{written['bindings']:,} / "
            f"{b.completed:,}", ">= answered", written["bindings"] >= b.completed and answered > 0),
        Row("bindings: masking violations / counters off",
            f"{written['violations']} / {written['counters_off']}", "0 / 0",
            written["violations"] == 0 and written["counters_off"] == 0),
    ]
    if b.exhausted or t.exhausted:
        table.append(Row("load: a client ran out of requests (raise --max-requests)", "yes", "no", False))
    return table


def run(s: Settings, log=None) -> tuple[list[str], list[Row]]:
    log = log or stderr_log("bench bindings: ")
    try:
        url, key = build(s, log)
        trivial, bound = measure(s, url, key, log)
        table = rows(trivial, bound, check_bindings(url))
        backend = database.server_version(url)
    finally:
        if not s.keep:
            database.drop_database(s.admin_url, s.db_name)
    header = [f"bindings through the client API on {backend}: {s.merchants:,} stores, {s.proxies:,} proxy "
              f"numbers; gunicorn -w {s.gunicorn_workers}, {s.concurrency} concurrent clients in "
              f"{s.client_processes} processes, {s.duration:g} s each; {os.cpu_count()} CPUs; "
              f"commit {git_revision()}"]
    publish(table, header, s.output)
    return header, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench bindings", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer stores and numbers, 3 s of load")
    parser.add_argument("--merchants", type=int, help="stores (default 2,000)")
    parser.add_argument("--proxies", type=int, help="proxy numbers (default 600)")
    parser.add_argument("--duration", type=float, help="seconds of load measured on each endpoint")
    parser.add_argument("--concurrency", type=int, help="concurrent load clients (default 8)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default 2)")
    parser.add_argument("--max-requests", type=int, help="requests prepared per endpoint (default 40,000)")
    parser.add_argument("--output", type=Path, help="where the table is written too")
    cli.database_arguments(parser, Settings.db_name)
    args = parser.parse_args(argv)
    s = Settings().quick() if args.quick else Settings()
    s = cli.replace_given(s, merchants=args.merchants, proxies=args.proxies, duration=args.duration,
                          concurrency=args.concurrency, gunicorn_workers=args.workers,
                          max_requests=args.max_requests, admin_url=args.admin_url, db_name=args.db_name,
                          keep=args.keep or None, output=args.output)
    cli.check_database_name(parser, s.admin_url, s.db_name)
    cli.stop_on_term()
    run(s)
    return 0
