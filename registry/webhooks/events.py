"""The outbox: `emit(type, data)` writes an event and its deliveries in the caller's transaction.

Who receives an event: every enabled endpoint subscribed to its type (`WEBHOOK_AUDIENCE=all`, the
default: a client is a marketplace back end of this one installation, so it hears about every
store, callback and call of it). With `WEBHOOK_AUDIENCE=owner`, an event about objects some
clients own (the store a client imported, the binding or callback a client made) goes only to
those clients' endpoints, as the API lets only them read the objects; an event no client owns
(`pool.low`, a store that signed up by itself) still goes to every subscriber. The owners are
found by a hook of a layer above (`on_audience`, registered by the app factory), since the
objects are its features'. `ping` (an endpoint's test) goes to that endpoint alone.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow
from registry.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

# The event names clients subscribe to (fixed: renaming one breaks every receiver).
EVENT_TYPES = (
    "callback.scheduled", "callback.calling", "callback.completed", "callback.failed",
    "callback.expired", "callback.canceled",
    "call.completed", "recording.ready",
    "complaint.created", "complaint.resolved",
    "number.verified", "number.lapsed",
    "binding.ended", "pool.low",
)
PING = "ping"


def new_msg_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def iso(moment: datetime | None) -> str | None:
    """A moment as ISO 8601 in UTC with its offset (`2026-05-01T01:30:00+00:00`): the way the
    JSON API writes every time (`core.openapi.Timestamp`), so a client parses both alike."""
    return None if moment is None else as_utc(moment).isoformat()


def body_of(event_type: str, data: dict, moment: datetime) -> str:
    """The body every attempt sends, byte for byte: `{"type", "timestamp", "data"}`."""
    return json.dumps({"type": event_type, "timestamp": iso(moment), "data": data},
                      separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Emitted:
    """An event written to the outbox."""

    id: int
    msg_id: str
    type: str
    body: str


def subscribers(event_type: str, clients: set[int] | None = None) -> list[int]:
    """Ids of the enabled endpoints subscribed to `event_type` (of those `clients` only, if given).

    Read once per transaction (a job ending many bindings, a claim of many callbacks, emits
    event after event): kept in the session, for the transaction it was read in."""
    session = db.session()
    transaction = session.get_transaction()
    cached = session.info.get(_SUBSCRIBERS)
    if cached is None or cached[0] is not transaction or transaction is None:
        rows = session.execute(select(WebhookEndpoint.id, WebhookEndpoint.client_id, WebhookEndpoint.events)
                               .where(WebhookEndpoint.enabled.is_(True))).all()
        cached = (session.get_transaction(), [(row.id, row.client_id, set(row.events or ())) for row in rows])
        session.info[_SUBSCRIBERS] = cached
    return [endpoint_id for endpoint_id, client_id, types in cached[1]
            if event_type in types and (clients is None or client_id in clients)]


def on_audience(app, owners: Callable[[dict], set[int]]) -> None:
    """Register how to find the clients that own what an event's data names (its `merchant_id`,
    `binding_id`, `callback_id`), for `WEBHOOK_AUDIENCE=owner`."""
    app.extensions["webhook_owners"] = owners


def _audience(data: dict) -> set[int] | None:
    """The clients whose endpoints may hear an event with `data`: None for every subscriber."""
    from flask import current_app

    if current_app.config.get("WEBHOOK_AUDIENCE", "all") != "owner":
        return None
    return current_app.extensions["webhook_owners"](data) or None


_SUBSCRIBERS = "webhook_subscribers"


def forget_subscribers() -> None:
    """After an endpoint changes: the next `emit` reads the subscribers again."""
    db.session().info.pop(_SUBSCRIBERS, None)


def emit(event_type: str, data: dict, endpoint_ids: list[int] | None = None,
         retries: int | None = None) -> Emitted | None:
    """Queue `event_type` with `data` for its subscribers (or `endpoint_ids`), in the current
    session: committed with the caller's change, or rolled back with it. Only flushes.

    `data` must hold no real phone number (masked ones only). Nothing is written when no
    endpoint is subscribed. Returns the event, if one was written."""
    if event_type not in EVENT_TYPES and event_type != PING:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    targets = subscribers(event_type) if endpoint_ids is None else list(endpoint_ids)
    # Who owns the event's objects is asked only when someone listens.
    if targets and endpoint_ids is None and (owners := _audience(data)) is not None:
        targets = subscribers(event_type, owners)
    if not targets:
        return None
    from flask import current_app

    schedule = current_app.config["WEBHOOK_RETRY_SCHEDULE"]
    now = utcnow()
    msg_id, body = new_msg_id(), body_of(event_type, data, now)
    event_id = db.session.execute(
        insert(WebhookEvent.__table__).returning(WebhookEvent.__table__.c.id),
        {"msg_id": msg_id, "type": event_type, "body": body, "created_at": now}).scalar_one()
    event = Emitted(event_id, msg_id, event_type, body)
    db.session.execute(insert(WebhookDelivery.__table__), [
        {"endpoint_id": endpoint_id, "event_id": event.id, "msg_id": event.msg_id,
         "event_type": event_type, "status": "pending", "attempts": 0,
         "retries_left": len(schedule) if retries is None else retries,
         "next_attempt_at": now, "created_at": now}
        for endpoint_id in targets])
    return event
