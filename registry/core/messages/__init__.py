"""The refusal catalogue: every message the product refuses with, once, keyed by code.

Operations raise `AppError(key, field=..., **params)` and never write the
words themselves. A key is `code` or `code.detail`; the JSON API answers
with `code` (the part before the dot, stable for clients) and the whole key
as `reason`. The words live here, as `lazy_gettext` msgids, so they are
extracted into the translation catalogue and rendered at the edge in the
request's language: `render_api` for JSON, `render` for pages, which may
word a few refusals for a form rather than for an API client
(`PAGE_MESSAGES`) and add the attempts left after a wrong code.

A parameter that is itself a word (a day, a kind of phone line, the phone
refusal inside a pool refusal) is passed as a key and put into words here.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import has_request_context
from flask_babel import force_locale, ngettext

from registry.core.i18n import DAY_NAMES
from registry.core.messages import (
    api,
    calls,
    common,
    embed,
    imports,
    integrations,
    parties,
    web,
    webhooks,
)

CATALOGUE = {**common.MESSAGES, **parties.MESSAGES, **calls.MESSAGES, **web.MESSAGES,
             **integrations.MESSAGES, **imports.MESSAGES, **api.MESSAGES, **webhooks.MESSAGES,
             **embed.MESSAGES}
PAGE_MESSAGES = dict(calls.PAGE_MESSAGES)
PHONE_KINDS = common.PHONE_KINDS

# Parameters whose value is a key into a table of words.
_WORDS = {"day": DAY_NAMES, "kind": PHONE_KINDS}


def public_code(key: str) -> str:
    """The `code` the JSON API returns for `key` (`invalid.slot_order` -> `invalid`)."""
    return key.split(".", 1)[0]


def check_key(key: str) -> str:
    """`key` if the catalogue has words for it; a typo fails where it is raised."""
    if key not in CATALOGUE:
        raise KeyError(f"no message for error code {key!r} in registry.core.messages")
    return key


def _values(params: Mapping[str, object]) -> dict[str, object]:
    values = dict(params)
    for name, words in _WORDS.items():
        if values.get(name) in words:
            values[name] = str(words[values[name]])
    if values.get("problem") in CATALOGUE:
        inner = {name: value for name, value in params.items() if name != "problem"}
        values["problem"] = _words(values["problem"], inner, page=False)
    return values


def _words(key: str, params: Mapping[str, object] | None, *, page: bool) -> str:
    template = str(PAGE_MESSAGES.get(key, CATALOGUE[key]) if page else CATALOGUE[key])
    return template % _values(params) if params and "%(" in template else template


def message(key: str, params: Mapping[str, object] | None = None, *, page: bool = False) -> str:
    """The words for `key` in the current language, with `params` filled in.

    Outside a request (a CLI command, the scheduler) there is no visitor to
    ask, so the words are English.
    """
    if not has_request_context():
        return english(key, params, page=page)
    return _words(key, params, page=page)


def english(key: str, params: Mapping[str, object] | None = None, *, page: bool = False) -> str:
    """The words for `key` in English, for what is stored (a callback request's reason)."""
    with force_locale("en"):
        return _words(key, params, page=page)


def render_api(error) -> str:
    """`error`'s message for the JSON body, in the request's language."""
    return message(error.key, error.params)


def render(error) -> str:
    """`error`'s message for a page, in the visitor's language, with the attempts left if any."""
    text = message(error.key, error.params, page=True)
    attempts_left = error.params.get("attempts_left")
    if attempts_left is not None:
        text += " " + ngettext("%(num)d attempt left.", "%(num)d attempts left.", attempts_left)
    return text
