"""What the staff console reads about webhooks: every endpoint with its success rate, the latest
deliveries, and a redelivery (any client's: staff act for the platform)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import selectinload

from registry.core.errors import Conflict, NotFound
from registry.core.extensions import db
from registry.core.timeutil import utcnow
from registry.integrations.models import IntegrationClient
from registry.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from registry.webhooks.operations import requeue

WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class EndpointHealth:
    endpoint: WebhookEndpoint
    client_name: str
    attempts: int  # in the window
    succeeded: int

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.attempts if self.attempts else None


def endpoint_health(now: datetime | None = None) -> list[EndpointHealth]:
    """Every endpoint, with its attempts and successes over the last seven days."""
    since = (now or utcnow()) - WINDOW
    counts = {row.endpoint_id: (row.attempts, row.succeeded or 0) for row in db.session.execute(
        select(WebhookDelivery.endpoint_id, func.count(WebhookAttempt.id).label("attempts"),
               func.sum(func.cast(WebhookAttempt.succeeded, Integer)).label("succeeded"))
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookAttempt.started_at >= since).group_by(WebhookDelivery.endpoint_id))}
    rows = db.session.execute(select(WebhookEndpoint, IntegrationClient.name)
                              .join(IntegrationClient, IntegrationClient.id == WebhookEndpoint.client_id)
                              .order_by(WebhookEndpoint.id)).all()
    return [EndpointHealth(endpoint, name, *counts.get(endpoint.id, (0, 0))) for endpoint, name in rows]


def recent_deliveries(endpoint_id: int | None = None, limit: int = 50) -> list[WebhookDelivery]:
    """The latest deliveries, newest first (of one endpoint if given), with their log."""
    query = select(WebhookDelivery).options(selectinload(WebhookDelivery.log)) \
        .order_by(WebhookDelivery.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return list(db.session.scalars(query))


def redeliver(delivery_id: int) -> WebhookDelivery:
    """Staff's "Redeliver": one more attempt soon, with the same `webhook-id`."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("not_found.webhook_delivery")
    if delivery.status == "pending":
        raise Conflict("conflict.webhook_delivery_pending", id=delivery.id, status=delivery.status)
    return requeue(delivery)
