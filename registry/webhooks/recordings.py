"""`recording.ready`: a call leg's recording is stored in the registry's own storage.

Emitted by the copy job (`calllog.recordings`, through its `on_stored` hook, registered by the
app factory) in the transaction that records the copy. The event carries an expiring, signed
download link of the registry's own (`calllog.links`), never Twilio's URL. Every attempt of a
delivery carries the same body, so one retried after the link expired carries an expired link:
the receiver renews it (`renew_link`)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from registry.calllog.links import Link, LinkRefused, make_link, read_token
from registry.calllog.models import CallRecord
from registry.calllog.recordings import StoredRecording, stored_sid
from registry.core.errors import Forbidden, NotFound
from registry.core.extensions import db
from registry.webhooks.events import emit, iso
from registry.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)


def recording_ready(stored: StoredRecording) -> None:
    link = make_link(stored.record_id)
    emit("recording.ready", {
        "call_record_id": stored.record_id, "merchant_id": stored.merchant_id,
        "callback_id": stored.callback_request_id, "duration": stored.duration_seconds,
        "download_url": link.url, "download_expires_at": iso(link.expires_at),
        "sha256": stored.sha256, "bytes": stored.size, "stored_at": iso(stored.stored_at)})


def renew_link(token: str, client_id: int) -> Link:
    """A fresh link to the recording an authentic link names, however long ago that one expired,
    for a client one of whose endpoints was sent that recording's `recording.ready` event (a
    link that leaked to anyone else stays dead). 403 if the link is forged; 404 if the
    recording is no longer kept, or was never announced to this client."""
    try:
        record_id = read_token(token, expired_ok=True)
    except LinkRefused:
        raise Forbidden("forbidden.recording_link_forged") from None
    record = db.session.get(CallRecord, record_id)
    if record is None or stored_sid(record) is None or not _announced_to(client_id, record_id):
        raise NotFound("not_found.recording")
    log.info("recording link of call record %s renewed for integration client %s", record_id, client_id)
    return make_link(record_id)


def _announced_to(client_id: int, record_id: int) -> bool:
    """Whether an endpoint of the client was given the record's `recording.ready` event."""
    # The body is written by `body_of` from `recording_ready`'s data, call_record_id first.
    opening = f'"data":{{"call_record_id":{record_id},'
    return db.session.scalar(
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookEndpoint.client_id == client_id, WebhookDelivery.event_type == "recording.ready",
               WebhookEvent.body.contains(opening, autoescape=True))
        .limit(1)) is not None
