"""HTML: sign-up, login, logout, and the set-password link of an invited account."""

from flask import Blueprint, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from registry.accounts import invitations, operations
from registry.accounts.forms import LoginForm, SetPasswordForm, SignupForm
from registry.core.errors import AppError
from registry.core.extensions import db, limiter
from registry.core.pages import error_page, refuse, register_page_errors, render_form, safe_next

bp = Blueprint("accounts", __name__)
register_page_errors(bp)


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _landing() -> str:
    """Where a signed-in user goes by default."""
    if current_user.is_authenticated and current_user.is_merchant:
        return url_for("merchants.dashboard")
    if current_user.is_authenticated and current_user.is_staff:
        return url_for("staff.dashboard")
    return url_for("public.home")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def signup():
    """Create a merchant owner account and sign it in."""
    if current_user.is_authenticated:
        return redirect(_landing())
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = operations.create_user(form.email.data or "", form.password.data or "")
        except AppError as error:
            return refuse(error, "accounts/signup.html", form)
        db.session.flush()  # ids and defaults for what follows; the request commits (core.transactions)
        login_user(user)
        flash(_("Welcome! Your account is ready. Now set up your store."), "success")
        return redirect(url_for("merchants.new_store"))
    return render_form("accounts/signup.html", form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def login():
    """Sign in, then go back to the page that asked for it (if it is on this site)."""
    form = LoginForm()
    if current_user.is_authenticated and not form.is_submitted():
        return redirect(safe_next(_landing()))
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.email.data or "", form.password.data or "")
        except AppError as error:
            return refuse(error, "accounts/login.html", form)
        login_user(user)
        flash(_("You are signed in."), "success")
        return redirect(safe_next(_landing()))
    if not form.is_submitted():
        form.next.data = safe_next("")
    return render_form("accounts/login.html", form)


@bp.post("/logout")
def logout():
    """Sign out (a POST, so another site cannot sign anyone out)."""
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("public.home"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def set_password(token: str):
    """An invited owner chooses a password (the link works once, for a week), and is signed in."""
    secret = current_app.config["SECRET_KEY"]
    try:
        invited = invitations.user_for_set_password(token, secret)
    except AppError as error:
        return error_page(error)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.set_password(token, form.password.data or "", secret)
        except AppError as error:
            return refuse(error, "accounts/set_password.html", form, email=invited.email)
        logout_user()
        login_user(user)
        flash(_("Your password is set and you are signed in."), "success")
        return redirect(_landing())
    return render_form("accounts/set_password.html", form, email=invited.email)
