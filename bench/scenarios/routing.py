"""Routing: the inbound-call webhook under gunicorn, next to a trivial app served and loaded the same way."""

from __future__ import annotations

from dataclasses import dataclass

from bench.harness import load, servers
from bench.harness.app import ACCOUNT_SID, AUTH_TOKEN, app_settings, child_environment, make_app
from bench.harness.machine import Meter, busy_cell
from bench.harness.tables import Row, number

WEBHOOK = "/webhooks/twilio/voice/incoming"
P99_MS = 20.0
RATIO = 0.5
CPU_PARTS = ("server", "postgres", "rest")


@dataclass
class Served:
    """One server's load, and what the machine did meanwhile."""

    load: load.LoadResult
    others: float | None = None  # other work's share of the machine
    busy: float | None = None  # share of the machine busy, with anything
    cpu_seconds: dict[str, float] | None = None  # "server", "postgres", "rest" (the load clients)

    def cpu_ms_per_request(self, part: str) -> float | None:
        """CPU time `part` spent per correct answer, while measured."""
        if not self.cpu_seconds or not self.load.completed:
            return None
        return self.cpu_seconds[part] * 1000 / self.load.completed


@dataclass
class RoutingResult:
    routing: Served
    trivial: Served

    @property
    def ratio(self) -> float:
        r, t = self.routing.load, self.trivial.load
        return r.rps / t.rps if t.rps else 0.0


def _serve_and_load(settings, app_spec: str, path: str, env_for_port, pairs, name: str,
                    url: str) -> Served:
    log_path = settings.log_dir / f"bench-gunicorn-{name}.log"
    meter = Meter(url)
    with servers.gunicorn(app_spec, env_for_port, settings.gunicorn_workers, log_path) as (port, pid):
        meter.track("server", pid)
        result = load.run(load.LoadSpec(
            port=port, path=path, pairs=pairs, expect=b"<Dial", auth_token=AUTH_TOKEN,
            account_sid=ACCOUNT_SID, concurrency=settings.concurrency,
            processes=settings.client_processes, warmup=settings.warmup, duration=settings.duration,
            max_requests=settings.max_requests), meter)
    return Served(result, meter.others, meter.busy, meter.cpu_seconds)


def measure(settings, url: str, callers: list[tuple[str, str]], log) -> RoutingResult:
    twilio_port = servers.free_port()  # nothing listens there: routing must not call Twilio

    def app_env(port: int) -> dict[str, str]:
        return child_environment(app_settings(url, f"http://127.0.0.1:{port}",
                                              f"http://127.0.0.1:{twilio_port}"))

    trivial = _serve_and_load(settings, "bench.harness.trivial_app:app", "/", app_env, callers,
                              "trivial", url)
    log(f"routing: trivial app {trivial.load.rps:,.0f} req/s, p99 {trivial.load.percentile(0.99):.1f} ms")
    routing = _serve_and_load(settings, "wsgi:app", WEBHOOK, app_env, callers, "routing", url)
    log(f"routing: webhook {routing.load.rps:,.0f} req/s, p99 {routing.load.percentile(0.99):.1f} ms, "
        f"{routing.load.errors} errors")
    return RoutingResult(routing, trivial)


def chain_report(url: str):
    """The call log's hash chain after the load, sealed first (as the scheduler's job would have)."""
    from registry.calllog.chain import seal_pending
    from registry.calllog.verification import verify
    from registry.core.extensions import db

    app = make_app(url)
    with app.app_context():
        try:
            seal_pending()
            return verify()
        finally:
            db.session.remove()
            db.engine.dispose()


def _cpu_per_request(served: Served) -> str:
    """"server / PostgreSQL / load clients" CPU ms per request."""
    parts = [served.cpu_ms_per_request(part) for part in CPU_PARTS]
    return "n/a" if None in parts else " / ".join(number(p, 2) for p in parts)


def _cpu_ratio(result: RoutingResult) -> str:
    """How many times the trivial app's CPU per request (all its processes) routing takes."""
    r, t = (sum(s.cpu_ms_per_request(p) or 0.0 for p in CPU_PARTS) for s in (result.routing, result.trivial))
    return f"{r / t:.1f} x" if r and t else "n/a"


def rows(result: RoutingResult, chain) -> list[Row]:
    r, t = result.routing.load, result.trivial.load
    table = [
        Row("routing: requests/s", number(r.rps)),
        Row("routing: p50 latency (ms)", number(r.percentile(0.5), 1)),
        Row("routing: p99 latency (ms)", number(r.percentile(0.99), 1), f"<= {P99_MS:g}",
            r.percentile(0.99) <= P99_MS),
        Row("routing: wrong answers or errors", number(r.errors), "0", r.errors == 0),
        Row("trivial app: requests/s", number(t.rps)),
        Row("trivial app: p50 latency (ms)", number(t.percentile(0.5), 1)),
        Row("trivial app: p99 latency (ms)", number(t.percentile(0.99), 1)),
        Row("trivial app: wrong answers or errors", number(t.errors), "0", t.errors == 0),
        Row("routing / trivial requests/s", number(result.ratio, 2), f">= {RATIO:.2f}",
            result.ratio >= RATIO),
        Row("trivial app: CPU ms/request: server / PostgreSQL / load", _cpu_per_request(result.trivial)),
        Row("routing: CPU ms/request: server / PostgreSQL / load", _cpu_per_request(result.routing)),
        Row("routing / trivial CPU per request, all processes", _cpu_ratio(result)),
        Row("trivial app: machine busy (other work)", busy_cell(result.trivial.busy, result.trivial.others)),
        Row("routing: machine busy (other work)", busy_cell(result.routing.busy, result.routing.others)),
        Row("call log: hash chain after the load", f"{'ok' if chain.ok else 'BROKEN'}, "
            f"{chain.events:,} events", "ok", chain.ok),
    ]
    if r.exhausted or t.exhausted:
        table.append(Row("load: a client ran out of requests", "yes", "no", False))
    return table
