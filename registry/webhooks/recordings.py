"""`recording.ready`: a call leg's recording is stored in the registry's own storage.

Emitted by the copy job (`calllog.recordings`, through its `on_stored` hook, registered by the
app factory) in the transaction that records the copy. The event carries an expiring, signed
download link of the registry's own (`calllog.links`), never Twilio's URL."""

from __future__ import annotations

from registry.calllog.links import make_link
from registry.calllog.recordings import StoredRecording
from registry.webhooks.events import emit, iso


def recording_ready(stored: StoredRecording) -> None:
    link = make_link(stored.record_id)
    emit("recording.ready", {
        "call_record_id": stored.record_id, "merchant_id": stored.merchant_id,
        "callback_id": stored.callback_request_id, "duration": stored.duration_seconds,
        "download_url": link.url, "download_expires_at": iso(link.expires_at),
        "sha256": stored.sha256, "bytes": stored.size, "stored_at": iso(stored.stored_at)})
