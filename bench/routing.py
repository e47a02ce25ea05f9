"""Inbound routing under gunicorn, next to a trivial app served and loaded the same way."""

from __future__ import annotations

from dataclasses import dataclass

from bench import loadgen, servers
from bench import settings as S
from bench.machine import Meter
from bench.setup_db import server_env

WEBHOOK = "/webhooks/twilio/voice/incoming"


@dataclass
class Served:
    """One server's load, and what the machine did meanwhile."""

    load: loadgen.LoadResult
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


def _measure(settings: S.Settings, app_spec: str, path: str, env_for_port, pairs, expect: bytes,
             name: str, url: str) -> Served:
    log_path = settings.log_dir / f"bench-gunicorn-{name}.log"
    meter = Meter(url)
    with servers.gunicorn(app_spec, env_for_port, settings.gunicorn_workers, log_path) as (port, pid):
        meter.track("server", pid)
        load = loadgen.run(loadgen.LoadSpec(
            port=port, path=path, pairs=pairs, expect=expect, auth_token=S.AUTH_TOKEN,
            account_sid=S.ACCOUNT_SID, concurrency=settings.concurrency,
            processes=settings.client_processes, warmup=settings.warmup, duration=settings.duration,
            max_requests=settings.max_requests), meter)
    return Served(load, meter.others, meter.busy, meter.cpu_seconds)


def measure(settings: S.Settings, url: str, callers: list[tuple[str, str]], log) -> RoutingResult:
    twilio_port = servers.free_port()  # nothing listens there: routing must not call Twilio

    def app_env(port: int) -> dict[str, str]:
        return server_env(url, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{twilio_port}")

    trivial = _measure(settings, "bench.trivial_app:app", "/", app_env, callers, b"<Dial", "trivial", url)
    log(f"routing: trivial app {trivial.load.rps:,.0f} req/s, p99 {trivial.load.percentile(0.99):.1f} ms")
    routing = _measure(settings, "wsgi:app", WEBHOOK, app_env, callers, b"<Dial", "routing", url)
    log(f"routing: webhook {routing.load.rps:,.0f} req/s, p99 {routing.load.percentile(0.99):.1f} ms, "
        f"{routing.load.errors} errors")
    return RoutingResult(routing, trivial)
