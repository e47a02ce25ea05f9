"""Log lines: text for development, one JSON object per line with `LOG_FORMAT=json`.

Every record carries the request id (`X-Request-ID` when the caller sent a short printable one,
else a new one; returned in the answer's `X-Request-ID`), and the signed-in user's id or the
integration client's id when known. Outside a request (the scheduler, the CLI) those are empty.
Real phone numbers never reach a log line: the operations log masked numbers only, and
`core.log_privacy` scrubs the access logs' request lines; tests/core/test_logs.py greps every
line of the main journeys, at DEBUG, for the numbers and codes they used.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

from registry.core.log_privacy import scrub

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept when it is short and printable (no spaces, quotes or control
# characters that could forge a log line); anything else is replaced by a new one.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def request_id_from(header: str | None) -> str:
    """The caller's request id if it is acceptable, else a new one."""
    if header and _VALID_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str:
    return g.get("request_id", "") if has_request_context() else ""


class RequestContext(logging.Filter):
    """Adds `request_id`, `user_id` and `client_id` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.user_id, record.client_id = "", None, None
        if has_request_context():
            record.request_id = g.get("request_id", "")
            client = g.get("integration_client")
            record.client_id = getattr(client, "id", None)
            user = g.get("_login_user")  # Flask-Login's, once loaded: never loaded for a log line
            if user is not None and getattr(user, "is_authenticated", False):
                record.user_id = getattr(user, "id", None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, user_id, client_id."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", "") or None,
        }
        for key in ("user_id", "client_id"):
            if getattr(record, key, None) is not None:
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = ""
        return super().format(record)


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def install_handler(log_format: str, level: str) -> logging.Handler:
    """One handler on the root logger (stderr), in `log_format`, at `level`; replaces the one
    installed before (an app created twice in one process logs each line once)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "registry_handler", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.registry_handler = True
    handler.setFormatter(formatter_for(log_format))
    handler.addFilter(RequestContext())
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def register_request_ids(app: Flask) -> None:
    """Each request gets its id before anything else runs, and returns it in its answer."""

    def assign() -> None:
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))

    app.before_request_funcs.setdefault(None, []).insert(0, assign)

    @app.after_request
    def answer_with_id(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id") or request_id_from(None)
        return response
