"""JSON API: accounts and bearer tokens."""

from flask import Blueprint, current_app

from registry.accounts import operations
from registry.core.extensions import db, limiter
from registry.core.openapi import ApiModel, LenientModel, Text, operation

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")

class Credentials(LenientModel):
    """An email and a password."""

    email: Text(254)
    password: Text(256)


class Account(ApiModel):
    id: int
    email: str
    role: str


class Token(ApiModel):
    """A bearer token for `Authorization: Bearer …`, and the role it acts as."""

    token: str
    role: str


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


@bp.post("/accounts")
@limiter.limit(_auth_limit)
@operation(body=Credentials, responses={201: Account}, errors=(409,), tags=("accounts",))
def create_account(body: Credentials):
    """Create a merchant account."""
    user = operations.create_user(body.email, body.password)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return Account(id=user.id, email=user.email, role=user.role), 201


@bp.post("/auth/token")
@limiter.limit(_auth_limit)
@operation(body=Credentials, responses={201: Token}, errors=(401,), tags=("accounts",))
def create_token(body: Credentials):
    """Exchange an email and password for a bearer token."""
    user = operations.authenticate(body.email, body.password)
    return Token(token=operations.issue_token(user), role=user.role), 201

