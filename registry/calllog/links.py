"""Expiring, signed download links to a stored recording, of the registry's own (never Twilio's).

A link is `PUBLIC_BASE_URL/api/v1/recordings/<token>`: the token carries the call record's id
and the moment the link expires, signed with `SECRET_KEY` (itsdangerous, salted for this use
alone), so it cannot be forged or extended; whoever holds it until then may fetch the audio.
The `recording.ready` webhook carries one, lasting `RECORDING_LINK_TTL_SECONDS`; an integration
client holding one, expired or not, may have it renewed (`webhooks.recordings.renew_link`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "registry.recording-link"


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_link(record_id: int, ttl_seconds: int | None = None, now: float | None = None) -> Link:
    """A link to the record's recording that works until `ttl_seconds` from now."""
    ttl = current_app.config["RECORDING_LINK_TTL_SECONDS"] if ttl_seconds is None else ttl_seconds
    expires = int(now if now is not None else time.time()) + ttl
    token = _serializer().dumps([record_id, expires])
    return Link(f"{current_app.config['PUBLIC_BASE_URL']}/api/v1/recordings/{token}",
                datetime.fromtimestamp(expires, UTC))


class LinkRefused(Exception):
    def __init__(self, reason: str) -> None:  # "forged" or "expired"
        super().__init__(reason)
        self.reason = reason


def read_token(token: str, now: float | None = None, expired_ok: bool = False) -> int:
    """The call record id a valid token names; LinkRefused if it is forged, or expired (unless
    `expired_ok`: an authentic token whose time ran out, which a marketplace may renew)."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise LinkRefused("forged") from None
    if (not isinstance(payload, list) or len(payload) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in payload)):
        raise LinkRefused("forged")
    record_id, expires = payload
    if not expired_ok and (now if now is not None else time.time()) >= expires:
        raise LinkRefused("expired")
    return record_id
