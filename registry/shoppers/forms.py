"""Shopper identity forms: a phone number, then the code sent to it.

The forms carry fields and the CSRF token; the rules (what a phone number
is, what a code looks like, how often one may be sent) live in the
operations, so the HTML pages and the JSON API refuse the same input alike.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from registry.core.forms import BaseForm


class PhoneForm(BaseForm):
    phone = StringField(
        _l("Your phone number"),
        description=_l("Mobile or landline. Numbers outside mainland China start with + and the "
                       "country code, e.g. +852 5123 4567."),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 64},
    )


class CodeForm(BaseForm):
    code = StringField(
        _l("Code"),
        description=_l("The 6 digits we sent you."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 40},
    )


class ResendForm(BaseForm):
    """Only the CSRF token: the code goes to the number already entered."""
