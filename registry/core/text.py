"""The one rule for text a client sends: no control characters, only real Unicode.

A NUL byte is stored by SQLite and later breaks what the text is put into
(the TwiML a merchant hears), and PostgreSQL refuses it outright, as it
refuses lone surrogates (not encodable in UTF-8). So every text input is
checked here before it reaches an operation:

- JSON bodies: `check_json` walks the parsed body (`core.api.json_body`),
  naming the offending field by its path (`when.start`, `business_hours.mon.0.1`);
- HTML forms: `core.forms.BaseForm` checks every field (a new form gets it by default);
- query strings: `check_query_string`, before every view but Twilio's webhooks.

Single-line text refuses C0 controls (U+0000–U+001F), DEL (U+007F), the
Unicode line and paragraph separators (U+2028, U+2029) and lone surrogates.
Multi-line text (notes, complaint text, reasons, resolutions) also allows
tab and newline; a browser's CR LF, or a bare CR, becomes LF.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import request

from registry.core.errors import InvalidInput

# JSON fields that are multi-line text (the forms' TextAreaFields say it themselves).
MULTILINE_FIELDS = frozenset({"note", "text", "reason", "resolution"})
MULTILINE_ALLOWED = frozenset("\t\n")
BIGGEST = 2**63 - 1  # the largest integer a JSON body may hold
SHOWN_CHARACTERS = 5  # a message lists at most this many distinct offending characters


def _refused(char: str, multiline: bool) -> bool:
    point = ord(char)
    if point < 0x20 or point == 0x7F:
        return not (multiline and char in MULTILINE_ALLOWED)
    return 0xD800 <= point <= 0xDFFF or (not multiline and point in (0x2028, 0x2029))


def normalise_newlines(value: str) -> str:
    """CR LF (what browsers send from a textarea) and a bare CR as LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def refused_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The distinct characters of `value` the rule refuses, in order of appearance."""
    found: list[str] = []
    for char in value:
        if char not in found and _refused(char, multiline):
            found.append(char)
    return found


def _describe(chars: Iterable[str]) -> str:
    """`U+0000, U+001B`: code points, since the characters themselves cannot be shown."""
    chars = list(chars)
    shown = ", ".join(f"U+{ord(c):04X}" for c in chars[:SHOWN_CHARACTERS])
    return shown + (", …" if len(chars) > SHOWN_CHARACTERS else "")


def printable(value: str) -> str:
    """`value` with the refused characters replaced by U+FFFD, to name a field safely."""
    return "".join("\ufffd" if _refused(c, False) else c for c in value)


def text_error(value: str, field: str, *, name: str | None = None,
               multiline: bool = False) -> InvalidInput | None:
    """The refusal for `value` in `field` (`name` as the message says it), or None if it is fine."""
    chars = refused_characters(value, multiline=multiline)
    if not chars:
        return None
    surrogates = [c for c in chars if 0xD800 <= ord(c) <= 0xDFFF]
    key = "text.not_unicode" if surrogates else "text.control_characters"
    return InvalidInput(key, field=field, name=name or field, chars=_describe(surrogates or chars))


def check_text(value: str, field: str, *, name: str | None = None, multiline: bool = False) -> str:
    """`value` as the operations should see it (newlines normalised), or 422 naming `field`."""
    if multiline:
        value = normalise_newlines(value)
    error = text_error(value, field, name=name, multiline=multiline)
    if error is not None:
        raise error
    return value


def check_json(value, path: str = ""):
    """`value` (a parsed JSON body) with every string checked; multi-line fields normalised.

    An integer past 64 bits is refused too (`invalid.number_range`).

    A field is multi-line when its own name (the last key of its path) is in
    `MULTILINE_FIELDS`. Keys are checked as single-line text. Iterative, so
    a deeply nested body cannot exhaust the stack.
    """
    root = [value]
    stack: list[tuple[object, object, str, bool]] = [(root, 0, path, False)]
    while stack:
        container, key, where, multiline = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = check_text(item, where or "body", multiline=multiline)
        elif isinstance(item, int) and not -BIGGEST <= item <= BIGGEST:
            # No field takes a number past 64 bits, and SQLite cannot even compare one.
            raise InvalidInput("invalid.number_range", field=where or "body", name=where or "body")
        elif isinstance(item, dict):
            for name in list(item):
                child = f"{where}.{name}" if where else str(name)
                check_text(name, printable(child))
                stack.append((item, name, child, name in MULTILINE_FIELDS))
        elif isinstance(item, list):
            stack.extend((item, i, f"{where}.{i}" if where else str(i), multiline)
                         for i in range(len(item)))
    return root[0]


def check_query_string() -> None:
    """Refuse control characters in any query-string parameter (its name or its values).

    Registered before every view; Twilio's webhooks check their own
    parameters (they come signed from Twilio, not typed by a person).
    """
    if request.path.startswith("/webhooks/"):
        return
    for name, values in request.args.lists():
        field = printable(name)
        check_text(name, field)
        for value in values:
            check_text(value, field)


def register_text_checks(app) -> None:
    """Check every request's query string before its view runs."""
    app.before_request(check_query_string)
