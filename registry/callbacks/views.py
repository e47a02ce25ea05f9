"""HTML: a shopper asks a store to call back, then follows the request.

`/stores/<id>/callback` first sends a shopper without a proved number to
the shopper pages (`shoppers.phone`), then offers "as soon as possible" or a
half-hour slot, in the shopper's own time zone. `/callbacks/<id>` shows the
request to its shopper only (anyone else gets 404), keeps itself up to date
with a small script, and offers Cancel until the call starts.

Each view parses its form, calls one operation and redirects (the
request's end commits); a refusal shows the page again with the message by its field,
with the refusal's status code, and nothing stored.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from registry.callbacks import operations
from registry.callbacks.forms import CallbackForm, CancelForm, callback_text, time_choices, zone_name
from registry.callbacks.status_page import status_view
from registry.core.errors import AppError, NotFound
from registry.core.extensions import db
from registry.core.pages import refuse, register_page_errors, render_form
from registry.merchants.models import Merchant
from registry.merchants.operations import get_merchant
from registry.shoppers.auth import current_shopper

bp = Blueprint("callbacks", __name__)
register_page_errors(bp)
bp.add_app_template_filter(callback_text, "callback_text")


def _policy() -> operations.CallbackPolicy:
    return operations.CallbackPolicy.from_config(current_app.config)


def _request_context(merchant: Merchant, shopper, **extra) -> dict:
    choices = time_choices(merchant, shopper, _policy())
    return {"store": merchant, "shopper": shopper, "choices": choices, "zone": zone_name(choices.zone),
            "call_hours": _policy().shopper_call_hours, **extra}


@bp.route("/stores/<int:merchant_id>/callback", methods=["GET", "POST"])
def new(merchant_id: int):
    """Step 3: when to call, and optionally an order number and a note."""
    merchant = get_merchant(merchant_id)
    if operations.unavailable_code(merchant) is not None and request.method == "GET":
        return redirect(url_for("public.store", merchant_id=merchant.id))  # it says why
    shopper = current_shopper()
    if shopper is None:
        return redirect(url_for("shoppers.phone", next=url_for(".new", merchant_id=merchant.id)))
    form = CallbackForm()
    if form.validate_on_submit():
        try:
            created = operations.request_callback(shopper, merchant.id, form.when_value(),
                                                  form.order_ref.data, form.note.data, _policy())
        except AppError as error:
            existing = error.extra.get("id") if error.code == "duplicate_request" else None
            return refuse(error, "callbacks/request.html", form, ("when",),
                          **_request_context(merchant, shopper, existing_id=existing))
        db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
        return redirect(url_for(".status", request_id=created.id))
    return render_form("callbacks/request.html", form, **_request_context(merchant, shopper))


def _own_request(request_id: int):
    """The request if this browser's shopper made it; otherwise 404, revealing nothing."""
    shopper = current_shopper()
    if shopper is None:
        raise NotFound("not_found.callback")
    return shopper, operations.visible_request(request_id, shopper_id=shopper.id)


def _status_context(callback, shopper) -> dict:
    policy = _policy()
    view = status_view(callback, shopper.timezone, operations.request_waiting(callback, policy),
                       policy.shopper_call_hours)
    return {"callback": callback, "store": db.session.get(Merchant, callback.merchant_id),
            "view": view, "cancel_form": CancelForm()}


@bp.get("/callbacks/<int:request_id>")
def status(request_id: int):
    """The request's status in words; the page's script keeps it current."""
    shopper, callback = _own_request(request_id)
    return render_template("callbacks/status.html", errors={}, **_status_context(callback, shopper))


@bp.post("/callbacks/<int:request_id>/cancel")
def cancel(request_id: int):
    """Cancel a request whose call has not started."""
    shopper, callback = _own_request(request_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return redirect(url_for(".status", request_id=callback.id))
    try:
        operations.cancel(callback)
    except AppError as error:
        return refuse(error, "callbacks/status.html", None,
                      **_status_context(callback, shopper))
    flash(_("Your callback request is canceled."), "success")
    return redirect(url_for(".status", request_id=callback.id))
