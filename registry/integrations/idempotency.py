"""`@idempotent`: an `Idempotency-Key` header on an integration client's POST.

    @bp.post("/bindings")
    @client_required("bindings")
    @idempotent
    @operation(body=BindingRequest, responses={201: Binding, 200: Binding}, errors=(404, 409))
    def create_binding(body: BindingRequest):
        ...

Below the authentication (a request refused 401/403 holds no key), above `@operation` (a
replay answers before the body is parsed, and the answer kept is the JSON `@operation` made).
The header is optional: without it, or from a caller that is not an integration client, the
view runs as it always has. The rules are in `idempotency_keys`; the document shows the header
and the refusals on every operation so marked (`core.openapi.documents`).

The body is read (and hashed) before the view runs, within `request.max_content_length`: a view
that takes bodies larger than `MAX_CONTENT_LENGTH` (an import) must raise that limit before
this decorator runs (in a `before_request` of its blueprint, or a decorator above this one).

How it fits the one commit per request (`core.transactions`): the key is held (inserted) and
committed *before* the work runs, so that a retry sent meanwhile finds it and is told 409
rather than running the work too; the answer is stored in the request's own transaction, so
it is committed exactly when the work is. A request that did not store its answer (a refusal,
a 5xx, a commit that failed) lets go of the key when it ends (`release_unfinished`, a teardown
step, which runs after the request's commit); one killed outright leaves it held until the
lease (`IDEMPOTENCY_LEASE_SECONDS`) runs out.

Only successful answers (below 400) are remembered. A refusal changed nothing (the product
rolls a refused request back), so running it again is harmless, and a client that fixes its
request may send it with the same key; a 409 or 429 in particular may well succeed later.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Flask, Response, current_app, g, request

from registry.core.extensions import db
from registry.core.openapi import documents
from registry.core.transactions import commit_now
from registry.integrations import idempotency_keys as keys
from registry.integrations.auth import current_client

log = logging.getLogger(__name__)

HEADER = keys.HEADER
REPLAYED_HEADER = "Idempotent-Replayed"
HEADER_DOCUMENT = {
    "required": False,
    "description": "Makes a retry safe: the same key with the same request again answers what the "
                   "first one did (same status and body, with `Idempotent-Replayed: true`) without "
                   "running it twice; with another body or path, 422. A request still running: "
                   "409 with `Retry-After`. Keys are the client's own and kept at least 24 hours; "
                   "refused requests (4xx, 5xx) are not remembered. docs/integrations.md.",
    "schema": {"type": "string", "minLength": 1, "maxLength": keys.MAX_KEY, "pattern": "^[\\x20-\\x7E]+$"},
}


def idempotent(view):
    """Honour `Idempotency-Key` on this client view (see the module's docstring)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        client = current_client()
        value = request.headers.get(HEADER)  # sent twice, WSGI has joined them: "a, b"
        if client is None or value is None:
            return view(*args, **kwargs)
        key = keys.check_key(value)
        config = current_app.config
        print_ = keys.fingerprints(request.method, request.path, request.query_string,
                                  request.get_data(cache=True))
        outcome = keys.claim(client.id, key, request.method, request.path, print_,
                             ttl_hours=config["IDEMPOTENCY_KEY_TTL_HOURS"],
                             lease_seconds=config["IDEMPOTENCY_LEASE_SECONDS"])
        if isinstance(outcome, keys.Answered):
            return replay(outcome)
        commit_now("an idempotency key is held before its request runs, so a retry sent meanwhile "
                   "is refused rather than run too")
        g.idempotency_hold = outcome
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 400 and _remembered(response):
            if not keys.complete(outcome, response.status_code, response.get_data() or None):
                raise keys.InProgress()  # the hold was taken over: this request's work must not stay
        return response

    # A malformed key (400) and a key reused for another request (422) are among every
    # operation's COMMON_ERRORS already; a key still held (409) is this decorator's own.
    return documents(headers={HEADER: HEADER_DOCUMENT}, errors=(409,))(wrapped)


def _remembered(response: Response) -> bool:
    """Whether the answer can be kept: JSON, or no body at all (a 204)."""
    return response.is_json or not response.get_data()


def replay(answer: keys.Answered) -> Response:
    """The stored answer again, byte for byte, marked as a replay."""
    if answer.body is None:
        response = Response(status=answer.status)
    else:
        response = Response(answer.body, status=answer.status, mimetype="application/json")
    response.headers[REPLAYED_HEADER] = "true"
    return response


def release_unfinished(_error: BaseException | None = None) -> None:
    """At the end of a request that held a key: let go of it unless its answer was stored.

    A teardown step, so it runs after the request's commit (or rollback): whether the answer
    was stored is what the database says, whatever happened on the way.
    """
    hold = g.pop("idempotency_hold", None)
    if hold is None:
        return
    try:
        db.session.rollback()
        if keys.release(hold):
            commit_now("a request that failed lets go of its idempotency key, so a retry runs")
        else:
            db.session.rollback()
    except Exception:  # the lease frees the key in time; the answer is already sent
        log.exception("idempotency key %s could not be released", hold.id)
        try:
            db.session.rollback()
        except Exception:  # noqa: S110 - a lost connection: the session is removed next anyway
            pass


def init_idempotency(app: Flask) -> None:
    app.teardown_request(release_unfinished)
