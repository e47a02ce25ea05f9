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

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.core.transactions import commit_now
from registry.webhooks import sending
from registry.webhooks.claims import claim_due
from registry.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
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
    deliveries = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
        .options(selectinload(WebhookDelivery.endpoint), selectinload(WebhookDelivery.event))).all()
    now = settings.now()
    outgoing = []
    for delivery in deliveries:
        endpoint = delivery.endpoint
        outgoing.append(sending.prepare(delivery.id, endpoint.url, delivery.msg_id, delivery.event.body,
                                        signing_secrets(endpoint, now), now))
    db.session.rollback()  # no transaction stays open while the POSTs are under way
    results = list(pool.map(lambda out: sending.post(out, settings.timeout, settings.check_addresses,
                                                     now, settings.concurrency), outgoing))
    outcomes = record(results, settings)
    commit_now(RECORDED)
    return outcomes


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until \
            and as_utc(endpoint.previous_secret_until) > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def record(results: list[sending.Result], settings: DeliverySettings) -> list[str]:
    """Store each attempt and move its delivery on: succeeded, retried later, or failed."""
    by_id = {d.id: d for d in db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_([r.delivery_id for r in results]))
        .options(selectinload(WebhookDelivery.endpoint)))}
    now = settings.now()
    outcomes = []
    for result in results:
        delivery = by_id[result.delivery_id]
        delivery.attempts += 1
        db.session.add(WebhookAttempt(
            delivery_id=delivery.id, number=delivery.attempts, started_at=result.started_at,
            status_code=result.status_code, latency_ms=result.latency_ms,
            response_snippet=result.snippet, error=result.error, succeeded=result.succeeded))
        delivery.last_status_code, delivery.last_latency_ms = result.status_code, result.latency_ms
        delivery.last_error = result.error
        delivery.lease_owner = delivery.lease_until = None
        if result.succeeded:
            delivery.status, delivery.finished_at, delivery.next_attempt_at = "succeeded", now, None
            delivery.endpoint.failing_since = None
            outcomes.append("succeeded")
            continue
        if delivery.retries_left > 0:
            step = settings.schedule[max(len(settings.schedule) - delivery.retries_left, 0)] \
                if settings.schedule else 0
            delivery.retries_left -= 1
            delivery.next_attempt_at = now + timedelta(seconds=step)
            outcomes.append("retrying")
        else:
            delivery.status, delivery.finished_at, delivery.next_attempt_at = "failed", now, None
            outcomes.append("failed")
        _note_failure(delivery.endpoint, result, now, settings.disable_after)
    db.session.flush()
    return outcomes


def _note_failure(endpoint: WebhookEndpoint, result: sending.Result, now: datetime,
                  disable_after: timedelta) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = result.started_at
    elif endpoint.enabled and now - as_utc(endpoint.failing_since) >= disable_after:
        hours = int(disable_after.total_seconds() // 3600)
        endpoint.enabled = False
        endpoint.disabled_reason = (f"every delivery failed for {hours} hours "
                                    f"(last: {result.error or 'no answer'})")[:500]
        log.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
