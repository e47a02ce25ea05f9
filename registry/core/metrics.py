"""The Prometheus metrics every layer counts into (docs/operations.md lists them).

The metric objects live here, at the bottom, so that any package may count without importing a
package above it: telephony counts Twilio requests, verification its sends and checks, callbacks
the dispatch lag, webhooks their deliveries. What is read from the database when Prometheus
scrapes (callbacks by status, pool capacity, the call log's last verification, the scheduler's
heartbeat) is added by the `/metrics` view itself (`registry/ops`).

Under gunicorn, `PROMETHEUS_MULTIPROC_DIR` puts prometheus-client in multiprocess mode (it must be
set before the first import, which `gunicorn.conf.py` makes sure of): every worker writes its
values to files there, and a scrape of any worker adds up all of them. Without it each process
counts in its own memory (the development server, the scheduler, tests).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from flask import Flask, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

HTTP_REQUESTS = Counter("registry_http_requests", "HTTP requests answered, by endpoint and status",
                        ("endpoint", "method", "status"))
HTTP_LATENCY = Histogram("registry_http_request_duration_seconds", "Time to answer an HTTP request",
                         ("endpoint", "method"), buckets=LATENCY_BUCKETS)
VERIFICATIONS = Counter("registry_verification_attempts",
                        "One-time code sends and checks, by outcome (sent, approved, wrong_code, "
                        "expired, rate_limited)", ("action", "outcome"))
DISPATCH_LAG = Histogram("registry_callback_dispatch_lag_seconds",
                         "From a callback's due time to its call being placed at Twilio", buckets=LAG_BUCKETS)
TWILIO_REQUESTS = Counter("registry_twilio_requests", "Requests to Twilio's API, by product and outcome",
                          ("product", "method", "outcome"))
TWILIO_LATENCY = Histogram("registry_twilio_request_duration_seconds", "Time Twilio's API took to answer",
                           ("product", "method"), buckets=LATENCY_BUCKETS)
WEBHOOK_DELIVERIES = Counter("registry_webhook_deliveries", "Outbound webhook delivery attempts, by outcome "
                             "(succeeded, retrying, failed)", ("outcome",))


def http_outcome(status: int) -> str:
    """`ok`, `client_error`, `server_error` for an HTTP status; `unreachable` for none (0)."""
    if status == 0:
        return "unreachable"
    return "ok" if status < 400 else "client_error" if status < 500 else "server_error"


def render(config, extra: Iterable = ()) -> bytes:
    """The text exposition of every process's metrics (one process's without multiprocess mode),
    with `extra` collectors (the values read at scrape time)."""
    directory = config.get("PROMETHEUS_MULTIPROC_DIR")
    registry = CollectorRegistry()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Default())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Default:
    """This process's own metrics (the global registry), inside a scrape's registry."""

    def collect(self):
        return REGISTRY.collect()


def register_http_metrics(app: Flask) -> None:
    """Count and time every request by its endpoint (the rule's name, never the raw path)."""

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        endpoint = request.endpoint or "unmatched"
        if started is not None:
            HTTP_LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        return response
