"""Knowing the shopper: a shopper bearer token, or the shopper's browser session."""

from __future__ import annotations

from functools import wraps

from flask import g, session

from registry.core.bearer import SHOPPER_TOKEN_PREFIX, bearer_token
from registry.core.errors import Unauthorized
from registry.core.extensions import db
from registry.core.openapi import auth_required_by
from registry.shoppers.models import Shopper

SESSION_KEY = "shopper_id"


def current_shopper() -> Shopper | None:
    """The shopper making this request, if any (cached on `g`)."""
    if "shopper" in g:
        return g.shopper
    from registry.shoppers.operations import shopper_for_token

    shopper = None
    token = bearer_token()
    if token is not None and token.startswith(SHOPPER_TOKEN_PREFIX):
        shopper = shopper_for_token(token)
    elif session.get(SESSION_KEY):
        shopper = db.session.get(Shopper, session[SESSION_KEY])
    g.shopper = shopper
    return shopper


def remember_shopper(shopper: Shopper) -> None:
    """Sign the browser in as this shopper (after the code check)."""
    session[SESSION_KEY] = shopper.id
    g.shopper = shopper


def shopper_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_shopper() is None:
            raise Unauthorized("unauthorized.prove_phone")
        return view(*args, **kwargs)

    return auth_required_by("shopperToken", "session")(wrapped)
