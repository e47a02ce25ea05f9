"""Helpers the HTML blueprints share: refused forms, error pages, safe redirects.

A view that calls an operation catches its `AppError` and hands it to
`refuse`, which settles the session (rolling back, or committing the audit
rows a refusal keeps), puts the message (from the catalogue, in the
visitor's language) next to the field the error names, and renders the
form again with the error's status code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, render_template, request
from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests

from registry.core import messages
from registry.core.errors import AppError, settle_session

FORM_ERROR = "_form"


def is_safe_next(target: str | None) -> bool:
    """True for a path on this site (`/merchant/?x=1`), never another host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(c in target for c in "\\\r\n\t") or len(target) > 2000:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(default: str) -> str:
    """The request's `next` (query or form) if it stays on this site, else `default`."""
    target = request.values.get("next")
    return target if is_safe_next(target) else default


def render_form(template: str, form: FlaskForm, errors: dict | None = None, **context):
    """Render a form page; a submitted form that failed validation answers 422."""
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template(template, form=form, errors=errors or {}, **context), status


def refuse(error: AppError, template: str, form: FlaskForm | None,
           extra_fields: tuple[str, ...] = (), **context):
    """Show `template` again with `error`'s message by the field it names."""
    settle_session(error)
    message = messages.render(error)
    errors: dict[str, str] = {}
    if form is not None and error.field in form:
        form[error.field].errors = [*form[error.field].errors, message]
    elif error.field in extra_fields:
        errors[error.field] = message
    else:
        errors[FORM_ERROR] = message
    page = render_template(template, form=form, errors=errors, **context)
    return page, error.status, error.headers()


def error_page(error: AppError):
    """A refusal raised outside a form (not found, wrong role) as a page."""
    settle_session(error)
    page = render_template("error.html", message=messages.render(error), status=error.status)
    return page, error.status, error.headers()


def csrf_error_page(error: CSRFError):
    """A form post without a valid CSRF token: nothing was done."""
    message = gettext("This form has expired or did not come from this site. "
                      "Reload the page and try again.")
    return render_template("error.html", message=message, status=400), 400


def too_many_requests_page(error: TooManyRequests):
    """Flask-Limiter's refusal (sign-in attempts, for one) as a page."""
    message = gettext("Too many attempts. Wait a minute and try again.")
    return render_template("error.html", message=message, status=429), 429


def register_page_errors(bp: Blueprint) -> None:
    """Answer a blueprint's refusals with pages in the visitor's language."""
    bp.register_error_handler(AppError, error_page)
    bp.register_error_handler(CSRFError, csrf_error_page)
    bp.register_error_handler(TooManyRequests, too_many_requests_page)
