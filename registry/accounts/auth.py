"""Who is asking: Flask-Login sessions for browsers, bearer tokens for the API."""

from __future__ import annotations

from functools import wraps

from flask import Flask, redirect, request, url_for
from flask_login import current_user

from registry.core.bearer import bearer_token, is_client_key
from registry.core.errors import Forbidden, Unauthorized, is_api_request
from registry.core.extensions import db, login_manager
from registry.core.openapi import auth_required_by

# The refusal for a signed-in user of another role than a view needs.
ROLE_REFUSALS = {"merchant": "forbidden.needs_merchant", "staff": "forbidden.needs_staff",
                 "admin": "forbidden.needs_admin"}


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str):
    from registry.accounts.models import User

    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


@login_manager.request_loader
def _load_user_from_bearer(req):
    from registry.accounts.operations import user_for_token

    token = bearer_token()  # `req` is the request being handled
    if token is None or is_client_key(token):
        return None
    return user_for_token(token)


@login_manager.unauthorized_handler
def _unauthorized():
    if is_api_request():
        raise Unauthorized("unauthorized")
    return redirect(url_for("accounts.login", next=request.full_path))


def role_required(role: str):
    """Require a signed-in user with `role` (401 if anonymous, 403 if another role).

    An admin is a staff member with more rights: `staff` admits admins too.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                raise Forbidden(ROLE_REFUSALS[role])
            return view(*args, **kwargs)

        return auth_required_by("userToken", "session")(wrapped)

    return decorator


merchant_required = role_required("merchant")
staff_required = role_required("staff")
admin_required = role_required("admin")
