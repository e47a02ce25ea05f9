"""Refusals of the JSON helpers, sign-in, accounts and phone numbers.

Each key is `code` or `code.detail`: the part before the dot is the `code`
the JSON API returns (stable, often shared by several messages), the whole
key names this one message (`reason` in the JSON body).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # registry/core/api.py: reading JSON bodies
    "not_json": _l("Send a JSON body with Content-Type: application/json."),
    "malformed_json": _l("The body must be a JSON object."),
    "required": _l("'%(name)s' is required."),
    "required.not_empty": _l("'%(name)s' must not be empty."),
    "invalid_type": _l("'%(name)s' must be a string."),
    "invalid_type.text": _l("'%(name)s' must be text."),
    "invalid.not_a_number": _l("'%(name)s' must be a number."),
    "invalid.number_range": _l("'%(name)s' is too large a number."),
    "too_long": _l("'%(name)s' must be at most %(limit)s characters."),
    # registry/core/text.py: every text input, JSON, form or query string
    "text.control_characters": _l("'%(name)s' must not contain control characters; remove %(chars)s."),
    "text.not_unicode": _l("'%(name)s' is not valid Unicode text; remove %(chars)s."),
    # who may do what
    "unauthorized": _l("Sign in or send a valid bearer token."),
    "unauthorized.sign_in_or_prove": _l("Sign in or prove your phone number."),
    "unauthorized.prove_phone": _l("Prove your phone number first (shopper token or session)."),
    "forbidden.needs_merchant": _l("This needs a merchant account."),
    "forbidden.needs_staff": _l("This needs a staff account."),
    "forbidden.call_records": _l("Only staff and merchants can read call records."),
    "forbidden.phone_filter": _l("Only complaint staff can search calls by phone number."),
    "forbidden.staff_do_not_file": _l("Staff handle complaints; they do not file them."),
    # registry/accounts
    "invalid.email": _l("Enter a valid email address."),
    "invalid.password_short": _l("The password must have at least %(minimum)s characters."),
    "invalid.password_long": _l("The password is too long."),
    "invalid.role": _l("The role must be one of %(values)s."),
    "conflict.email_taken": _l("An account with that email already exists."),
    "invalid_credentials": _l("Wrong email or password."),
    # registry/core/phones.py
    "required.phone": _l("Enter a phone number."),
    "invalid_type.phone": _l("The phone number must be text."),
    "too_long.phone": _l("That is too long to be a phone number."),
    "invalid_characters": _l("A phone number may contain only digits, spaces, dashes and a leading +; "
                             "remove %(chars)s."),
    "invalid_characters.not_ascii": _l("That is not a phone number."),
    "invalid_phone.plus_inside": _l("A + may only stand at the start of the number."),
    "invalid_phone.not_in_plan": _l("That number does not exist in its country's numbering plan."),
    "impossible_number": _l("That is not a phone number we can read; check the digits and the "
                            "country code."),
    "impossible_number.country_code": _l("That country code does not exist; start with + and the "
                                         "country code, e.g. +86."),
    "impossible_number.unknown_country": _l("That country code does not exist."),
    "impossible_number.too_short": _l("That number is too short."),
    "impossible_number.too_long": _l("That number is too long."),
    "impossible_number.wrong_length": _l("That number has the wrong length."),
    "refused_number_type": _l("That is %(kind)s; enter a mobile or landline number."),
    "refused_number_type.unknown": _l("We cannot tell what kind of line that is; enter a mobile or "
                                      "landline number."),
}

# The `kind` parameter of `refused_number_type`: a key, put into words here.
PHONE_KINDS = {
    "premium_rate": _l("a premium-rate number"),
    "shared_cost": _l("a shared-cost number"),
    "toll_free": _l("a toll-free number"),
    "uan": _l("a universal access number"),
    "voicemail": _l("a voicemail number"),
    "personal": _l("a personal (follow-me) number"),
    "pager": _l("a pager number"),
}
