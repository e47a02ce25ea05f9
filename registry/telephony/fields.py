"""The shapes of what Twilio posts to the webhooks, in one table, and the check against it.

A signed request is Twilio's, but a field that is not of its documented shape
(a 5,000-character or NUL-carrying CallSid, a `?binding=` that is not an id)
must not reach a view: it would fail in the database (a 500) or be stored.
`first_bad_field` holds every form field and query parameter in the tables
below to its shape, before any view reads one; a field not in them is one
Twilio adds that no view reads (FromCity, CallerName, ...), and passes
unread. An empty value is an absent one: Twilio sends `Called=""` and the like.

The check is on the inbound routing fast path: a dict lookup, a length test
and one precompiled regex per field, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from registry.core.urls import LARGEST_ID

# C0 controls (but tab, LF, CR), DEL and C1 controls: a texter's phone sends line breaks
# and tabs; the rest are dropped from a text's body rather than relayed.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_BODY = 1600  # Twilio's longest message, segments joined


@dataclass(frozen=True)
class Shape:
    """What one field must look like: `pattern` (whole value) within `max_length`, or one
    of `choices`; `check`, if any, a further test given the app's config; `clean`
    rewrites the value before it is measured (and is what a view reads, through
    `clean_body`)."""

    reason: str  # what it must be, for the log and the 400's body
    max_length: int
    pattern: re.Pattern[str] | None = None
    check: Callable[[str, Mapping], bool] | None = None
    clean: Callable[[str], str] | None = None
    choices: frozenset[str] | None = None

    def fits(self, value: str, config: Mapping) -> bool:
        if self.clean is not None:
            value = self.clean(value)
        if len(value) > self.max_length:
            return False
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return False
        if self.choices is not None and value not in self.choices:
            return False
        return self.check is None or self.check(value, config)


def _one_of(*values: str) -> Shape:
    return Shape(f"is not one of {', '.join(values)}", max(map(len, values)), choices=frozenset(values))


# Twilio's SIDs: a two-letter prefix naming the kind, then 32 hex digits.
CALL_SID = Shape("is not a call SID (CA...)", 34, re.compile(r"CA[0-9a-fA-F]{32}"))
MESSAGE_SID = Shape("is not a message SID (SM... or MM...)", 34, re.compile(r"[SM]M[0-9a-fA-F]{32}"))


def _our_account(value: str, config: Mapping) -> bool:
    return value == config["TWILIO_ACCOUNT_SID"]


def _recording_host(url: str, config: Mapping) -> bool:
    """Twilio's own API host over HTTPS, or the API base URL the app is configured with
    (the simulator's, in development): the only places a recording is fetched from."""
    if url.startswith("https://api.twilio.com/"):
        return True
    base = (config.get("TWILIO_API_URL") or "").rstrip("/")
    return bool(base) and url.startswith(base + "/")


def clean_body(body: str) -> str:
    """A text's body without control characters other than tab and line breaks."""
    return _CONTROLS.sub("", body)


# A party's address as Twilio reports it: E.164 (and the digits it substitutes for a
# withheld caller ID: +266696687, +86282452253, +7378742833, +2562533), a short code's
# digits, the word a carrier sends for a withheld caller ID (Anonymous, RESTRICTED,
# Unknown, ...; Twilio passes it through since 2022), a Voice SDK `client:` identity,
# or a `sip:` URI.
PARTY = Shape("is not a phone number, withheld caller ID, client or SIP address", 254,
              re.compile(r"\+[0-9]{1,15}|[0-9]{3,15}|[A-Za-z]{1,32}"
                         r"|client:[A-Za-z0-9_.@+-]{1,121}|sip:[!-~]{1,250}"))
CALL_STATUS = _one_of("queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed",
                      "no-answer", "canceled")
COUNT = Shape("is not a whole number", 9, re.compile(r"[0-9]{1,9}"))
ID = Shape("is not an id", 10, re.compile(r"[1-9][0-9]{0,8}|[12][0-9]{9}"),
           check=lambda value, _: int(value) <= LARGEST_ID)

# The form fields of Twilio's voice and messaging webhooks that the app reads.
FORM: dict[str, Shape] = {
    "AccountSid": Shape("is not this account's SID", 34, re.compile(r"AC[0-9a-fA-F]{32}"),
                        check=_our_account),
    "CallSid": CALL_SID,
    "ParentCallSid": CALL_SID,
    "DialCallSid": CALL_SID,
    "MessageSid": MESSAGE_SID,
    "SmsSid": MESSAGE_SID,
    "SmsMessageSid": MESSAGE_SID,
    "RecordingSid": Shape("is not a recording SID (RE...)", 34, re.compile(r"RE[0-9a-fA-F]{32}")),
    "To": PARTY,
    "From": PARTY,
    "Called": PARTY,
    "Caller": PARTY,
    "CallStatus": CALL_STATUS,
    "DialCallStatus": _one_of("completed", "answered", "busy", "no-answer", "failed", "canceled"),
    "Direction": _one_of("inbound", "outbound-api", "outbound-dial", "trunking-originating",
                         "trunking-terminating"),
    "Digits": Shape("is not keypad digits", 64, re.compile(r"[0-9#*]{1,64}")),
    "CallDuration": COUNT,
    "DialCallDuration": COUNT,
    "RecordingDuration": Shape("is not a whole number", 10, re.compile(r"-?[0-9]{1,9}")),  # -1: none made
    "SequenceNumber": COUNT,
    "Timestamp": Shape("is not an RFC 2822 date", 31, re.compile(
        r"[A-Za-z]{3}, [0-9]{1,2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}")),
    "RecordingUrl": Shape("is not a recording URL on Twilio's API host", 512, re.compile(r"[!-~]{1,512}"),
                          check=_recording_host),
    "Body": Shape(f"is longer than {MAX_BODY} characters", MAX_BODY, clean=clean_body),
    "ApiVersion": Shape("is not an API version", 10, re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")),
}

# The app's own query parameters on the webhook URLs it hands Twilio (`webhook_url`).
QUERY: dict[str, Shape] = {
    "binding": ID,
    "attempt": ID,
    "leg": _one_of("merchant", "shopper"),
    "lang": _one_of("en", "zh"),
}


def first_bad_field(form, args, config: Mapping) -> tuple[str, str] | None:
    """(name, reason) of the first field of `form` or `args` (werkzeug `MultiDict`s) that
    is not of its shape, or None when all are."""
    for values, table in ((form, FORM), (args, QUERY)):
        for name, value in values.items(multi=True):
            shape = table.get(name)
            if shape is not None and value and not shape.fits(value, config):
                return name, shape.reason
    return None
