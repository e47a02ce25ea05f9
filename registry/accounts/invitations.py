"""Accounts made for someone else (a store's owner, by an import) and the link to set their password.

An invited account has no password yet: its hash is a marker no password matches, so nobody can
sign in to it until its owner opens the set-password link and chooses one. The link's token is
signed with the app's secret (itsdangerous), expires after `LINK_MAX_AGE`, and carries a
fingerprint of the account's current password hash: once a password is set the hash changes, so
the link works once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from registry.accounts.models import User
from registry.accounts.operations import check_new_password, normalise_email
from registry.core.errors import Conflict, InvalidInput
from registry.core.extensions import db

LINK_MAX_AGE = timedelta(days=7)
_UNSET = "!unset!"  # no werkzeug hash starts so: check_password_hash never matches it
_SALT = "registry.set-password"


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def invite_user(email: str, role: str = "merchant", *, checked: bool = False) -> User:
    """A new account without a password (its owner sets one by the link). `checked`: the caller
    has just looked the address up and found no account."""
    email = normalise_email(email)
    if not checked and user_by_email(email) is not None:
        raise Conflict("conflict.email_taken", field="email")
    user = User(email=email, password_hash=_UNSET + secrets.token_hex(16), role=role)
    db.session.add(user)
    db.session.flush()
    return user


def has_password(user: User) -> bool:
    return not user.password_hash.startswith(_UNSET)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def set_password_token(user: User, secret_key: str) -> str:
    """A signed token for the set-password link of `user`, good once, for `LINK_MAX_AGE`."""
    return _serializer(secret_key).dumps([user.id, _fingerprint(user)])


def user_for_set_password(token: str, secret_key: str) -> User:
    """The account a set-password token is for, or a refusal (bad, expired or used link)."""
    try:
        user_id, fingerprint = _serializer(secret_key).loads(
            token, max_age=int(LINK_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise InvalidInput("invalid.set_password_link_expired", field="token") from None
    except (BadSignature, ValueError, TypeError):
        raise InvalidInput("invalid.set_password_link", field="token") from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or fingerprint != _fingerprint(user):
        raise InvalidInput("invalid.set_password_link", field="token")
    return user


def set_password(token: str, password: str, secret_key: str) -> User:
    """Set the password of the link's account; the link then stops working."""
    user = user_for_set_password(token, secret_key)
    check_new_password(password)
    user.password_hash = generate_password_hash(password)
    db.session.flush()
    return user


def set_password_url(token: str) -> str:
    """The absolute link of a set-password token, on `PUBLIC_BASE_URL` (what the owner opens)."""
    from flask import current_app, url_for

    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("accounts.set_password",
                                                                       token=token)
