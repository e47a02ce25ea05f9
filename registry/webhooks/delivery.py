"""Sending what is due, in the scheduler process only (never in a web request or a Twilio
webhook): claim a batch (`claims`), sign and POST each in a pool of threads (`sending`), record
every attempt and what follows from it, commit, and go on while deliveries are due.

2xx is success. Anything else (another status, a timeout, a refused or failed connection) is
retried after the next step of `WEBHOOK_RETRY_SCHEDULE`; after the last step the delivery is
`failed`. An endpoint whose every attempt has failed for `WEBHOOK_DISABLE_AFTER_HOURS` is
disabled, with the reason; deliveries already queued for it wait until it is enabled again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from registry.core.extensions import db
from registry.core.metrics import WEBHOOK_DELIVERIES
from registry.core.timeutil import as_utc, utcnow
from registry.core.transactions import commit_now
from registry.webhooks import sending
from registry.webhooks.claims import claim_due
from registry.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from registry.webhooks.safety import checks_addresses

log = logging.getLogger(__name__)
RECORDED = "each batch's attempts are stored, and their leases let go, as soon as they are made"


@dataclass(frozen=True)
class DeliverySettings:
    worker: str
    schedule: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    timeout: float = 10.0
    batch: int = 100
    concurrency: int = 16
    disable_after: timedelta = timedelta(hours=120)
    check_addresses: bool = False
    now: Callable[[], datetime] = field(default=utcnow)

    @property
    def lease(self) -> timedelta:
        """Long enough for a whole batch to time out, round after round, and be recorded."""
        rounds = -(-self.batch // max(self.concurrency, 1))
        return timedelta(seconds=max(60.0, rounds * (2 * self.timeout + 1) + 30))

    @classmethod
    def from_config(cls, config: Mapping, worker: str, **overrides) -> DeliverySettings:
        values = dict(worker=worker, schedule=tuple(config["WEBHOOK_RETRY_SCHEDULE"]),
                      timeout=float(config["WEBHOOK_TIMEOUT_SECONDS"]), batch=config["WEBHOOK_BATCH"],
                      concurrency=config["WEBHOOK_CONCURRENCY"],
                      disable_after=timedelta(hours=config["WEBHOOK_DISABLE_AFTER_HOURS"]),
                      check_addresses=checks_addresses(config))
        values.update(overrides)
        return cls(**values)


def deliver_due(settings: DeliverySettings, stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Send every delivery that is due, batch after batch, until none is (or `stop()`)."""
    counts: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=max(settings.concurrency, 1),
                            thread_name_prefix="webhook-send") as pool:
        while not stop():
            claimed = claim_due(settings.worker, settings.lease, settings.now(), settings.batch)
            if not claimed:
                break
            for result in send(claimed, settings, pool):
                counts[result] = counts.get(result, 0) + 1
    return counts


def send(delivery_ids: list[int], settings: DeliverySettings, pool: ThreadPoolExecutor) -> list[str]:
    """Send the claimed deliveries and record what came of each; commits."""
    rows = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.msg_id, WebhookDelivery.attempts,
               WebhookDelivery.retries_left, WebhookDelivery.endpoint_id, WebhookEndpoint.url,
               WebhookEndpoint.secret, WebhookEndpoint.previous_secret, WebhookEndpoint.previous_secret_until,
               WebhookEvent.body)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(delivery_ids))).all()
    now = settings.now()
    outgoing = [sending.prepare(row.id, row.url, row.msg_id, row.body, signing_secrets(row, now), now)
                for row in rows]
    db.session.rollback()  # no transaction stays open while the POSTs are under way
    results = list(pool.map(lambda out: sending.post(out, settings.timeout, settings.check_addresses,
                                                     now, settings.concurrency), outgoing))
    outcomes = record(results, {row.id: row for row in rows}, settings)
    commit_now(RECORDED)
    for outcome in outcomes:
        WEBHOOK_DELIVERIES.labels(outcome).inc()
    return outcomes


