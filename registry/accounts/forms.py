"""Sign-up and login forms.

The account rules (a valid email, a long enough password, a new address)
live in `registry.accounts.operations`; the forms only carry the fields and
the CSRF token, plus the password confirmation, which is a form matter.
"""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import EqualTo

from registry.core.forms import BaseForm


def new_password_field() -> PasswordField:
    """A new password, as signing up and an invited owner's first password ask for it."""
    return PasswordField(
        _l("Password"),
        description=_l("At least 10 characters."),
        render_kw={"autocomplete": "new-password", "minlength": 10, "maxlength": 256},
    )


def repeat_password_field() -> PasswordField:
    """The new password again, which must equal the form's `password`."""
    return PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", message=_l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password", "maxlength": 256},
    )


class SignupForm(BaseForm):
    email = EmailField(_l("Email"), render_kw={"autocomplete": "email", "maxlength": 254})
    password = new_password_field()
    confirm = repeat_password_field()


class LoginForm(BaseForm):
    email = EmailField(_l("Email"), render_kw={"autocomplete": "username", "maxlength": 254})
    password = PasswordField(
        _l("Password"), render_kw={"autocomplete": "current-password", "maxlength": 256}
    )
    next = HiddenField()


class SetPasswordForm(BaseForm):
    """The page an invited owner's link opens: choose a password."""

    password = new_password_field()
    confirm = repeat_password_field()
