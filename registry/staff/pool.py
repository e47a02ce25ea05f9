"""HTML: the proxy pool in the staff console, for admins only.

Every number with its state, capabilities and load; per country the free
capacity and the extension fallbacks of the last 24 h, with a warning under
the low watermark; a search of what Twilio sells, each result with a "Buy"
button; "Drain" and "Release" on each number, confirmed first. What is
bought, drained and released is in the staff audit log. A refusal (the number
is gone, bindings still active, a country Twilio does not know) shows the page
again with the message and the refusal's status.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import admin_required
from registry.audit.operations import audit
from registry.core.errors import AppError
from registry.core.pages import refuse, register_page_errors
from registry.masking import capacity, pool, provisioning
from registry.staff.forms import BuyNumberForm, PoolActionForm, PoolSearchForm
from registry.staff.views import refuse_shopper_browsers
from registry.telephony import get_gateway

bp = Blueprint("staff_pool", __name__, url_prefix="/staff/pool")
register_page_errors(bp)
bp.before_request(refuse_shopper_browsers("forbidden.needs_admin"))

TEMPLATE = "staff/pool.html"


def _context(search: PoolSearchForm | None = None, results=None) -> dict:
    config = current_app.config
    return {
        "numbers": pool.pool(),
        "countries": capacity.by_country(config["PROXY_NUMBER_CAP"], config["POOL_LOW_WATERMARK"]),
        "default_cap": config["PROXY_NUMBER_CAP"],
        "watermark": config["POOL_LOW_WATERMARK"],
        "search": search or PoolSearchForm(),
        "results": results,
        "action_form": PoolActionForm(formdata=None),
        "buy_form": BuyNumberForm(formdata=None),
    }


@bp.get("/")
@admin_required
def index():
    """The pool; with a country in the query, what Twilio sells there."""
    search = PoolSearchForm(request.args)
    if not request.args.get("country"):
        return render_template(TEMPLATE, form=None, errors={}, **_context(search))
    try:
        results = provisioning.search(get_gateway(), search.country.data, search.type.data,
                                      area_code=search.area_code.data, contains=search.contains.data)
    except AppError as error:
        return refuse(error, TEMPLATE, search, **_context(search))
    return render_template(TEMPLATE, form=None, errors={}, **_context(search, results))


@bp.post("/buy")
@admin_required
def buy():
    """Buy a number from Twilio, with our webhooks, into the pool."""
    form = BuyNumberForm()
    if not form.validate_on_submit():
        return redirect(url_for(".index"))
    try:
        proxy = provisioning.buy(get_gateway(), form.phone_number.data, current_app.config["PUBLIC_BASE_URL"])
    except AppError as error:
        return refuse(error, TEMPLATE, None, ("phone_number",), **_context())
    audit(current_user.id, "pool_buy", f"proxy_number:{proxy.id}", None,
          {"number": proxy.e164, "sid": proxy.provider_sid})
    flash(_("%(number)s is bought and takes new bindings.", number=proxy.e164), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:proxy_id>/drain")
@admin_required
def drain(proxy_id: int):
    """No new bindings on the number; its bindings live out their TTL."""
    if PoolActionForm().validate_on_submit():
        try:
            proxy = pool.drain(pool.get_proxy(proxy_id))
        except AppError as error:
            return refuse(error, TEMPLATE, None, **_context())
        audit(current_user.id, "pool_drain", f"proxy_number:{proxy.id}", None, {"number": proxy.e164})
        flash(_("%(number)s is draining: no new bindings; %(count)s active binding(s) run out.",
                number=proxy.e164, count=proxy.active_bindings), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:proxy_id>/release")
@admin_required
def release(proxy_id: int):
    """Give the number back to Twilio, once no binding on it is active."""
    if PoolActionForm().validate_on_submit():
        try:
            proxy = provisioning.release(get_gateway(), pool.get_proxy(proxy_id))
        except AppError as error:
            return refuse(error, TEMPLATE, None, **_context())
        audit(current_user.id, "pool_release", f"proxy_number:{proxy.id}", None, {"number": proxy.e164})
        flash(_("%(number)s is released: Twilio no longer bills it.", number=proxy.e164), "success")
    return redirect(url_for(".index"))
