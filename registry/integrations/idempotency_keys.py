"""Idempotency keys: hold a client's key while its request runs, remember the answer, replay it.

A client's POST may carry `Idempotency-Key` (`integrations.idempotency` reads it). Keys are the
client's own: two clients may use the same one. A key names one request, told by its
*fingerprint* (the method, the path with its query string, and the SHA-256 of the body's bytes,
hashed with a key from `DATA_KEY`, since a body holds a phone number). The answer kept is
encrypted with `DATA_KEY`, as phone numbers are: it may hold what only its client may see.

- a new key is *held* (a row with a random `lease` and no `status`) before the request's work
  runs; once the work has succeeded, the answer is stored in the same transaction and the hold
  ends (`complete`); a request that fails lets go of its hold (`release`), so a retry runs;
- the same key and fingerprint again: the stored answer (`Answered`), nothing run again; while
  the first request still runs, 409 `idempotency.in_progress` with `Retry-After`;
- the same key with another fingerprint: 422 `idempotency.key_reused`;
- a hold older than the lease (its request died without letting go) is taken over; the old
  request, should it still be running, then cannot store its answer (`complete` is fenced by
  the lease) and its work is rolled back, so the work never runs to completion twice;
- a key older than the retention (at least 24 h) is forgotten: the same key is a new request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from registry.core.dialects import flavour, insert_ignore
from registry.core.errors import BadRequest, Conflict, InvalidInput
from registry.core.extensions import db
from registry.core.phones import get_cipher
from registry.core.timeutil import as_utc, utcnow
from registry.integrations.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY = 255
MIN_TTL_HOURS = 24
IN_PROGRESS_RETRY_SECONDS = 1
_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # 1 to MAX_KEY printable ASCII characters
_TABLE = IdempotencyKey.__table__


class InProgress(Conflict):
    """409: a request with this key is still running. Come back in `retry_after` seconds."""

    def __init__(self, retry_after: int = IN_PROGRESS_RETRY_SECONDS):
        self.retry_after = retry_after
        super().__init__("idempotency.in_progress", field=HEADER, retry_after=retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Held:
    """This request holds the key: it runs, then `complete` or `release`."""

    id: int
    lease: str


@dataclass(frozen=True)
class Answered:
    """The key's request already ran: its answer, to replay (the JSON's bytes; None for none)."""

    status: int
    body: bytes | None


def check_key(value: str) -> str:
    """The key as sent, if it is 1 to 255 printable ASCII characters (400 otherwise)."""
    if not _KEY.fullmatch(value):
        raise BadRequest("idempotency.invalid_key", field=HEADER, limit=MAX_KEY)
    return value


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """What makes two requests "the same": method, path and query string, and the body's bytes.

    Keyed (`DATA_KEY`, as phone numbers' lookup hashes are): a body holds a shopper's number.
    """
    return fingerprints(method, path, query, body)[0]


def fingerprints(method: str, path: str, query: bytes, body: bytes) -> tuple[str, ...]:
    """The fingerprint under every key `DATA_KEY` lists, newest first: during a key rotation a
    retry of a request held under an older key is still "the same"."""
    target = f"{method.upper()} {path}?{query.decode('latin-1')}"
    return tuple(get_cipher().lookup_hashes(f"{target}\n{hashlib.sha256(body).hexdigest()}"))


def cutoff(ttl_hours: int, now: datetime) -> datetime:
    """Keys created before this are forgotten (never less than 24 hours ago)."""
    return now - timedelta(hours=max(ttl_hours, MIN_TTL_HOURS))


def claim(client_id: int, key: str, method: str, path: str, print_: str | tuple[str, ...], *,
          ttl_hours: int, lease_seconds: int, now: datetime | None = None) -> Held | Answered:
    """Hold `key` for this request, or say what the request it names answered.

    Refuses with 422 (`idempotency.key_reused`) when the key named another request, and 409
    (`InProgress`) while that request still runs. Flushes; the caller commits the hold before
    the work runs, so that a concurrent request sees it.
    """
    now = now or utcnow()
    prints = (print_,) if isinstance(print_, str) else print_
    print_ = prints[0]
    lease = secrets.token_hex(16)
    for _attempt in range(3):
        db.session.execute(insert_ignore(_TABLE, flavour(), ["client_id", "key"]).values(
            client_id=client_id, key=key, method=method[:8], path=path[:255], fingerprint=print_,
            lease=lease, locked_at=now, created_at=now))
        row = db.session.execute(
            select(_TABLE.c.id, _TABLE.c.lease, _TABLE.c.fingerprint, _TABLE.c.status, _TABLE.c.body,
                   _TABLE.c.locked_at, _TABLE.c.created_at)
            .where(_TABLE.c.client_id == client_id, _TABLE.c.key == key)).one_or_none()
        if row is None:  # forgotten between the insert and the read: try again
            continue
        if row.lease == lease:
            return Held(row.id, lease)
        if as_utc(row.created_at) < cutoff(ttl_hours, now):
            # Expired but not yet swept away: the key is new again.
            db.session.execute(delete(_TABLE).where(_TABLE.c.id == row.id,
                                                    _TABLE.c.created_at == row.created_at))
            continue
        if row.fingerprint not in prints:
            raise InvalidInput("idempotency.key_reused", field=HEADER)
        if row.status is not None:
            return Answered(row.status, _opened(row.body))
        if as_utc(row.locked_at) <= now - timedelta(seconds=lease_seconds) and _take_over(row, lease, now):
            return Held(row.id, lease)
        raise InProgress()
    raise InProgress()


def _take_over(row, lease: str, now: datetime) -> bool:
    """Take the hold of a request that outlived its lease (it died without letting go)."""
    taken = db.session.execute(
        update(_TABLE).where(_TABLE.c.id == row.id, _TABLE.c.lease == row.lease, _TABLE.c.status.is_(None))
        .values(lease=lease, locked_at=now))
    return taken.rowcount == 1


def complete(held: Held, status: int, body: bytes | None, now: datetime | None = None) -> bool:
    """Store the held request's answer (its JSON's bytes, or None), in its own transaction; False
    if its hold was taken over meanwhile (the request must then fail, so its work is not stored)."""
    sealed = get_cipher().encrypt(body.decode("utf-8")) if body else None
    stored = db.session.execute(
        update(_TABLE).where(_TABLE.c.id == held.id, _TABLE.c.lease == held.lease, _TABLE.c.status.is_(None))
        .values(status=status, body=sealed, lease=None, completed_at=now or utcnow()))
    return stored.rowcount == 1


def _opened(sealed: str | None) -> bytes | None:
    return get_cipher().decrypt(sealed).encode("utf-8") if sealed else None


def release(held: Held) -> bool:
    """Let go of a hold whose request did not store an answer (it failed), so a retry runs.
    A completed key is left alone."""
    released = db.session.execute(
        delete(_TABLE).where(_TABLE.c.id == held.id, _TABLE.c.lease == held.lease, _TABLE.c.status.is_(None)))
    return released.rowcount == 1


def forget_expired(ttl_hours: int, now: datetime | None = None) -> int:
    """Delete the keys older than the retention (the scheduler's job); how many went."""
    gone = db.session.execute(delete(_TABLE).where(_TABLE.c.created_at < cutoff(ttl_hours, now or utcnow())))
    return gone.rowcount or 0
