"""Language choice: English and Simplified Chinese."""

from flask import Flask, request, session

LANGUAGES = {"en": "English", "zh": "简体中文"}


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
