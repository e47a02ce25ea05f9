"""Guarding Twilio's webhooks: only requests Twilio signed get through."""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import urlencode

from flask import Response, abort, current_app, request, url_for

from registry.telephony import get_gateway

log = logging.getLogger(__name__)


def public_url() -> str:
    """The URL Twilio requested, as it signed it: on `PUBLIC_BASE_URL`."""
    path = request.full_path if request.query_string else request.path
    return current_app.config["PUBLIC_BASE_URL"] + path


def twilio_signed(view):
    """403, and nothing stored, unless `X-Twilio-Signature` matches the request."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        signature = request.headers.get("X-Twilio-Signature")
        if not get_gateway().signature_is_valid(public_url(), request.form, signature):
            log.warning("refused a webhook with a missing or wrong signature on %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def twiml(document: str) -> Response:
    return Response(document, mimetype="text/xml")


def webhook_url(endpoint: str, **values) -> str:
    """An absolute URL of one of the app's webhooks, on `PUBLIC_BASE_URL`; `values` go in
    its query string (no webhook route has path arguments).

    Each endpoint's URL is built once per app: `url_for` is a real part of a
    routed call's cost, and the answer never changes.
    """
    bases = current_app.extensions.setdefault("webhook_urls", {})
    base = bases.get(endpoint)
    if base is None:
        base = bases[endpoint] = current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint)
    query = urlencode([(key, value) for key, value in values.items() if value is not None])
    return f"{base}?{query}" if query else base
