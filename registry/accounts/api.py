"""JSON API: accounts and bearer tokens."""

from flask import Blueprint, current_app, jsonify

from registry.accounts import operations
from registry.core.api import json_body, text_field
from registry.core.extensions import db, limiter

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


@bp.post("/accounts")
@limiter.limit(_auth_limit)
def create_account():
    body = json_body()
    user = operations.create_user(
        text_field(body, "email", max_length=254), text_field(body, "password", max_length=256)
    )
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    return jsonify({"id": user.id, "email": user.email, "role": user.role}), 201


@bp.post("/auth/token")
@limiter.limit(_auth_limit)
def create_token():
    body = json_body()
    user = operations.authenticate(
        text_field(body, "email", max_length=254), text_field(body, "password", max_length=256)
    )
    token = operations.issue_token(user)
    return jsonify({"token": token, "role": user.role}), 201
