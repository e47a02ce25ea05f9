"""Who is calling `/api/v1` with an integration key, and what it may do.

A request whose `Authorization: Bearer` token starts with `rk_` is an integration
client's: before its view runs, the key is looked up (`operations.authenticate`); an unknown
or revoked key is refused at once (401). A client is not a user: `current_user` stays
anonymous (the accounts' bearer loader leaves `rk_` tokens alone), and views ask
`current_client()`. A view for clients says which scope it needs with
`@client_required(scope)`: 401 without a client, 403 without the scope.

Every call a client makes is logged after its view (`operations.record_call`, one insert),
in the request's own transaction when it succeeds; a refused call (4xx, 5xx) was rolled
back, so its log row is committed on its own.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Flask, Response, g, request

from registry.core.bearer import bearer_token, is_client_key
from registry.core.errors import Unauthorized
from registry.core.extensions import db
from registry.core.openapi import auth_required_by
from registry.core.transactions import commit_now
from registry.integrations import operations
from registry.integrations.models import IntegrationClient

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def current_client() -> IntegrationClient | None:
    """The integration client making this request, if one is."""
    return g.get("integration_client")


def load_client() -> None:
    """Before an API view: authenticate an `rk_` bearer key, or refuse it (401)."""
    if not request.path.startswith(API_PREFIX):
        return
    token = bearer_token()
    if token is None or not is_client_key(token):
        return
    client = operations.authenticate(token)
    if client is None:
        raise Unauthorized("unauthorized.client_key_invalid")
    g.integration_client = client


def client_required(scope: str | None = None):
    """Require an integration client (401), with `scope` if given (403 without it)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            client = current_client()
            if client is None:
                raise Unauthorized("unauthorized.client_key")
            if scope is not None:
                operations.require_scope(client, scope)
            return view(*args, **kwargs)

        return auth_required_by("clientKey")(wrapped)

    return decorator


def record_client_call(response: Response) -> Response:
    """After a client's request: log the call. A refusal keeps its row (the request rolled back)."""
    client = current_client()
    if client is None:
        return response
    endpoint = request.endpoint or request.path
    try:
        if response.status_code >= 400:
            # Only the log row is kept: whatever the refused view left in the session goes (rows
            # a refusal must keep were committed by the error handler already).
            db.session.rollback()
        operations.record_call(client, request.method, endpoint, response.status_code)
        if response.status_code >= 400:
            commit_now("a refused client call keeps its log row")
    except Exception:  # the call's answer matters more than its log row; say so and go on
        if response.status_code < 400:
            raise
        log.exception("the call of integration client %s could not be logged", client.id)
    return response


def init_client_auth(app: Flask) -> None:
    """Authenticate keys before the views; log the calls after them.

    Registered after the unit of work (`core.transactions`), so the logging step runs before
    the request's commit (Flask runs after-request steps last registered first) and a
    successful call's log row is committed with the rest of it.
    """
    app.before_request(load_client)
    app.after_request(record_client_call)
