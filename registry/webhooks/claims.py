"""Claiming due deliveries with a lease, so any number of schedulers send each attempt once.

A delivery is due when it is `pending`, its `next_attempt_at` has come, no scheduler's lease on
it is still running, and its endpoint is enabled. A claim stores this scheduler's lease and
commits it before anything is sent: other schedulers pass over the delivery until the lease
ends. A scheduler killed after the POST but before recording it leaves a lease that runs out;
the delivery is then claimed and sent again, with the same `webhook-id` (at-least-once).
On PostgreSQL the rows are locked `FOR NO KEY UPDATE SKIP LOCKED` (the dispatch's way); on
SQLite, where one writer holds the database, each row is leased by compare-and-set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from registry.core.dialects import is_postgresql
from registry.core.extensions import db
from registry.core.transactions import commit_now
from registry.webhooks.models import WebhookDelivery, WebhookEndpoint

CLAIMED = "the claim's leases hold before the deliveries are sent"


def _due(now: datetime):
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    return ((WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now)
            & or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
            & WebhookDelivery.endpoint_id.in_(enabled))


def claim_due(worker: str, lease: timedelta, now: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due deliveries to `worker`, earliest due first; their ids."""
    due = _due(now)
    values = {"lease_owner": worker, "lease_until": now + lease}
    if is_postgresql(db.session):
        # A MATERIALIZED CTE, run once: as `id IN (subquery)` the planner may rescan it, locking
        # more rows than the LIMIT (see callbacks.dispatch._claim_pg).
        locked = select(WebhookDelivery.id).where(due).order_by(WebhookDelivery.next_attempt_at) \
            .limit(limit).with_for_update(skip_locked=True, key_share=True, of=WebhookDelivery) \
            .cte("locked").prefix_with("MATERIALIZED")
        claimed = list(db.session.scalars(
            update(WebhookDelivery).where(WebhookDelivery.id == locked.c.id).values(**values)
            .returning(WebhookDelivery.id).execution_options(synchronize_session=False)))
    else:
        claimed = []
        candidates = db.session.scalars(select(WebhookDelivery.id).where(due)
                                        .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all()
        for delivery_id in candidates:
            result = db.session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, due).values(**values)
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                claimed.append(delivery_id)
    commit_now(CLAIMED)
    return claimed
