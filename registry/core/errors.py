"""Refusals the operations raise, and how they reach the client.

Operations raise an `AppError` subclass with a code from the catalogue
(`registry.core.messages`) and the values its message needs, never the
words: `InvalidInput("too_long", field="note", name="note", limit=500)`.
The subclass sets the HTTP status. The API answers
`{"error": {"code", "reason", "message", "field", ...params}}`, the message
in the request's language; the HTML views show `messages.render(error)` on
the form again. Nothing stored is changed by a refused request: the session
is rolled back, except for rows an operation marks as a record of the
refusal itself (`keeps_audit`), such as a failed code check, which must
count towards the limits.
"""

from __future__ import annotations

import logging
import math

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from registry.core import messages
from registry.core.db_loss import DATABASE_RETRY_AFTER_SECONDS, is_database_unavailable, note_database_lost
from registry.core.extensions import db
from registry.core.transactions import commit_now

log = logging.getLogger(__name__)


class AppError(Exception):
    """A refusal: a catalogue key (`code` or `code.detail`), the field it is about, its values."""

    status = 400

    def __init__(self, key: str, *, field: str | None = None, keeps_audit: bool = False, **params):
        super().__init__(key)
        self.key = messages.check_key(key)
        self.code = messages.public_code(key)
        self.field = field
        self.keeps_audit = keeps_audit
        self.params = params

    @property
    def extra(self) -> dict:
        """The values the refusal carries (an existing request's id, attempts left, ...)."""
        return self.params

    @property
    def message(self) -> str:
        """The message in the current language (English outside a request)."""
        return messages.render_api(self)

    def __str__(self) -> str:
        return self.message

    def headers(self) -> dict[str, str]:
        """Extra response headers (`Retry-After` for a rate limit)."""
        return {}

    def to_dict(self) -> dict:
        """The JSON body: code, the exact reason, message, field, then the values."""
        body = {"code": self.code, "reason": self.key, "message": self.message, "field": self.field}
        body.update(self.params)
        return {"error": body}


class BadRequest(AppError):
    status = 400


class InvalidInput(AppError):
    status = 422


class Unauthorized(AppError):
    status = 401

    def headers(self) -> dict[str, str]:
        # RFC 6750: a 401 names the scheme the API takes (bearer tokens and `rk_` keys).
        return {"WWW-Authenticate": 'Bearer realm="registry"'}


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class PayloadTooLarge(AppError):
    status = 413


class ProviderUnavailable(AppError):
    status = 503


class UnsupportedMediaType(AppError):
    status = 415


class RateLimited(AppError):
    status = 429

    def __init__(self, key: str, retry_after: float, **kwargs):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(key, retry_after=self.retry_after, **kwargs)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(RateLimited):
    """Come back later: a 503 with `Retry-After` (the database cannot be reached)."""

    status = 503


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def settle_session(error: AppError) -> None:
    """Roll back what the refused request changed, keeping audit rows if asked."""
    if error.keeps_audit:
        # The request is refused, so its boundary rolls back: the record of the refusal
        # (a failed code check counts towards the limits) is stored here, on its own.
        commit_now("a refusal keeps its audit rows")
    else:
        db.session.rollback()


def api_error_response(error: AppError):
    settle_session(error)
    response = jsonify(error.to_dict())
    response.status_code = error.status
    response.headers.update(error.headers())
    return response


def _rollback_quietly() -> None:
    """Roll the session back in an error handler, whose own failure must not replace its answer
    (on a connection the database dropped, the rollback itself may fail)."""
    try:
        db.session.rollback()
    except Exception:  # the handler's answer matters more than the rollback's failure
        log.warning("rollback failed while answering an error", exc_info=True)


def error_page(message: str, status: int, headers: dict | None = None, *, bare: bool = False):
    """The product's error page (its layout, the visitor's language, a way home).

    `bare` leaves out what needs the database (who is signed in), for when it is gone. Should
    rendering fail as well, a plain sentence is answered rather than nothing.
    """
    try:
        page = render_template("error.html", message=message, status=status, bare=bare)
    except Exception:
        log.exception("the error page could not be rendered")
        page = gettext("Something went wrong on our side. Please try again.")
    return page, status, headers or {}


# The pages' words for HTTP errors a view did not raise itself (a URL that matches no route,
# a method the route does not take), by status.
_HTTP_PAGE_MESSAGES = {
    404: _l("We could not find that page. Check the address, or start again from the home page."),
    405: _l("This page cannot be used that way."),
    413: _l("What was sent is too large."),
    429: _l("Too many attempts. Wait a minute and try again."),
}


# The API's words for them, from the catalogue like every refusal (their `code` is unchanged).
_HTTP_API_KEYS = {404: "not_found.route", 405: "method_not_allowed", 413: "request_entity_too_large",
                  429: "too_many_requests"}


def register_error_handlers(app: Flask) -> None:
    """JSON errors under /api/, the product's pages elsewhere; never a bare 500."""

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        if is_api_request():
            return api_error_response(error)
        settle_session(error)
        return error_page(messages.render(error), error.status, error.headers())

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        # An error handler that failed becomes a 500 wrapping what it raised: the database
        # going away inside a refusal's own commit (`keeps_audit`) is still a 503.
        original = getattr(error, "original_exception", None)
        if original is not None and is_database_unavailable(original):
            return database_unavailable(original)
        _rollback_quietly()
        status = error.code or 500
        if not is_api_request():
            words = _HTTP_PAGE_MESSAGES.get(status)
            message = str(words) if words else gettext(
                "This request could not be handled (%(status)s).", status=status)
            return error_page(message, status, _retry_after(error))
        key = _HTTP_API_KEYS.get(status)
        if key is not None:
            body = AppError(key).to_dict()
        else:
            code = (error.name or "error").lower().replace(" ", "_")
            body = {"error": {"code": code, "message": error.description or error.name, "field": None}}
        response = jsonify(body)
        response.status_code = status
        response.headers.update(_retry_after(error))
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if is_database_unavailable(error):
            return database_unavailable(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback_quietly()
        if is_api_request():
            return jsonify(AppError("internal_error").to_dict()), 500
        return error_page(gettext("Something went wrong on our side. Please try again."), 500)


def _retry_after(error: HTTPException) -> dict[str, str]:
    if error.code == 429 and getattr(error, "retry_after", None):
        return {"Retry-After": str(error.retry_after)}
    return {}


def database_unavailable(error: Exception):
    """Answer a request that lost the database: 503 with `Retry-After`, JSON under /api/.

    Marks the request so that `core.db_loss` runs an idempotent one again, once.
    """
    note_database_lost(error)
    _rollback_quietly()
    refusal = ServiceUnavailable("database_unavailable", retry_after=DATABASE_RETRY_AFTER_SECONDS)
    if is_api_request():
        response = jsonify(refusal.to_dict())
        response.status_code = refusal.status
        response.headers.update(refusal.headers())
        return response
    return error_page(messages.render(refusal), refusal.status, refusal.headers(), bare=True)
