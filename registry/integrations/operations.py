"""Integration clients: create one (its key shown once), list, revoke, authenticate a key, check a scope.

A key is `rk_` and 43 URL-safe characters from `secrets.token_urlsafe(32)`: 256 random
bits. Only its SHA-256 is stored. A key that random cannot be guessed or brute-forced from
its hash, so no slow password hash is needed (it would cost every API call tens of
milliseconds for nothing), and no secret key either: an HMAC keyed from `DATA_KEY` would add
nothing against a 256-bit secret, and would tie every client's key to `DATA_KEY`, which
operators must then never rotate. This is how `accounts` stores its bearer tokens too.

A key is looked up by its hash (a unique index): the comparison is of hashes, never of the
key against stored text, so the time it takes tells a caller nothing about any stored key.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from registry.core.bearer import CLIENT_KEY_PREFIX, is_client_key
from registry.core.errors import Conflict, Forbidden, InvalidInput
from registry.core.extensions import db
from registry.core.lookups import get_or_refuse
from registry.core.text import check_text
from registry.core.timeutil import as_utc, utcnow
from registry.integrations.models import SCOPES, IntegrationCall, IntegrationClient

SHOWN_PREFIX = 8  # characters of the key after `rk_` kept in clear, to tell keys apart
MAX_NAME = 100
MAX_KEY = 100  # longer than any key we issue: refused before it is hashed
LAST_USED_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()



def check_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidInput("invalid_type", field="name", name="name")
    name = check_text(name, "name").strip()
    if not name:
        raise InvalidInput("required.not_empty", field="name", name="name")
    if len(name) > MAX_NAME:
        raise InvalidInput("too_long", field="name", name="name", limit=MAX_NAME)
    return name


def check_scopes(scopes: Iterable[object] | None) -> list[str]:
    """The scopes asked for, known and at least one, in `SCOPES`'s order without repeats."""
    asked = list(scopes or ())
    for scope in asked:
        if scope not in SCOPES:
            shown = check_text(scope, "scopes") if isinstance(scope, str) else repr(scope)
            raise InvalidInput("invalid.scope", field="scopes", scope=shown[:40], values=", ".join(SCOPES))
    if not asked:
        raise InvalidInput("required.scope", field="scopes", values=", ".join(SCOPES))
    return [scope for scope in SCOPES if scope in asked]


def create_client(name: object, scopes: Iterable[object] | None,
                  created_by: int | None = None) -> tuple[IntegrationClient, str]:
    """A new client and its key, in clear: the only time the key exists outside the caller."""
    name = check_name(name)
    scopes = check_scopes(scopes)
    key = CLIENT_KEY_PREFIX + secrets.token_urlsafe(32)
    client = IntegrationClient(name=name, scopes=scopes,
                               key_prefix=key[len(CLIENT_KEY_PREFIX):][:SHOWN_PREFIX],
                               key_hash=hash_key(key), created_by=created_by)
    db.session.add(client)
    db.session.flush()
    return client, key


def list_clients() -> list[IntegrationClient]:
    """Every client, newest first, revoked ones included."""
    return list(db.session.scalars(select(IntegrationClient).order_by(IntegrationClient.id.desc())))


def get_client(client_id: int) -> IntegrationClient:
    return get_or_refuse(IntegrationClient, client_id, "not_found.client")


def revoke_client(client_id: int) -> IntegrationClient:
    """Revoke a client's key for good: its next call is refused (401)."""
    client = get_client(client_id)
    if client.revoked:
        raise Conflict("conflict.client_revoked", id=client.id)
    client.revoked_at = utcnow()
    db.session.flush()
    return client


def authenticate(key: str) -> IntegrationClient | None:
    """The client whose key this is, unless it is unknown or revoked."""
    if not is_client_key(key) or len(key) > MAX_KEY:
        return None
    client = db.session.scalar(select(IntegrationClient).where(IntegrationClient.key_hash == hash_key(key)))
    if client is None or client.revoked:
        return None
    return client


def has_scope(client: IntegrationClient, scope: str) -> bool:
    return scope in (client.scopes or ())


def require_scope(client: IntegrationClient, scope: str) -> None:
    """403 unless the client's key has `scope`."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")  # a programming error, not a refusal
    if not has_scope(client, scope):
        raise Forbidden("forbidden.scope", scope=scope)


def record_call(client: IntegrationClient, method: str, endpoint: str, status: int,
                now: datetime | None = None) -> IntegrationCall:
    """Log one call of `client` (one insert), and note when it was last used, at most once a minute."""
    now = as_utc(now) or utcnow()
    call = IntegrationCall(client_id=client.id, method=method[:8], endpoint=endpoint[:100], status=status,
                           created_at=now)
    db.session.add(call)
    last = as_utc(client.last_used_at)
    if last is None or now - last >= LAST_USED_EVERY:
        client.last_used_at = now
    db.session.flush()
    return call


def calls_of(client_id: int, limit: int = 50) -> list[IntegrationCall]:
    """A client's latest calls, newest first."""
    query = (select(IntegrationCall).where(IntegrationCall.client_id == client_id)
             .order_by(IntegrationCall.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def forget_old_calls(days: int, batch: int = 10_000, now: datetime | None = None) -> int:
    """Delete the log rows of client calls older than `days`, a batch at a time; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    removed = 0
    while True:
        ids = db.session.scalars(select(IntegrationCall.id).where(IntegrationCall.created_at < cutoff)
                                 .order_by(IntegrationCall.id).limit(batch)).all()
        if not ids:
            return removed
        db.session.execute(delete(IntegrationCall).where(IntegrationCall.id.in_(ids)))
        removed += len(ids)
