"""Language choice (English and Simplified Chinese) and translated refusals.

The locale comes from the visitor's explicit choice (kept in the session by
the language switch), else from `Accept-Language`, else English.

Operations refuse bad input with English messages (`AppError.message`),
which the JSON API returns as they are. The HTML views show them in the
visitor's language through `translate_error`: a message is looked up as a
catalogue msgid; messages with values filled in (a count of seconds, the
refused characters) are matched against the patterns in `FILLED_MESSAGES`
and translated with their values put back.
"""

from __future__ import annotations

import re
from functools import cache

from flask import Flask, request, session
from flask_babel import get_locale, gettext, lazy_gettext, ngettext

LANGUAGES = {"en": "English", "zh": "简体中文"}
HTML_LANG = {"en": "en", "zh": "zh-Hans"}

DAY_NAMES = {
    "mon": lazy_gettext("Monday"),
    "tue": lazy_gettext("Tuesday"),
    "wed": lazy_gettext("Wednesday"),
    "thu": lazy_gettext("Thursday"),
    "fri": lazy_gettext("Friday"),
    "sat": lazy_gettext("Saturday"),
    "sun": lazy_gettext("Sunday"),
}


def N_(message: str) -> str:
    """Mark a msgid for extraction without translating it here."""
    return message


# Messages the operations raise verbatim; listed so extraction finds them.
OPERATION_MESSAGES = (
    # registry/core/phones.py
    N_("Enter a phone number."),
    N_("The phone number must be text."),
    N_("That is too long to be a phone number."),
    N_("That is not a phone number."),
    N_("A + may only stand at the start of the number."),
    N_("That is not a phone number we can read; check the digits and the country code."),
    N_("That country code does not exist; start with + and the country code, e.g. +86."),
    N_("That number is too short."),
    N_("That number is too long."),
    N_("That country code does not exist."),
    N_("That number has the wrong length."),
    N_("That number does not exist in its country's numbering plan."),
    N_("We cannot tell what kind of line that is; enter a mobile or landline number."),
    N_("a premium-rate number"),
    N_("a shared-cost number"),
    N_("a toll-free number"),
    N_("a universal access number"),
    N_("a voicemail number"),
    N_("a personal (follow-me) number"),
    N_("a pager number"),
    # registry/verification/operations.py
    N_("The channel must be 'sms' or 'call'."),
    N_("Too many codes were sent to this number; try again in 10 minutes."),
    N_("This number cannot receive a code by that channel."),
    N_("The code could not be sent just now; please try again shortly."),
    N_("The code must be text of 6 digits."),
    N_("The code is the 6 digits we sent you."),
    N_("No code has been sent to this number yet."),
    N_("That code was already used; request a new one."),
    N_("Too many wrong codes; request a new code."),
    N_("This code has expired; request a new one."),
    N_("The code could not be checked just now; please try again shortly."),
    N_("That code is not right."),
    # registry/merchants/operations.py and hours.py
    N_("Enter the store's name."),
    N_("This account already has a store."),
    N_("No such store."),
    N_("No such number."),
    N_("The region is a two-letter country code such as CN."),
    N_("This number is already on your store."),
    N_("This is a landline: it can get the code by a voice call, not SMS."),
    N_("This number is suspended; contact support."),
    N_("Choose a time zone such as Asia/Shanghai."),
    N_("claimed by another store"),
    N_("verification expired; verify again"),
    # registry/accounts/operations.py and auth.py
    N_("Enter a valid email address."),
    N_("The password is too long."),
    N_("An account with that email already exists."),
    N_("Wrong email or password."),
    N_("This needs a merchant account."),
    N_("This needs a staff account."),
)

# Messages raised with values filled in. Each is written here with
# `%(name)s` where a value goes; the English text it produces is exactly
# the operation's message, so matching is exact.
FILLED_MESSAGES = (
    N_("A phone number may contain only digits, spaces, dashes and a leading +; "
       "remove %(chars)s."),
    N_("That is %(kind)s; enter a mobile or landline number."),
    N_("A code was sent a moment ago; you can ask for another in %(s)s seconds."),
    N_("Too many codes were sent to this number; try again in %(s)s seconds."),
    N_("Too many codes were requested from your network; try again in %(s)s seconds."),
    N_("Too many codes were requested by this account; try again in %(s)s seconds."),
    N_("The name must be at most %(n)s characters."),
    N_("The label is text of at most %(n)s characters."),
    N_("A store can have at most %(n)s numbers."),
    N_("The password must have at least %(n)s characters."),
    N_('%(day)s: times are "HH:MM" from 00:00 to 24:00.'),
    N_("%(day)s: %(start)s to %(end)s ends before it starts."),
    N_("%(day)s: the range starting %(start)s overlaps another."),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _filled_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    patterns = []
    for template in FILLED_MESSAGES:
        parts = _PLACEHOLDER.split(template)
        # split() alternates literal text and placeholder names.
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
        patterns.append((re.compile(regex, re.DOTALL), template))
    return tuple(patterns)


def _translate_value(value: str) -> str:
    if value in DAY_NAMES:
        return str(DAY_NAMES[value])
    return gettext(value) if value in OPERATION_MESSAGES else value


def translate_message(message: str) -> str:
    """`message` (an operation's English refusal) in the current language."""
    if message in OPERATION_MESSAGES:
        return gettext(message)
    for pattern, template in _filled_patterns():
        match = pattern.fullmatch(message)
        if match:
            values = {k: _translate_value(v) for k, v in match.groupdict().items()}
            return gettext(template, **values)
    return message


def translate_error(error) -> str:
    """The message of an `AppError` to show on a page, with attempts left if any."""
    message = translate_message(error.message)
    attempts_left = error.extra.get("attempts_left")
    if attempts_left is not None:
        message += " " + ngettext(
            "%(num)d attempt left.", "%(num)d attempts left.", attempts_left
        )
    return message


def select_locale() -> str:
    """The session's chosen language, else the browser's preference, else English."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def current_language() -> str:
    """The language code of the page being rendered (`en` or `zh`)."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


def register_template_helpers(app: Flask) -> None:
    """Globals the templates use: languages, the current one, day names."""
    from registry.core.zones import zone_label

    app.jinja_env.filters["translate_message"] = translate_message
    app.jinja_env.filters["zone_label"] = zone_label
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        HTML_LANG=HTML_LANG,
        DAY_NAMES=DAY_NAMES,
        current_language=current_language,
    )
