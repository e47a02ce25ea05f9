"""Losing the database during a request: one transparent retry for reads, else a 503.

PostgreSQL may drop a connection at any time (a restart, a failover, an administrator
ending sessions). `core.pool_ping` replaces connections that sat idle, but one in use a
moment ago is handed out unchecked (the saved round trip is the point), so the first
statement on it fails. SQLAlchemy then invalidates the pool: every connection opened
before the failure is replaced on its next checkout, so trying again works.

- The error handler (`core.errors.database_unavailable`) answers 503 with `Retry-After`,
  JSON under `/api/`, and marks the request as one that lost the database.
- `RetryIdempotentRequests`, around the WSGI app, runs a marked GET or HEAD once more, from
  the start (new request context, new session, new connections) and answers with that
  attempt instead. Unsafe methods are not repeated: their first attempt may have had effects
  outside the database (a code sent by SMS); the client gets the 503 and decides.
- Should an error handler itself fail, the request still gets an answer: JSON under `/api/`,
  never the server's HTML page.
"""

from __future__ import annotations

import json
import logging

from flask import request
from sqlalchemy import exc

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
_LOST = "registry.database_lost"


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database could not be reached or dropped the connection
    (not a constraint or a programming error, which a retry would not cure)."""
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, exc.OperationalError)
    return isinstance(error, exc.DisconnectionError | exc.TimeoutError)


def note_database_lost(error: BaseException) -> None:
    """Mark the current request as one that lost the database (no phone numbers logged: only
    the driver's error class and the first line of its message)."""
    request.environ[_LOST] = True
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0][:200]
    log.warning("database unavailable on %s %s: %s: %s", request.method, request.path,
                type(cause).__name__, first_line)


class RetryIdempotentRequests:
    """WSGI middleware: run a GET or HEAD that lost the database once more; answer every
    request, even when the app's error handling fails."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        attempts = 2 if environ.get("REQUEST_METHOD", "GET") in IDEMPOTENT_METHODS else 1
        for attempt in range(1, attempts + 1):
            environ[_LOST] = False
            captured: list = []

            def capture(status, headers, exc_info=None, _captured=captured):
                _captured[:] = [status, headers, exc_info]
                return _no_write

            try:
                body = self.wsgi_app(environ, capture)
            except Exception as error:
                log.exception("the app could not answer %s %s", environ.get("REQUEST_METHOD"),
                              environ.get("PATH_INFO"))
                return _last_resort(environ, start_response, is_database_unavailable(error))
            if environ[_LOST] and attempt < attempts:
                if hasattr(body, "close"):
                    body.close()
                log.info("retrying %s %s after losing the database", environ.get("REQUEST_METHOD"),
                         environ.get("PATH_INFO"))
                continue
            start_response(*captured)
            return body
        raise AssertionError("unreachable")  # pragma: no cover


def _no_write(data: bytes) -> None:  # pragma: no cover - Flask never uses write()
    raise RuntimeError("write() is not supported; return an iterable")


def _last_resort(environ, start_response, database_lost: bool):
    """The answer when the app's own error handling failed: 503 with `Retry-After` if the
    database was lost, else 500; JSON under /api/, a sentence elsewhere."""
    if database_lost:
        status, code, words = "503 SERVICE UNAVAILABLE", "database_unavailable", \
            "The service is briefly unavailable; please try again shortly."
    else:
        status, code, words = "500 INTERNAL SERVER ERROR", "internal_error", "Something went wrong."
    if environ.get("PATH_INFO", "").startswith("/api/"):
        body = json.dumps({"error": {"code": code, "message": words, "field": None}}).encode()
        content_type = "application/json"
    else:
        body = words.encode()
        content_type = "text/plain; charset=utf-8"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if database_lost:
        headers.append(("Retry-After", str(DATABASE_RETRY_AFTER_SECONDS)))
    start_response(status, headers)
    return [body]
