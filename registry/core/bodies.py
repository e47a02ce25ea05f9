"""Per-route request body limits, above the app-wide `MAX_CONTENT_LENGTH` (64 KB).

A view that takes a large body (a CSV import) says so with `@body_limit(bytes)`. Before any
before-request step reads the body (the form CSRF check reads the form), the limit is applied
to the request: a `Content-Length` above it is refused at once (413, `too_large.body`, nothing
read), and a body without one is cut off at the limit by Werkzeug (413 as well).
"""

from __future__ import annotations

from flask import Flask, current_app, request

from registry.core.errors import PayloadTooLarge

MEGABYTE = 1024 * 1024


def body_limit(max_bytes: int):
    """Let this view take bodies up to `max_bytes` (the decorators above it must use `wraps`)."""

    def mark(view):
        view.max_body_bytes = max_bytes
        return view

    return mark


def apply_body_limit(endpoint: str | None, _values: dict | None) -> None:
    view = current_app.view_functions.get(endpoint) if endpoint else None
    limit = getattr(view, "max_body_bytes", None)
    if limit is None:
        return
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge("too_large.body", field="body", limit=f"{limit / MEGABYTE:g} MB")
    request.max_content_length = limit
    request.max_form_memory_size = limit


def register_body_limits(app: Flask) -> None:
    """URL value preprocessors run before every before-request step."""
    app.url_value_preprocessor(apply_body_limit)
