"""What the callback pages ask and show: the request form, the choice of
times in the shopper's own zone, and a request's reasons in the visitor's
language.

The rules themselves (which times suit both sides, lengths, limits) live in
`registry.callbacks.operations`; this module only presents them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from registry.callbacks import operations, windows
from registry.callbacks.models import FINAL_STATUSES
from registry.callbacks.operations import MAX_NOTE, MAX_ORDER_REF
from registry.callbacks.serialize import iso
from registry.core.forms import BaseForm
from registry.core.i18n import N_, current_language
from registry.core.phones import format_international
from registry.core.timeutil import as_utc, utcnow
from registry.core.zones import zone_label

ASAP = "asap"


class CallbackForm(BaseForm):
    """When to call (radios the template draws: "asap" or a slot's start), and two optional texts."""

    when = StringField(default=ASAP)
    order_ref = StringField(_l("Order number (optional)"),
                            description=_l("If the call is about an order, the store sees which one."),
                            render_kw={"maxlength": MAX_ORDER_REF, "autocomplete": "off"})
    note = TextAreaField(_l("Note for the store (optional)"),
                         description=_l("What the call is about, so the store can be ready."),
                         render_kw={"maxlength": MAX_NOTE, "rows": 3})

    def when_value(self) -> object:
        """`"asap"` (also when nothing was chosen) or a slot as the operations take it."""
        value = (self.when.data or "").strip()
        return ASAP if value in ("", ASAP) else {"start": value}


class CancelForm(BaseForm):
    """Only the CSRF token."""


# -- times in the shopper's zone ---------------------------------------------------

DAY_PATTERNS = {"en": "EEE d MMM", "zh": "M月d日 EEE"}


def _locale() -> str:
    return "zh_Hans_CN" if current_language() == "zh" else "en_GB"


def local_day(moment: datetime, zone: str) -> str:
    """`Mon 23 Nov` (English) or `11月23日 周一` (Chinese), in `zone`."""
    return format_datetime(as_utc(moment), DAY_PATTERNS[current_language()], tzinfo=ZoneInfo(zone),
                           locale=_locale())


def local_time(moment: datetime, zone: str) -> str:
    return format_datetime(as_utc(moment), "HH:mm", tzinfo=ZoneInfo(zone), locale=_locale())


def local_moment(moment: datetime, zone: str) -> str:
    """`Mon 23 Nov 10:00` in `zone`."""
    return f"{local_day(moment, zone)} {local_time(moment, zone)}"


def zone_name(zone: str) -> str:
    """The shopper's zone as shown on the page (`Shanghai, UTC+08:00`)."""
    return zone_label(zone)


@dataclass(frozen=True)
class Slot:
    value: str
    label: str


@dataclass(frozen=True)
class Day:
    label: str
    slots: list[Slot]


@dataclass(frozen=True)
class TimeChoices:
    """What the form offers: "as soon as possible" (from `asap_at`) and slots by local day."""

    zone: str
    asap_at: datetime | None
    asap_label: str
    days: list[Day]


def _day_label(date, today, first_slot: datetime, zone: str) -> str:
    day = local_day(first_slot, zone)
    if date == today:
        return gettext("Today, %(day)s", day=day)
    if date == today + timedelta(days=1):
        return gettext("Tomorrow, %(day)s", day=day)
    return day


def time_choices(merchant, shopper, policy: operations.CallbackPolicy,
                 now: datetime | None = None) -> TimeChoices:
    """The times to offer this shopper for this store, shown in the shopper's zone."""
    now = now or utcnow()
    zone = shopper.timezone
    allowed = operations.allowed_intervals(merchant, shopper, policy, now, now + windows.HORIZON)
    asap_at = windows.first_moment(allowed, now)
    if asap_at is None:
        asap_label = ""
    elif asap_at - now < timedelta(minutes=1):
        asap_label = gettext("right away")
    else:
        asap_label = gettext("from %(when)s", when=local_moment(asap_at, zone))
    today = now.astimezone(ZoneInfo(zone)).date()
    by_date: dict = {}
    for start, end in operations.offered_slots(merchant, shopper, policy, now):
        by_date.setdefault(start.astimezone(ZoneInfo(zone)).date(), []).append((start, end))
    days = [Day(_day_label(date, today, slots[0][0], zone),
                [Slot(start.isoformat(), f"{local_time(start, zone)}–{local_time(end, zone)}")
                 for start, end in slots])
            for date, slots in by_date.items()]
    return TimeChoices(zone, asap_at, asap_label, days)


# -- the reasons a request carries ------------------------------------------------

# A request's `reason` is stored in English words (the JSON API returns it as
# stored, and rows written before codes existed hold the same words); the
# status page puts it into the visitor's language. Refusals are not handled
# here: they are worded by code in `registry.core.messages`.
REASONS = {
    "waiting for a free proxy number": N_("waiting for a free platform line"),
    "Twilio was unavailable; retrying": N_("the phone service was unavailable; we will try again"),
    "the store did not answer; trying again": N_("the store did not answer; we will try again"),
    "you did not answer; the store will try again": N_("you did not answer; we will try again"),
    "you did not answer the callback": N_("you did not answer the callback"),
    "no time left in the requested window": N_("no time left in the requested window"),
    "this shopper may not request callbacks": N_("this number may not request callbacks"),
    # `operations.unavailable_reason`, stored when a store stopped taking callbacks
    "This store is suspended and cannot take callback requests.":
        N_("This store is suspended and cannot take callback requests."),
    "This store has no verified phone number yet.": N_("This store has no verified phone number yet."),
    "This store's phone number is suspended.": N_("This store's phone number is suspended."),
    "This store has not set its business hours.": N_("This store has not set its business hours."),
}
# Reasons with one value: (stored words before it, after it, the page's words, the value's name).
FILLED_REASONS = (
    ("", "; no time left in the requested window",
     N_("%(reason)s; no time left in the requested window"), "reason"),
    ("the store did not take the call after ", " attempts",
     N_("the store did not take the call after %(n)s attempts"), "n"),
    ("the connection failed (", ")", N_("the connection failed (%(status)s)"), "status"),
    ("the call could not be placed (Twilio ", ")",
     N_("the call could not be placed (error %(code)s)"), "code"),
)


def callback_text(reason: str | None) -> str:
    """A request's stored reason in the visitor's language (as stored if it is not a known one)."""
    if not reason:
        return ""
    if reason in REASONS:
        return gettext(REASONS[reason])
    for before, after, shown, name in FILLED_REASONS:
        if reason.startswith(before) and reason.endswith(after) and len(reason) > len(before + after):
            value = reason[len(before):len(reason) - len(after)]
            return gettext(shown, **{name: callback_text(value) if name == "reason" else value})
    return reason


# -- the status page ---------------------------------------------------------------

OUTCOMES = {
    None: N_("under way"),
    "not_placed": N_("the call was not placed"),
    "provider_error": N_("the call could not be placed"),
    "merchant_busy": N_("the store's line was busy"),
    "merchant_no_answer": N_("the store did not answer"),
    "merchant_failed": N_("the call to the store did not go through"),
    "merchant_did_not_connect": N_("the store did not take the call"),
    "completed": N_("you talked with the store"),
    "shopper_busy": N_("your line was busy"),
    "shopper_no-answer": N_("you did not answer"),
    "shopper_failed": N_("the call to you did not go through"),
    "shopper_canceled": N_("the call to you was cut off"),
}
CANCELABLE = ("requested", "scheduled")


@dataclass(frozen=True)
class AttemptLine:
    seq: int
    started: str
    outcome: str


@dataclass(frozen=True)
class StatusView:
    """A request as its shopper sees it: in words, in the shopper's zone, no store number."""

    status: str
    headline: str
    note: str
    attempts: list[AttemptLine]
    calls_from: str | None
    can_cancel: bool
    final: bool
    signature: str


def _headline(request, zone: str) -> str:
    status, reason = request.status, callback_text(request.reason)
    if status == "scheduled":
        return gettext("Scheduled for %(when)s (%(zone)s)", when=local_moment(request.due_at, zone),
                       zone=zone_name(zone))
    if status in ("failed", "expired") and reason:
        template = N_("Failed — %(reason)s") if status == "failed" else N_("Expired — %(reason)s")
        return gettext(template, reason=reason)
    words = {"requested": N_("Requested"), "calling": N_("Calling the store…"), "connected": N_("Connected"),
             "completed": N_("Completed"), "failed": N_("Failed"), "expired": N_("Expired"),
             "canceled": N_("Canceled")}
    return gettext(words.get(status, status))


def signature(request) -> str:
    """What the page's script compares with `GET /api/v1/callbacks/<id>` to notice a change."""
    attempts = [[a.state, a.outcome] for a in request.attempts]
    return json.dumps([request.status, iso(request.due_at), request.reason, attempts],
                      separators=(",", ":"), ensure_ascii=False)


def _outcome(outcome: str | None) -> str:
    return gettext(OUTCOMES[outcome]) if outcome in OUTCOMES else outcome.replace("_", " ")


def status_view(request, zone: str) -> StatusView:
    """The status page's content for `request`, times in `zone` (the shopper's)."""
    last = request.attempts[-1] if request.attempts else None
    return StatusView(
        status=request.status, headline=_headline(request, zone),
        note=callback_text(request.reason) if request.status in CANCELABLE else "",
        attempts=[AttemptLine(a.seq, local_moment(a.created_at, zone), _outcome(a.outcome))
                  for a in request.attempts],
        calls_from=format_international(last.proxy_number) if last else None,
        can_cancel=request.status in CANCELABLE, final=request.status in FINAL_STATUSES,
        signature=signature(request))
