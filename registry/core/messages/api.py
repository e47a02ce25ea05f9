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
}
