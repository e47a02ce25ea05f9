"""Claiming due deliveries with a lease, so any number of schedulers send each attempt once.

A delivery is due when it is `pending`, its `next_attempt_at` has come, no scheduler's lease on
it is still running, and its endpoint is enabled. A claim stores this scheduler's lease and
commits it before anything is sent: other schedulers pass over the delivery until the lease
ends. A scheduler killed after the POST but before recording it leaves a lease that runs out;
the delivery is then claimed and sent again, with the same `webhook-id` (at-least-once).
The rows are leased as the dispatch leases callbacks (`core.dialects.lease_rows`): locked
`FOR NO KEY UPDATE SKIP LOCKED` on PostgreSQL, compare-and-set on SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from registry.core.dialects import lease_rows
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
    leased = lease_rows(WebhookDelivery, _due(now), WebhookDelivery.next_attempt_at,
                        {"lease_owner": worker, "lease_until": now + lease}, limit)
    commit_now(CLAIMED)
    return [row.id for row in leased]
