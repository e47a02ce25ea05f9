"""What `/metrics` reads from the database at each scrape (the same for every worker, so read,
not counted): callbacks by status, the proxy pool's capacity per country, the call log's last
verification and the schedulers' heartbeats. A failed read leaves its metrics out and counts the
failure (`registry_scrape_errors`), so a scrape never fails on it."""

from __future__ import annotations

import logging

from flask import Flask
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)


class DatabaseCollector:
    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        errors = 0
        for read in (_callbacks, _pool, _chain, _heartbeats):
            try:
                yield from list(read(self.app))
            except Exception:
                errors += 1
                db.session.rollback()
                log.warning("metrics: %s could not be read", read.__name__.strip("_"), exc_info=True)
        failed = CounterMetricFamily("registry_scrape_errors", "Database reads a scrape had to leave out")
        failed.add_metric([], errors)
        yield failed


def _callbacks(app: Flask):
    from registry.callbacks.models import CallbackRequest

    gauge = GaugeMetricFamily("registry_callbacks", "Callback requests by status", labels=["status"])
    rows = db.session.execute(select(CallbackRequest.status, func.count()).group_by(CallbackRequest.status))
    for status, count in rows:
        gauge.add_metric([status], count)
    yield gauge


def _pool(app: Flask):
    from registry.masking.capacity import by_country

    free = GaugeMetricFamily("registry_pool_free", "Free capacity of the proxy pool (pairs that may still "
                             "be bound), by country", labels=["country"])
    capacity = GaugeMetricFamily("registry_pool_capacity", "Capacity of the proxy pool, by country",
                                 labels=["country"])
    for country in by_country(app.config["PROXY_NUMBER_CAP"], app.config["POOL_LOW_WATERMARK"]):
        free.add_metric([country.country], country.free)
        capacity.add_metric([country.country], country.capacity)
    yield free
    yield capacity


def _chain(app: Flask):
    from registry.calllog.verification import last_result

    last = last_result()
    if last is None:
        return
    age = GaugeMetricFamily("registry_calllog_last_verified_age_seconds",
                            "Seconds since the call log's hash chain was last verified")
    age.add_metric([], (utcnow() - as_utc(last.ran_at)).total_seconds())
    ok = GaugeMetricFamily("registry_calllog_last_verification_ok", "1 if the last verification found the "
                           "chain intact, 0 if it found a broken link")
    ok.add_metric([], 1 if last.ok else 0)
    yield age
    yield ok


def _heartbeats(app: Flask):
    from registry.ops.heartbeat import ages

    gauge = GaugeMetricFamily("registry_scheduler_heartbeat_age_seconds",
                              "Seconds since each scheduler process last finished a dispatch pass",
                              labels=["worker"])
    for worker, age in ages().items():
        gauge.add_metric([worker], age)
    yield gauge
