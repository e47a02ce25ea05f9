"""A client's webhook endpoints: create, change, delete, test, rotate the secret; the delivery
log and a redelivery. Plain functions of plain values that flush; each takes the client id, and
another client's endpoint or delivery is not found (404), never forbidden (403)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import delete, select

from registry.core import cursors
from registry.core.errors import Conflict, NotFound
from registry.core.extensions import db
from registry.core.timeutil import utcnow
from registry.webhooks import events
from registry.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from registry.webhooks.safety import check_url
from registry.webhooks.secrets import new_secret


def create_endpoint(client_id: int, url: str, event_types: list[str], description: str | None,
                    config: Mapping) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, in clear (shown to the client once)."""
    secret = new_secret()
    endpoint = WebhookEndpoint(client_id=client_id, url=check_url(url, config),
                               events=_unique(event_types), description=description or None,
                               enabled=True, secret=secret, created_at=utcnow())
    db.session.add(endpoint)
    db.session.flush()
    events.forget_subscribers()
    return endpoint, secret


def _unique(event_types: list[str]) -> list[str]:
    return list(dict.fromkeys(event_types))


def endpoints_of(client_id: int) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.client_id == client_id)
                                   .order_by(WebhookEndpoint.id)))


def endpoint_of(client_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.client_id != client_id:
        raise NotFound("not_found.webhook_endpoint")
    return endpoint


def update_endpoint(client_id: int, endpoint_id: int, config: Mapping, *, url: str | None = None,
                    event_types: list[str] | None = None, enabled: bool | None = None,
                    description: str | None = None) -> WebhookEndpoint:
    """Change what is given. Enabling an endpoint the registry disabled clears the reason and
    lets its waiting deliveries go."""
    endpoint = endpoint_of(client_id, endpoint_id)
    if url is not None:
        endpoint.url = check_url(url, config)
    if event_types is not None:
        endpoint.events = _unique(event_types)
    if description is not None:
        endpoint.description = description or None
    if enabled is not None:
        if enabled and not endpoint.enabled:
            endpoint.disabled_reason, endpoint.failing_since = None, None
        endpoint.enabled = enabled
    db.session.flush()
    events.forget_subscribers()
    return endpoint


def delete_endpoint(client_id: int, endpoint_id: int) -> None:
    """Delete the endpoint with its deliveries and their log."""
    endpoint = endpoint_of(client_id, endpoint_id)
    # Explicitly, child rows first: SQLite does not enforce the foreign keys' ON DELETE CASCADE.
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()
    events.forget_subscribers()


def rotate_secret(client_id: int, endpoint_id: int, overlap: timedelta) -> tuple[WebhookEndpoint, str]:
    """A new secret; the one it replaces still signs (a second signature) for `overlap`."""
    endpoint = endpoint_of(client_id, endpoint_id)
    secret = new_secret()
    endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, utcnow() + overlap
    endpoint.secret = secret
    db.session.flush()
    return endpoint, secret


def send_test(client_id: int, endpoint_id: int) -> WebhookDelivery:
    """Queue a `ping` event for this endpoint alone (sent by the scheduler like any other)."""
    endpoint = endpoint_of(client_id, endpoint_id)
    event = events.emit(events.PING, {"endpoint_id": endpoint.id}, endpoint_ids=[endpoint.id])
    return db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)).one()


def deliveries_of(client_id: int, endpoint_id: int, cursor: str | None,
                  per_page: int) -> tuple[list[WebhookDelivery], str | None]:
    """One page of the endpoint's deliveries, newest first, and the next page's cursor."""
    endpoint_of(client_id, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    return cursors.page(query, WebhookDelivery.id, "d", cursor, per_page)


def delivery_of(client_id: int, delivery_id: int) -> WebhookDelivery:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint.client_id != client_id:
        raise NotFound("not_found.webhook_delivery")
    return delivery


def retry_delivery(client_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a finished delivery once more, now, with its `webhook-id` (receivers that processed
    it already see a duplicate). One attempt: no schedule follows a manual retry."""
    delivery = delivery_of(client_id, delivery_id)
    if delivery.status == "pending":
        raise Conflict("conflict.webhook_delivery_pending", id=delivery.id, status=delivery.status)
    return requeue(delivery)


def requeue(delivery: WebhookDelivery) -> WebhookDelivery:
    delivery.status, delivery.retries_left = "pending", 0
    delivery.next_attempt_at, delivery.finished_at = utcnow(), None
    delivery.lease_owner = delivery.lease_until = None
    db.session.flush()
    return delivery


__all__ = ["WebhookEvent", "create_endpoint", "delete_endpoint", "deliveries_of",
           "endpoint_of", "endpoints_of", "retry_delivery", "rotate_secret", "send_test",
           "update_endpoint"]
