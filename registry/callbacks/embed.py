"""The embeddable callback button (docs/embed.md): its script, and the flow it frames.

`/embed/v1/callback.js` is the script a shop pastes into its pages. It reads the store's public
profile (the one CORS-enabled endpoint, `core.security`), draws the button, and opens
`/embed/v1/merchants/<id>/callback?origin=<the page's origin>` in a dialog.

That page renders the flow only when `origin` is on the store's list (`merchants.embed`), and
always answers `Content-Security-Policy: frame-ancestors <the list>`: a page that lies about its
origin is still not allowed to frame it by the browser. Inside, the page's own script proves
the shopper's number, picks a time, follows and cancels the request through the JSON API with
the shopper's token kept in memory (no cookie: a third-party frame may not have any), and
posts its events to the verified origin only.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template, request, send_from_directory
from flask_babel import force_locale
from flask_babel import gettext as _

from registry.callbacks import operations
from registry.callbacks.status_page import STATUS_WORDS
from registry.core.errors import Conflict, Forbidden
from registry.core.messages import render
from registry.core.pages import register_page_errors
from registry.core.security import allow_framing_by
from registry.merchants import embed
from registry.merchants.operations import get_merchant

bp = Blueprint("embed", __name__, url_prefix="/embed/v1")
register_page_errors(bp)

SCRIPT_DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "embed" / "v1"
# Shops cache the script briefly: a fix reaches every page within the hour.
SCRIPT_MAX_AGE = 3600
MAX_ORDER_REF = 64


def page_language(value: str | None) -> str:
    """`zh`, `zh-CN`, `zh-Hans`… are Chinese; anything else, or nothing, is English."""
    return "zh" if (value or "").strip().lower().split("-", 1)[0] == "zh" else "en"


@bp.get("/callback.js")
def script():
    """The script shops paste into their pages (cached; revalidated by its ETag)."""
    response = send_from_directory(SCRIPT_DIRECTORY, "callback.js", mimetype="text/javascript",
                                   max_age=SCRIPT_MAX_AGE, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    return response


def _words() -> dict:
    """What the page's script says, in the page's language; `{…}` marks are filled in by it."""
    return {
        "status": {status: _(words) for status, words in STATUS_WORDS.items()},
        "scheduled": _("Scheduled for %(when)s (%(zone)s)", when="{when}", zone="{zone}"),
        "calling_you": _("Calling you now…"),
        "sent_sms": _("We sent a code by text message to %(number)s.", number="{phone}"),
        "sent_call": _("We are calling %(number)s to read out a code.", number="{phone}"),
        "zone": _("Times are in your time zone, %(zone)s.", zone="{zone}"),
        "asap": _("As soon as possible"),
        "failed": _("Something went wrong on our side. Please try again."),
    }


def _refused(merchant, origins: list[str], lang: str) -> Response:
    with force_locale(lang):
        message = render(Forbidden("forbidden.embed_origin"))
        html = render_template("callbacks/embed_refused.html", store=merchant, message=message, lang=lang)
    return allow_framing_by(Response(html, status=403, mimetype="text/html"), origins)


@bp.get("/merchants/<int:merchant_id>/callback")
def flow(merchant_id: int):
    """The callback flow in the shop's dialog, for a site on the store's list only."""
    merchant = get_merchant(merchant_id)
    lang = page_language(request.args.get("lang"))
    origins = embed.embed_origins(merchant)
    origin = embed.origin_allowed(merchant, request.args.get("origin"))
    if origin is None:
        return _refused(merchant, origins, lang)
    unavailable = operations.unavailable_code(merchant)
    order_ref = (request.args.get("order_ref") or "")[:MAX_ORDER_REF] or None
    with force_locale(lang):
        config = {"merchant": merchant.id, "origin": origin, "lang": lang, "order_ref": order_ref,
                  "words": _words()}
        html = render_template("callbacks/embed.html", store=merchant, config=config, lang=lang,
                               unavailable=render(Conflict(unavailable)) if unavailable else None)
    response = allow_framing_by(Response(html, mimetype="text/html"), origins)
    # Each shop's page gets its own answer: nothing in between may keep one for another.
    response.headers["Cache-Control"] = "no-store"
    return response
