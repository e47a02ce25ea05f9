"""HTML: merchant onboarding (the store profile, its numbers, verifying them).

Each view parses its form, calls one operation and redirects (the request's end commits);
a refusal shows the form again with the message by its field.
"""

from __future__ import annotations

import time
from functools import wraps

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from registry.accounts.auth import merchant_required
from registry.core.errors import AppError, RateLimited
from registry.core.extensions import db
from registry.core.i18n import current_language
from registry.core.pages import refuse, register_page_errors, render_form
from registry.core.phones import format_international
from registry.merchants import embed, operations
from registry.merchants.forms import CodeForm, EmbedOriginsForm, NumberForm, SendCodeForm, StoreForm
from registry.merchants.hours import DEFAULT_BUSINESS_HOURS, DEFAULT_TIMEZONE
from registry.merchants.models import Merchant
from registry.telephony import get_gateway
from registry.verification.policy import Requester, VerificationPolicy

bp = Blueprint("merchants", __name__, url_prefix="/merchant")
register_page_errors(bp)

# The words for a lapsed number's stored reason; anything else is shown as stored.
LAPSE_REASONS = {
    operations.LAPSED_CLAIMED: _l("claimed by another store"),
    operations.LAPSED_EXPIRED: _l("verification expired; verify again"),
}


@bp.app_template_filter("lapse_reason")
def lapse_reason(reason: str) -> str:
    """A lapsed number's reason in the merchant's language."""
    return str(LAPSE_REASONS.get(reason, reason))


def store_required(view):
    """A view for a store owner's own store, given as `merchant`; an owner without one yet is sent
    to create it first."""
    @wraps(view)
    @merchant_required
    def with_store(*args, **kwargs):
        merchant = operations.merchant_of(current_user.id)
        if merchant is None:
            return redirect(url_for(".new_store"))
        return view(merchant, *args, **kwargs)
    return with_store


def _requester() -> Requester:
    return Requester(ip=request.remote_addr, user_id=current_user.id)


def _policy() -> VerificationPolicy:
    return VerificationPolicy.from_config(current_app.config)


@bp.get("/")
@store_required
def dashboard(merchant: Merchant):
    """The store and its numbers with their verification status."""
    return render_template("merchants/dashboard.html", merchant=merchant,
                           international=format_international)


@bp.route("/store/new", methods=["GET", "POST"])
@merchant_required
def new_store():
    """Create the account's store."""
    if operations.merchant_of(current_user.id) is not None:
        return redirect(url_for(".edit_store"))
    form = StoreForm()
    if form.validate_on_submit():
        try:
            operations.create_merchant(current_user.id, form.name.data, form.timezone.data,
                                       form.business_hours())
        except AppError as error:
            return refuse(error, "merchants/store_form.html", form, ("business_hours",), new=True)
        flash(_("Your store is ready. Add the phone number shoppers' calls should reach."),
              "success")
        return redirect(url_for(".add_number"))
    if not form.is_submitted():
        form.fill("", DEFAULT_TIMEZONE, DEFAULT_BUSINESS_HOURS)
    return render_form("merchants/store_form.html", form, new=True)


@bp.route("/store", methods=["GET", "POST"])
@store_required
def edit_store(merchant: Merchant):
    """Change the store's name, time zone and business hours."""
    form = StoreForm()
    if form.validate_on_submit():
        try:
            operations.update_merchant(merchant, form.name.data, form.timezone.data,
                                       form.business_hours())
        except AppError as error:
            return refuse(error, "merchants/store_form.html", form, ("business_hours",), new=False)
        flash(_("Your store profile is saved."), "success")
        return redirect(url_for(".dashboard"))
    if not form.is_submitted():
        form.fill(merchant.name, merchant.timezone, merchant.business_hours)
    return render_form("merchants/store_form.html", form, new=False)


@bp.route("/store/embed", methods=["GET", "POST"])
@store_required
def embed_origins(merchant: Merchant):
    """The sites that may embed the store's callback button (docs/embed.md)."""
    form = EmbedOriginsForm()
    context = {"merchant": merchant, "script_url": current_app.config["PUBLIC_BASE_URL"]}
    if form.validate_on_submit():
        try:
            embed.set_embed_origins(merchant, form.lines(),
                                    allow_http_localhost=current_app.config["REGISTRY_ENV"] != "production")
        except AppError as error:
            error.field = "origins"  # the page has one box for the list (the API names the item)
            return refuse(error, "merchants/embed_form.html", form, **context)
        flash(_("The list of sites is saved."), "success")
        return redirect(url_for(".embed_origins"))
    if not form.is_submitted():
        form.origins.data = "\n".join(embed.embed_origins(merchant))
    return render_form("merchants/embed_form.html", form, **context)