def signing_secrets(endpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until \
            and as_utc(endpoint.previous_secret_until) > now:
        secrets.append(endpoint.previous_secret)
    return secrets


_DELIVERIES, _ATTEMPTS, _ENDPOINTS = (WebhookDelivery.__table__, WebhookAttempt.__table__,
                                      WebhookEndpoint.__table__)
# One statement for the whole batch (executemany), and only while this scheduler's lease holds: a
# scheduler whose lease ran out and was taken over still logs its attempt, but the delivery is
# the new holder's to move on.
_RECORD = update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("b_id"),
                                    _DELIVERIES.c.lease_owner == bindparam("b_worker")).values(
    status=bindparam("b_status"), attempts=bindparam("b_attempts"), retries_left=bindparam("b_retries"),
    next_attempt_at=bindparam("b_next"), finished_at=bindparam("b_finished"),
    last_status_code=bindparam("b_code"), last_latency_ms=bindparam("b_latency"),
    last_error=bindparam("b_error"), lease_owner=None, lease_until=None)


def record(results: list[sending.Result], claimed: dict, settings: DeliverySettings) -> list[str]:
    """Store each attempt and move its delivery on: succeeded, retried later, or failed."""
    now = settings.now()
    outcomes, changes, attempts = [], [], []
    succeeded_at: set[int] = set()
    failed: dict[int, sending.Result] = {}
    for result in results:
        row = claimed[result.delivery_id]
        number, retries, status, next_at, finished = row.attempts + 1, row.retries_left, "pending", None, None
        if result.succeeded:
            status, finished = "succeeded", now
            succeeded_at.add(row.endpoint_id)
        elif retries > 0:
            step = settings.schedule[max(len(settings.schedule) - retries, 0)] if settings.schedule else 0
            retries, next_at = retries - 1, now + timedelta(seconds=step)
        else:
            status, finished = "failed", now
        if not result.succeeded:
            failed[row.endpoint_id] = result
        outcomes.append("succeeded" if result.succeeded else "retrying" if status == "pending" else "failed")
        changes.append({"b_id": row.id, "b_worker": settings.worker, "b_status": status,
                        "b_attempts": number, "b_retries": retries, "b_next": next_at, "b_finished": finished,
                        "b_code": result.status_code, "b_latency": result.latency_ms,
                        "b_error": result.error})
        attempts.append({"delivery_id": row.id, "number": number, "started_at": result.started_at,
                         "status_code": result.status_code, "latency_ms": result.latency_ms,
                         "response_snippet": result.snippet, "error": result.error,
                         "succeeded": result.succeeded})
    if changes:
        db.session.execute(_RECORD, changes)
        # A delivery whose endpoint was deleted while it was in flight has no row to log under.
        still = set(db.session.scalars(select(_DELIVERIES.c.id).where(
            _DELIVERIES.c.id.in_([a["delivery_id"] for a in attempts]))))
        attempts = [a for a in attempts if a["delivery_id"] in still]
        if attempts:
            db.session.execute(insert(_ATTEMPTS), attempts)
    if succeeded_at:
        db.session.execute(update(_ENDPOINTS).where(_ENDPOINTS.c.id.in_(succeeded_at),
                                                    _ENDPOINTS.c.failing_since.is_not(None))
                           .values(failing_since=None))
    for endpoint_id, result in failed.items():
        _note_failure(endpoint_id, result, now, settings.disable_after)
    return outcomes


def _note_failure(endpoint_id: int, result: sending.Result, now: datetime, disable_after: timedelta) -> None:
    """The endpoint is failing (since this attempt, unless it already was); disabled, with the
    reason, once it has failed for `disable_after`."""
    endpoints = _ENDPOINTS.c
    db.session.execute(update(_ENDPOINTS)
                       .where(endpoints.id == endpoint_id, endpoints.failing_since.is_(None))
                       .values(failing_since=result.started_at))
    hours = int(disable_after.total_seconds() // 3600)
    reason = f"every delivery failed for {hours} hours (last: {result.error or 'no answer'})"[:500]
    disabled = db.session.execute(
        update(_ENDPOINTS).where(endpoints.id == endpoint_id, endpoints.enabled.is_(True),
                                 endpoints.failing_since <= now - disable_after)
        .values(enabled=False, disabled_reason=reason)).rowcount
    if disabled:
        log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
