"""HTML: a merchant's own call history, and complaints from the two parties to a call.

`/merchant/calls` lists the store's calls (masked numbers, newest first,
paged) and the complaints about the store; each call has a "report a
problem" page. A shopper reports a problem with a callback from its status
page (`/callbacks/<id>/complaint`). Another party's call or request is 404,
revealing nothing. Each view parses its form, calls one operation and
redirects (the request's end commits); a refusal shows the form again with the message by its
field.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice

from registry.accounts.auth import merchant_required
from registry.callbacks import operations as callbacks
from registry.callbacks.forms import local_moment
from registry.calllog.models import CallRecord
from registry.complaints import operations as complaints
from registry.complaints.operations import MAX_TEXT
from registry.complaints.search import CallSearch, decode_cursor, search
from registry.core.errors import AppError, InvalidInput, NotFound
from registry.core.extensions import db
from registry.core.forms import BaseForm
from registry.core.lookups import get_or_refuse
from registry.core.pages import refuse, register_page_errors, render_form
from registry.merchants.models import Merchant
from registry.merchants.operations import merchant_of
from registry.shoppers.auth import current_shopper

bp = Blueprint("complaints", __name__)
register_page_errors(bp)

CATEGORIES = {
    "harassment": _l("Harassment: unwanted or repeated calls"),
    "no_call": _l("The promised call never came"),
    "misleading": _l("Misleading information"),
    "rude": _l("Rude or abusive"),
    "other": _l("Something else"),
}
PER_PAGE = 25


class ComplaintForm(BaseForm):
    """What went wrong (a category) and what happened (free text)."""
    category = RadioField(_l("What went wrong?"), validate_choice=False,
                          choices=[SelectChoice(value, label) for value, label in CATEGORIES.items()])
    text = TextAreaField(_l("What happened"), render_kw={"rows": 5, "maxlength": MAX_TEXT},
                         description=_l("When it happened and what was said. Complaint staff read this."))


def _store() -> Merchant:
    store = merchant_of(current_user.id)
    if store is None:
        raise NotFound("not_found.store")
    return store


@bp.get("/merchant/calls")
@merchant_required
def history():
    """The store's calls and the complaints about it."""
    store = merchant_of(current_user.id)
    if store is None:
        return redirect(url_for("merchants.new_store"))
    try:
        after = decode_cursor(request.args.get("cursor"))
    except InvalidInput:
        after = None  # a bad cursor means the first page
    records, cursor = search(CallSearch(cursor=after, per_page=PER_PAGE), only_merchant_id=store.id)
    return render_template("complaints/history.html", store=store, records=records, next_cursor=cursor,
                           paged=after is not None, when=lambda t: local_moment(t, store.timezone),
                           complaints=complaints.complaints_for(merchant_id=store.id), categories=CATEGORIES)


def _own_record(record_id: int, store: Merchant) -> CallRecord:
    return get_or_refuse(CallRecord, record_id, "not_found.call", lambda r: r.merchant_id == store.id)


@bp.route("/merchant/calls/<int:record_id>/complaint", methods=["GET", "POST"])
@merchant_required
def merchant_complaint(record_id: int):
    """A merchant reports a problem with one of its calls (an abusive caller, say)."""
    store = _store()
    record = _own_record(record_id, store)
    form = ComplaintForm()
    context = {"store": store, "record": record, "when": lambda t: local_moment(t, store.timezone)}
    if form.validate_on_submit():
        try:
            complaints.file_by_merchant(current_user.id, record.id, form.category.data, form.text.data)
        except AppError as error:
            return refuse(error, "complaints/merchant_complaint.html", form, **context)
        flash(_("Thank you. Complaint staff will look into this call."), "success")
        return redirect(url_for(".history"))
    return render_form("complaints/merchant_complaint.html", form, **context)


@bp.route("/callbacks/<int:request_id>/complaint", methods=["GET", "POST"])
def shopper_complaint(request_id: int):
    """A shopper reports a problem with their callback (only their own; anyone else gets 404)."""
    shopper = current_shopper()
    if shopper is None:
        raise NotFound("not_found.callback")
    callback = callbacks.visible_request(request_id, shopper_id=shopper.id)
    store = db.session.get(Merchant, callback.merchant_id)
    form = ComplaintForm()
    context = {"callback": callback, "store": store}
    if form.validate_on_submit():
        try:
            complaints.file_by_shopper(shopper, None, callback.id, form.category.data, form.text.data)
        except AppError as error:
            return refuse(error, "complaints/shopper_complaint.html", form, **context)
        flash(_("Thank you. Complaint staff will look into it; you can follow your callback here."),
              "success")
        return redirect(url_for("callbacks.status", request_id=callback.id))
    return render_form("complaints/shopper_complaint.html", form, **context)