@bp.route("/numbers/new", methods=["GET", "POST"])
@store_required
def add_number(merchant: Merchant):
    """Add a contact number to the store (unverified until a code proves it)."""
    default_region = current_app.config["DEFAULT_REGION"]
    form = NumberForm(default_region=default_region)
    if form.validate_on_submit():
        try:
            number = operations.add_number(merchant, form.number.data, form.region.data or None,
                                           form.label.data or None, default_region=default_region)
        except AppError as error:
            return refuse(error, "merchants/number_form.html", form)
        db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
        flash(_("Number added. Verify it now to show shoppers your store is verified."), "success")
        return redirect(url_for(".verify", number_id=number.id))
    return render_form("merchants/number_form.html", form)


def _resend_wait(number_id: int) -> int:
    """Seconds until the page offers another code (the operations enforce it anyway)."""
    resend_at = session.get("resend_at", {}).get(str(number_id), 0)
    return max(0, int(resend_at - time.time() + 0.999))


def _remember_resend(number_id: int, seconds: int) -> None:
    now = time.time()
    pending = {k: v for k, v in session.get("resend_at", {}).items() if v > now}
    pending[str(number_id)] = now + seconds
    session["resend_at"] = pending


def _code_context(number) -> dict:
    """What the page offers: the code form only while a code waits (`number_code_state`), and the
    wait before another code, the longer of this browser's countdown and the limits'."""
    code = operations.number_code_state(number, _requester(), _policy())
    return {"code": code, "resend_wait": max(_resend_wait(number.id), code.send_wait)}


def _verify_page(number, errors=None, status=200, code_form=None):
    page = render_template(
        "merchants/verify.html", number=number, international=format_international(number.e164),
        form=code_form or CodeForm(), send_form=SendCodeForm(), errors=errors or {},
        **_code_context(number),
    )
    return page, status


@bp.get("/numbers/<int:number_id>")
@merchant_required
def verify(number_id: int):
    """A number's verification page: send a code, enter it."""
    return _verify_page(operations.owned_number(number_id, current_user.id))


@bp.post("/numbers/<int:number_id>/code")
@merchant_required
def send_code(number_id: int):
    """Send a code by SMS, or by a voice call to a landline."""
    number = operations.owned_number(number_id, current_user.id)
    form = SendCodeForm()
    if not form.validate_on_submit():
        return _verify_page(number, status=422)
    try:
        sent = operations.start_verification(get_gateway(), number, None, _requester(), _policy(),
                                             locale=current_language())
    except AppError as error:
        return _refused(number, error)
    _remember_resend(number.id, sent.resend_after_seconds)
    shown = format_international(number.e164)
    if sent.channel == "sms":
        flash(_("We sent a code by text message to %(number)s.", number=shown), "success")
    else:
        flash(_("We are calling %(number)s to read out a code.", number=shown), "success")
    return redirect(url_for(".verify", number_id=number.id))


@bp.post("/numbers/<int:number_id>/check")
@merchant_required
def check_code(number_id: int):
    """Check the code the merchant typed."""
    number = operations.owned_number(number_id, current_user.id)
    form = CodeForm()
    if not form.validate_on_submit():
        return _verify_page(number, status=422, code_form=form)
    try:
        operations.confirm_verification(get_gateway(), number, form.code.data, _requester(),
                                        _policy(), current_app.config["VERIFICATION_LAPSE_DAYS"])
    except AppError as error:
        return _refused(number, error, form)
    flash(_("%(number)s is verified.", number=format_international(number.e164)), "success")
    return redirect(url_for(".dashboard"))


def _refused(number, error: AppError, code_form: CodeForm | None = None):
    """The verification page again, with the refusal and, under a limit, its countdown."""
    if isinstance(error, RateLimited):
        _remember_resend(number.id, error.retry_after)
    return refuse(
        error, "merchants/verify.html", code_form or CodeForm(), ("number", "channel"),
        number=number, international=format_international(number.e164),
        send_form=SendCodeForm(), **_code_context(number),
    )
