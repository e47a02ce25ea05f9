"""The outbox: `emit(type, data)` writes an event and its deliveries in the caller's transaction.

Who receives an event: every enabled endpoint subscribed to its type. A client is a marketplace
back end of this one installation, so it hears about every store, callback and call of it; an
installation serving marketplaces that must not see each other's stores runs one registry each.
`ping` (an endpoint's test) goes to that endpoint alone.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import insert, select

from registry.core.extensions import db
from registry.core.timeutil import utcnow
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
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def body_of(event_type: str, data: dict, moment: datetime) -> str:
    """The body every attempt sends, byte for byte: `{"type", "timestamp", "data"}`."""
    return json.dumps({"type": event_type, "timestamp": iso(moment), "data": data},
                      separators=(",", ":"), ensure_ascii=False, default=str)


def subscribers(event_type: str) -> list[int]:
    """Ids of the enabled endpoints subscribed to `event_type`."""
    rows = db.session.execute(select(WebhookEndpoint.id, WebhookEndpoint.events)
                              .where(WebhookEndpoint.enabled.is_(True))).all()
    return [row.id for row in rows if event_type in (row.events or ())]


def emit(event_type: str, data: dict, endpoint_ids: list[int] | None = None,
         retries: int | None = None) -> WebhookEvent | None:
    """Queue `event_type` with `data` for its subscribers (or `endpoint_ids`), in the current
    session: committed with the caller's change, or rolled back with it. Only flushes.

    `data` must hold no real phone number (masked ones only). Nothing is written when no
    endpoint is subscribed. Returns the event, if one was written."""
    if event_type not in EVENT_TYPES and event_type != PING:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    targets = subscribers(event_type) if endpoint_ids is None else list(endpoint_ids)
    if not targets:
        return None
    from flask import current_app

    schedule = current_app.config["WEBHOOK_RETRY_SCHEDULE"]
    now = utcnow()
    event = WebhookEvent(msg_id=new_msg_id(), type=event_type, body=body_of(event_type, data, now),
                         created_at=now)
    db.session.add(event)
    db.session.flush()
    db.session.execute(insert(WebhookDelivery), [
        {"endpoint_id": endpoint_id, "event_id": event.id, "msg_id": event.msg_id,
         "event_type": event_type, "status": "pending", "attempts": 0,
         "retries_left": len(schedule) if retries is None else retries,
         "next_attempt_at": now, "created_at": now}
        for endpoint_id in targets])
    return event
