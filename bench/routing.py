"""Inbound routing under gunicorn, next to a trivial app served and loaded the same way."""

from __future__ import annotations

from dataclasses import dataclass

from bench import loadgen, servers
from bench import settings as S
from bench.machine import Meter
from bench.setup_db import server_env

WEBHOOK = "/webhooks/twilio/voice/incoming"


@dataclass
class RoutingResult:
    routing: loadgen.LoadResult
    trivial: loadgen.LoadResult
    routing_others: float | None = None  # other work's share of the machine while measured
    trivial_others: float | None = None

    @property
    def ratio(self) -> float:
        return self.routing.rps / self.trivial.rps if self.trivial.rps else 0.0


def _measure(settings: S.Settings, app_spec: str, path: str, env_for_port, pairs, expect: bytes,
             name: str, meter: Meter) -> loadgen.LoadResult:
    log_path = settings.log_dir / f"bench-gunicorn-{name}.log"
    with servers.gunicorn(app_spec, env_for_port, settings.gunicorn_workers, log_path) as port:
        return loadgen.run(loadgen.LoadSpec(
            port=port, path=path, pairs=pairs, expect=expect, auth_token=S.AUTH_TOKEN,
            account_sid=S.ACCOUNT_SID, concurrency=settings.concurrency,
            processes=settings.client_processes, warmup=settings.warmup, duration=settings.duration,
            max_requests=settings.max_requests), meter)


def measure(settings: S.Settings, url: str, callers: list[tuple[str, str]], log) -> RoutingResult:
    twilio_port = servers.free_port()  # nothing listens there: routing must not call Twilio

    def app_env(port: int) -> dict[str, str]:
        return server_env(url, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{twilio_port}")

    trivial_meter, routing_meter = Meter(url), Meter(url)
    trivial = _measure(settings, "bench.trivial_app:app", "/", app_env, callers, b"<Dial", "trivial",
                       trivial_meter)
    log(f"routing: trivial app {trivial.rps:,.0f} req/s, p99 {trivial.percentile(0.99):.1f} ms")
    routing = _measure(settings, "wsgi:app", WEBHOOK, app_env, callers, b"<Dial", "routing", routing_meter)
    log(f"routing: webhook {routing.rps:,.0f} req/s, p99 {routing.percentile(0.99):.1f} ms, "
        f"{routing.errors} errors")
    return RoutingResult(routing, trivial, routing_meter.others, trivial_meter.others)
