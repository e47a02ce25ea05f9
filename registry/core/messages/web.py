"""Refusals of the web edge: the JSON API's CSRF check, a lost database, sign-in lockout.

Keys as in the other catalogue modules (`code` or `code.detail`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/core/security.py: unsafe, session-authenticated JSON requests
    "csrf_refused.cross_site": _l("This request came from another site; it was refused."),
    "csrf_refused.origin": _l("The request's Origin is not this site; it was refused."),
    "csrf_refused.token": _l("Send this site's CSRF token in the X-CSRFToken header, or an "
                             "Origin header."),
    "unsupported_media_type": _l("Send the body with Content-Type: application/json."),
    # registry/core/errors.py: the database cannot be reached
    "database_unavailable": _l("The service is briefly unavailable; please try again in "
                               "%(retry_after)s seconds."),
    # registry/accounts/operations.py: too many wrong passwords for one account
    "login_locked": _l("Too many failed sign-ins for this account; try again in %(retry_after)s "
                       "seconds."),
}
