"""HTML: a shopper proves their phone number (number, then code) and is signed in.

The pages take a `next` path on this site and go there once the number is
proved, so any shopper feature (asking for a callback first) can send a
shopper here. Between the two steps the number waits in the session,
encrypted with the app's data key, since a session cookie is only signed.
"""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from registry.core.errors import AppError, RateLimited
from registry.core.extensions import db
from registry.core.i18n import current_language
from registry.core.pages import refuse, register_page_errors, render_form, safe_next
from registry.core.phones import format_international, get_cipher, parse_phone
from registry.shoppers import operations
from registry.shoppers.auth import remember_shopper
from registry.shoppers.forms import CodeForm, PhoneForm, ResendForm
from registry.telephony import get_gateway
from registry.verification.policy import Requester, VerificationPolicy

bp = Blueprint("shoppers", __name__, url_prefix="/shopper")
register_page_errors(bp)

PENDING_KEY = "shopper_pending_phone"
CHANNEL_KEY = "shopper_code_channel"
RESEND_KEY = "shopper_resend_at"
# Refusals about the number (limits, a channel it cannot take) belong by the phone field.
NUMBER_FIELDS = ("number", "channel")


def _next() -> str:
    return safe_next(url_for("public.home"))


def _policy() -> VerificationPolicy:
    return VerificationPolicy.from_config(current_app.config)


def _requester() -> Requester:
    return Requester(ip=request.remote_addr)


def _region() -> str:
    return current_app.config["DEFAULT_REGION"]


def _pending() -> str | None:
    """The number waiting for its code (E.164), if any."""
    token = session.get(PENDING_KEY)
    if not token:
        return None
    try:
        return get_cipher().decrypt(token)
    except ValueError:  # written under another DATA_KEY: start again
        session.pop(PENDING_KEY, None)
        return None


def _resend_wait() -> int:
    return max(0, int(session.get(RESEND_KEY, 0) - time.time() + 0.999))


def _send(raw_phone: object) -> None:
    """Send a code to the number and remember it (encrypted) for the code step."""
    channel = operations.start_verification(get_gateway(), raw_phone, _requester(), _policy(), _region(),
                                            locale=current_language())
    e164 = parse_phone(raw_phone, _region(), field="phone").e164
    session[PENDING_KEY] = get_cipher().encrypt(e164)
    session[CHANNEL_KEY] = channel
    session[RESEND_KEY] = time.time() + _policy().resend_seconds


@bp.route("/phone", methods=["GET", "POST"])
def phone():
    """Step 1: the shopper's number; a code is sent to it."""
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            _send(form.phone.data)
        except AppError as error:
            if error.field in NUMBER_FIELDS:
                error.field = "phone"
            return refuse(error, "shoppers/phone.html", form, next=_next())
        return redirect(url_for(".code", next=_next()))
    return render_form("shoppers/phone.html", form, next=_next())


def _code_context(e164: str) -> dict:
    return {"resend_form": ResendForm(), "international": format_international(e164),
            "channel": session.get(CHANNEL_KEY, "sms"), "resend_wait": _resend_wait(), "next": _next()}


def _code_page(form: CodeForm, e164: str, status: int = 200):
    return render_template("shoppers/code.html", form=form, errors={}, **_code_context(e164)), status


def _refuse_code(error: AppError, form: CodeForm, e164: str):
    if isinstance(error, RateLimited) and error.field in NUMBER_FIELDS:
        session[RESEND_KEY] = time.time() + error.retry_after
    return refuse(error, "shoppers/code.html", form, NUMBER_FIELDS, **_code_context(e164))


@bp.route("/code", methods=["GET", "POST"])
def code():
    """Step 2: the code; a right one signs the browser in as this shopper."""
    e164 = _pending()
    if e164 is None:
        return redirect(url_for(".phone", next=_next()))
    form = CodeForm()
    if not form.validate_on_submit():
        return _code_page(form, e164, 422 if form.is_submitted() else 200)
    try:
        shopper, _token = operations.confirm_verification(get_gateway(), e164, form.code.data,
                                                          _requester(), _policy(), _region())
    except AppError as error:
        return _refuse_code(error, form, e164)
    db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
    remember_shopper(shopper)
    for key in (PENDING_KEY, CHANNEL_KEY, RESEND_KEY):
        session.pop(key, None)
    # Flashes travel in the (signed, not encrypted) session cookie: the masked number only.
    flash(_("Your number %(number)s is confirmed.", number=shopper.masked), "success")
    return redirect(_next())


@bp.post("/code/resend")
def resend():
    """Send a new code to the number waiting for one."""
    e164 = _pending()
    if e164 is None:
        return redirect(url_for(".phone", next=_next()))
    if not ResendForm().validate_on_submit():
        return _code_page(CodeForm(formdata=None), e164, 422)
    try:
        _send(e164)
    except AppError as error:
        return _refuse_code(error, CodeForm(formdata=None), e164)
    flash(_("We sent you a new code."), "success")
    return redirect(url_for(".code", next=_next()))
