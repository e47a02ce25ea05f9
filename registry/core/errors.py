"""Refusals the operations raise, and how they reach the client.

Operations raise an `AppError` subclass; the API answers it as
`{"error": {"code", "message", "field", ...}}` with its HTTP status, and the
HTML views show its message on the form again. Nothing stored is changed by
a refused request: the session is rolled back, except for rows an operation
marks as a record of the refusal itself (`keeps_audit`), such as a failed
code check, which must count towards the limits.
"""

from __future__ import annotations

import logging
import math

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from registry.core.extensions import db
from registry.core.transactions import commit_now

log = logging.getLogger(__name__)


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        keeps_audit: bool = False,
        **extra,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.keeps_audit = keeps_audit
        self.extra = extra

    def headers(self) -> dict[str, str]:
        return {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message, "field": self.field}
        body.update(self.extra)
        return {"error": body}


class BadRequest(AppError):
    status = 400


class InvalidInput(AppError):
    status = 422
    code = "invalid"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class ProviderUnavailable(AppError):
    status = 503
    code = "provider_unavailable"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float, **kwargs):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message, retry_after=self.retry_after, **kwargs)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


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


def register_error_handlers(app: Flask) -> None:
    """JSON errors under /api/, the usual pages elsewhere; never a bare 500."""

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        if is_api_request():
            return api_error_response(error)
        settle_session(error)
        return error.message, error.status, error.headers()

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if not is_api_request():
            return error
        db.session.rollback()
        code = (error.name or "error").lower().replace(" ", "_")
        if error.code == 413:
            message, field = "The request body is too large.", None
        else:
            message, field = error.description or error.name, None
        response = jsonify({"error": {"code": code, "message": message, "field": field}})
        response.status_code = error.code or 500
        if error.code == 429 and getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if is_api_request():
            body = {"code": "internal_error", "message": "Something went wrong.", "field": None}
            return jsonify({"error": body}), 500
        return "Something went wrong on our side. Please try again.", 500
