"""Per-account sign-in lockout with exponential back-off, whatever the client's address.

After `LOGIN_MAX_FAILURES` wrong passwords for one email address, sign-in with that address
is refused for `LOGIN_LOCKOUT_SECONDS`; each further failure after a lock ends doubles the
wait, up to `LOGIN_LOCKOUT_MAX_SECONDS`. A successful sign-in clears the count, and a count
left alone for a day starts again. The state is a database row (`LoginThrottle`), so it holds
across processes and restarts; Flask-Limiter's per-address limit stays in front of it.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from registry.accounts.models import LoginThrottle
from registry.core import dialects
from registry.core.ciphers import data_keys
from registry.core.errors import RateLimited
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow

# Failures older than this are forgotten: an occasional typo months apart never locks.
FORGET_AFTER = timedelta(days=1)


def email_keys(email: str) -> list[str]:
    """The address's keyed hash under every key `DATA_KEY` lists, newest first (`email` already
    normalised): failures are stored under the newest; during a key rotation a lock stored
    under an older key still holds (`refuse_if_locked(..., older=...)`)."""
    return [hmac.new(("login-throttle:" + secret).encode(), email.encode(), hashlib.sha256).hexdigest()
            for secret in data_keys(current_app.config["DATA_KEY"])]


def email_key(email: str) -> str:
    """The keyed hash an address's failures are stored under (`email` already normalised)."""
    return email_keys(email)[0]


def _settings() -> tuple[int, int, int]:
    config = current_app.config
    return config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCKOUT_SECONDS"], config["LOGIN_LOCKOUT_MAX_SECONDS"]


def _locked_row(key: str, now: datetime) -> LoginThrottle:
    """The address's row, created without conflict (ON CONFLICT DO NOTHING) if it has none, and
    locked until the request ends (FOR UPDATE on PostgreSQL; SQLite has one writer)."""
    db.session.execute(dialects.insert_ignore(LoginThrottle.__table__, dialects.flavour(),
                                              index_elements=["email_hash"])
                       .values(email_hash=key, failures=0, last_failure_at=now))
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.email_hash == key)
                             .with_for_update().execution_options(populate_existing=True))


def refuse_if_locked(key: str, now: datetime | None = None, older: list[str] | None = None) -> LoginThrottle:
    """Raise `RateLimited("login_locked")` while the address is locked; the password is not
    even checked then, for an account or for an address without one alike. Otherwise the
    address's row, for `record_failure`.

    The row stays locked until the request ends, so sign-ins of one address are checked one
    after another: however many arrive at once, no more than the limit have their password
    checked before the lock is seen."""
    now = now or utcnow()
    if older:  # a rotation of DATA_KEY: a lock stored under an older key holds to its end
        until = db.session.scalar(select(func.max(LoginThrottle.locked_until))
                                  .where(LoginThrottle.email_hash.in_(older)))
        if until is not None and as_utc(until) > now:
            raise RateLimited("login_locked", retry_after=(as_utc(until) - now).total_seconds())
    row = _locked_row(key, now)
    if row.locked_until is not None and as_utc(row.locked_until) > now:
        raise RateLimited("login_locked", retry_after=(as_utc(row.locked_until) - now).total_seconds())
    return row


def record_failure(row: LoginThrottle, now: datetime | None = None) -> None:
    """Count a wrong password on the address's row (from `refuse_if_locked`, still locked),
    locking the address once the count reaches the limit."""
    limit, first_lock, longest_lock = _settings()
    if limit <= 0:
        return  # lockout switched off
    now = now or utcnow()
    if row.failures and now - as_utc(row.last_failure_at) > FORGET_AFTER:
        row.failures, row.locked_until = 0, None
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= limit:
        doublings = min(row.failures - limit, 30)  # 2**30 minutes is past any sane cap
        row.locked_until = now + timedelta(seconds=min(first_lock * 2**doublings, longest_lock))
    db.session.flush()


def clear(*keys: str) -> None:
    """Forget the address's failures (after a successful sign-in), under each of its `keys`."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email_hash.in_(keys)))


def forget_stale(now: datetime | None = None) -> int:
    """Delete the rows of addresses whose failures are forgotten anyway (older than a day) and
    that are not locked: one row per address ever tried would otherwise pile up. Returns how many."""
    now = now or utcnow()
    stale = delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - FORGET_AFTER,
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now))
    return db.session.execute(stale).rowcount
