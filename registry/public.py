"""Public pages: home, the store directory, a store's page, and the language switch."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from registry.callbacks.operations import unavailable_code
from registry.core import messages
from registry.core.i18n import LANGUAGES
from registry.core.pages import is_safe_next, register_page_errors, safe_next
from registry.merchants import operations as merchants
from registry.merchants.directory import search_stores
from registry.merchants.hours import DAYS

bp = Blueprint("public", __name__)
register_page_errors(bp)


@bp.get("/")
def home():
    """What the registry is, and where merchants start."""
    return render_template("public/home.html")


@bp.get("/stores")
def directory():
    """Stores found by name, verified ones marked, each linking to its page."""
    query = request.args.get("q", "")
    page = search_stores(query, request.args.get("after"))
    return render_template("public/directory.html", query=" ".join(query.split())[:100], page=page,
                           paged="after" in request.args)


@bp.get("/stores/<int:merchant_id>")
def store(merchant_id: int):
    """A store as anyone sees it: its name and whether it is verified, never a number."""
    merchant = merchants.get_merchant(merchant_id)
    unavailable = unavailable_code(merchant)
    return render_template("public/store.html", profile=merchants.public_profile(merchant), days=DAYS,
                           callback_unavailable=messages.message(unavailable) if unavailable else None)


def _same_site_referrer() -> str | None:
    """The referring page's path, if the referrer is a page of this site."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return path if is_safe_next(path) else None


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the visitor's language and go back to the page they were on."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(_same_site_referrer() or url_for(".home")))
