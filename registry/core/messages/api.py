"""Refusals of the JSON API's schemas (`core.openapi`): a body of the wrong shape."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "invalid_type.integer": _l("'%(name)s' must be a whole number."),
    "invalid_type.boolean": _l("'%(name)s' must be true or false."),
    "invalid_type.list": _l("'%(name)s' must be a list."),
    "invalid_type.object": _l("'%(name)s' must be an object."),
    "invalid.too_small": _l("'%(name)s' must be at least %(limit)s."),
    "invalid.too_large": _l("'%(name)s' must be at most %(limit)s."),
    "invalid.too_many": _l("'%(name)s' may have at most %(limit)s items."),
    "invalid.choice": _l("'%(name)s' must be one of %(values)s."),
    "invalid.datetime": _l("'%(name)s' must be a date and time in ISO 8601 (2026-05-01T09:30:00+08:00)."),
    "invalid.url": _l("'%(name)s' must be a URL."),
    "invalid.value": _l("'%(name)s' is not valid."),
    "unknown_field": _l("'%(name)s' is not a field of this request; check its spelling."),
    # registry/core/errors.py: HTTP errors no view raised itself
    "not_found.route": _l("There is nothing at this address; check the path (docs: /api/docs)."),
    "method_not_allowed": _l("This address does not take that method."),
    "request_entity_too_large": _l("The request body is too large."),
    "too_many_requests": _l("Too many requests; wait a moment and try again."),
    "internal_error": _l("Something went wrong on our side; try again."),
}
