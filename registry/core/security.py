"""Browser-facing protections: CSRF for the session-authenticated JSON API, and security headers.

The JSON API is exempt from Flask-WTF's form CSRF check (see the app factory): bearer-token
clients have no form token to send. A browser, though, sends the session cookie with any
request to this site, even one another site starts, and a cross-site `text/plain` POST
needs no CORS preflight. So an unsafe request to `/api/` that carries the session cookie and
no `Authorization: Bearer` header (which no cross-site page can add without a preflight this
app never grants) must:

- not be marked `Sec-Fetch-Site: cross-site` by the browser;
- come from this site: its `Origin` is `PUBLIC_BASE_URL`'s or the request host's, or, when a
  client sends no `Origin`, it carries a valid Flask-WTF token in `X-CSRFToken` (the pages
  put one in `<meta name="csrf-token">`);
- have `Content-Type: application/json`.

Every response carries a Content-Security-Policy without `unsafe-inline` (the pages load
their scripts from `static/`), `X-Content-Type-Options`, `Referrer-Policy` and
`X-Frame-Options`. No page may be framed (`frame-ancestors 'none'`, `X-Frame-Options: DENY`)
except the embeddable callback flow, which names the sites that may frame it
(`allow_framing_by`) and so goes without `X-Frame-Options` (it has no "only these" value).

Cross-origin reads (CORS) are granted by Flask-Cors to one endpoint only, the store's public
profile (`GET /api/v1/merchants/<id>`: any origin, no credentials), which the embeddable
button reads from the shop's page; everything else keeps the browser's same-origin rule.

Flask-Talisman was not used: its default of forcing HTTPS and secure
session cookies would have to be turned off for development and tests, it would overwrite
the session cookie settings `core.config` owns, and what is left is four fixed headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_cors import CORS
from flask_wtf.csrf import ValidationError, validate_csrf

from registry.core.bearer import bearer_token
from registry.core.errors import Forbidden, UnsupportedMediaType, is_api_request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRFToken"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    # The callback status page polls the JSON API and re-reads itself: same origin.
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def _origin(url: str) -> str | None:
    """`scheme://host[:port]` of `url`, lower-cased, or None if it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origins() -> set[str]:
    own = {f"{request.scheme}://{request.host}".lower()}
    public = _origin(current_app.config.get("PUBLIC_BASE_URL", ""))
    if public:
        own.add(public)
    return own


def _rides_the_session() -> bool:
    """Whether the request could be authenticated by the browser's cookies (not a bearer token)."""
    if bearer_token() is not None:
        return False
    cookies = (current_app.config.get("SESSION_COOKIE_NAME", "session"),
               current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    return any(name in request.cookies for name in cookies)


def check_session_api_request() -> None:
    """Before an `/api/` request: refuse an unsafe, cookie-authenticated one from another site
    (403) or without a JSON body type (415). Bearer-token and cookie-less requests pass."""
    if request.method in SAFE_METHODS or not is_api_request() or not _rides_the_session():
        return
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise Forbidden("csrf_refused.cross_site")
    origin = request.headers.get("Origin")
    if origin is not None and _origin(origin) not in _own_origins():
        raise Forbidden("csrf_refused.origin")
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("unsupported_media_type", field="Content-Type")
    # Tests switch Flask-WTF's tokens off (`WTF_CSRF_ENABLED`), for this as for the forms.
    if origin is None and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get(CSRF_HEADER, ""))
        except ValidationError:
            raise Forbidden("csrf_refused.token") from None


def allow_framing_by(response: Response, origins: list[str]) -> Response:
    """Let only `origins` frame `response` (none if the list is empty): the site's policy with
    `frame-ancestors` naming them, and no `X-Frame-Options` (`add_security_headers`)."""
    ancestors = " ".join(origins) or "'none'"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    return response


def add_security_headers(response: Response) -> Response:
    """Set the security headers on every response (a view's own value wins). A response whose
    policy names the sites that may frame it gets no `X-Frame-Options: DENY`."""
    policy = response.headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    framable = "frame-ancestors " in policy and "frame-ancestors 'none'" not in policy
    for name, value in SECURITY_HEADERS.items():
        if not (framable and name == "X-Frame-Options"):
            response.headers.setdefault(name, value)
    return response


# The one cross-origin read: a store's public profile (never a real number), for the
# embeddable button on any shop's page. Anchored: `/merchants/<id>/numbers` is not included.
CORS_RESOURCES = {r"^/api/v1/merchants/\d+$": {
    "origins": "*", "methods": ["GET", "HEAD"], "supports_credentials": False, "send_wildcard": True,
}}


def register_security(app: Flask) -> None:
    """Install the API's CSRF check, the security headers and the one CORS grant."""
    app.before_request(check_session_api_request)
    app.after_request(add_security_headers)
    CORS(app, resources=CORS_RESOURCES)
