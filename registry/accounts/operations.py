"""Account rules: sign-up, password checks, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from registry.accounts import lockout
from registry.accounts.models import ROLES, ApiToken, User
from registry.core.bearer import is_client_key
from registry.core.errors import Conflict, InvalidInput, Unauthorized
from registry.core.extensions import db
from registry.core.timeutil import as_utc, utcnow

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
TOKEN_LIFETIME = timedelta(days=30)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidInput("invalid.email", field="email")
    return email


def check_new_password(password: str) -> None:
    """A password one may choose: MIN_PASSWORD_LENGTH to MAX_PASSWORD_LENGTH characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("invalid.password_short", field="password", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("invalid.password_long", field="password")


def create_user(email: str, password: str, role: str = "merchant") -> User:
    """Create an account; the email must be new."""
    if role not in ROLES:
        raise InvalidInput("invalid.role", field="role", values=", ".join(ROLES))
    email = normalise_email(email)
    check_new_password(password)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("conflict.email_taken", field="email")
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    db.session.flush()
    return user


@cache
def _decoy_hash() -> str:
    """A hash to check a password against when the address has no account, so that the answer
    takes as long as for one that has (the time must not tell which addresses exist)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User:
    """The active user with these credentials, or `Unauthorized`.

    Per address, known or not (`accounts.lockout`): while it is locked after too many wrong
    passwords, `RateLimited("login_locked")` without checking the password; a wrong password
    counts (the count is kept although the request is refused); a right one clears the count.
    """
    email = email.strip().lower()
    key, *older = lockout.email_keys(email)
    throttle = lockout.refuse_if_locked(key, older=older)
    user = db.session.scalar(select(User).where(User.email == email))
    matches = check_password_hash(user.password_hash if user else _decoy_hash(), password)
    if user is None or not user.active or not matches:
        lockout.record_failure(throttle)
        raise Unauthorized("invalid_credentials", keeps_audit=True)
    lockout.clear(key, *older)
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> str:
    """A new bearer token for `user`; the clear token is returned once, never stored."""
    token = secrets.token_urlsafe(32)
    while is_client_key(token):  # those are integration clients' keys
        token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user=user, token_hash=_hash_token(token), expires_at=utcnow() + TOKEN_LIFETIME)
    )
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, if it is known and unexpired."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or as_utc(row.expires_at) <= utcnow() or not row.user.active:
        return None
    return row.user


def count_users(role: str) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == role)) or 0
