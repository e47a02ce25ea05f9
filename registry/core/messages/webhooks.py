"""Refusals of the outbound webhooks' endpoints (`registry/webhooks`, docs/webhooks.md).

Keys as in the other catalogue modules (`code` or `code.detail`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/webhooks/safety.py: where a webhook may be sent
    "invalid.webhook_url": _l("'%(name)s' must be an absolute http:// or https:// URL."),
    "invalid.webhook_url_credentials": _l("'%(name)s' must not carry a user name or password."),
    "invalid.webhook_url_https": _l("'%(name)s' must be an https:// URL."),
    "invalid.webhook_url_private": _l(
        "'%(name)s' leads to a private, loopback or link-local address, which webhooks are not sent to."),
    "invalid.webhook_url_unresolvable": _l("The host of '%(name)s' cannot be found."),
    # registry/webhooks/api.py: what an endpoint subscribes to
    "invalid.webhook_event": _l("Unknown event '%(event)s'; the events are %(values)s."),
    # registry/webhooks/operations.py
    "not_found.webhook_endpoint": _l("No such webhook endpoint."),
    "not_found.webhook_delivery": _l("No such webhook delivery."),
    "conflict.webhook_delivery_pending": _l("This delivery is still being attempted; retry it once it "
                                            "has succeeded or failed."),
}
