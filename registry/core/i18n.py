"""Language choice (English and Simplified Chinese) and the words pages share.

The locale comes from the visitor's explicit choice (kept in the session by
the language switch), else from `Accept-Language`, else English. Refusals
are worded once, by code, in `registry.core.messages`.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import get_locale, lazy_gettext

from registry.core.zones import zone_label

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
    app.jinja_env.filters["zone_label"] = zone_label
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        HTML_LANG=HTML_LANG,
        DAY_NAMES=DAY_NAMES,
        current_language=current_language,
    )
