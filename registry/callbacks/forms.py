"""What the callback pages ask and show: the request form, the choice of
times in the shopper's own zone, why a call waits, and a request's reasons in
the visitor's language.

The rules themselves (which times suit both sides, lengths, limits) live in
`registry.callbacks.operations`; this module only presents them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from registry.callbacks import operations, windows
from registry.callbacks.operations import MAX_NOTE, MAX_ORDER_REF
from registry.core.forms import BaseForm
from registry.core.i18n import N_, current_language
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
    waiting: str = ""  # why "as soon as possible" is not now (`waiting_text`), if it is not


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
    waiting = operations.waiting(merchant, shopper, policy, asap_at, now) if asap_at else None
    return TimeChoices(zone, asap_at, asap_label, days, waiting_text(waiting, zone,
                                                                     policy.shopper_call_hours, now))


# -- why a call waits ---------------------------------------------------------------


def _when_words(moment: datetime, zone: str, now: datetime) -> str:
    """`08:00 today`, `08:00 tomorrow` or `08:00 on Mon 23 Nov`, in `zone`."""
    tz = ZoneInfo(zone)
    day, today = as_utc(moment).astimezone(tz).date(), as_utc(now).astimezone(tz).date()
    clock = local_time(moment, zone)
    if day == today:
        return gettext("%(time)s today", time=clock)
    if day == today + timedelta(days=1):
        return gettext("%(time)s tomorrow", time=clock)
    return gettext("%(time)s on %(day)s", time=clock, day=local_day(moment, zone))


def _call_hours_clause(zone: str, call_hours: str, now: datetime) -> str:
    """The shopper's calling hours as the reason, put the way that is true now in `zone`:
    after the end of the evening, before the start of the morning, or (when it is the
    number's other zones that hold the call back) both ends."""
    start, end = windows.parse_call_hours(call_hours)
    first, last = start.strftime("%H:%M"), end.strftime("%H:%M") if end else "24:00"
    clock = as_utc(now).astimezone(ZoneInfo(zone)).time()
    if end is not None and clock >= end:
        return gettext("we do not call after %(end)s your time", end=last)
    if clock < start:
        return gettext("we do not call before %(start)s your time", start=first)
    return gettext("we call only between %(start)s and %(end)s your time", start=first, end=last)


def waiting_text(waiting: windows.Waiting | None, zone: str, call_hours: str,
                 now: datetime | None = None) -> str:
    """`We will call you at 08:00 tomorrow (your time): we do not call after 21:00 your time.`:
    when a waiting call comes and what holds it back, in `zone`; "" without a `waiting`."""
    if waiting is None:
        return ""
    now = now or utcnow()
    reasons = []
    if waiting.store_closed:
        reasons.append(gettext("the store opens at %(time)s (your time)",
                               time=local_time(waiting.at, zone)))
    if waiting.outside_call_hours:
        reasons.append(_call_hours_clause(zone, call_hours, now))
    why = reasons[0] if len(reasons) == 1 else gettext("%(first)s, and %(second)s", first=reasons[0],
                                                        second=reasons[1])
    return gettext("We will call you at %(when)s (your time): %(why)s.",
                   when=_when_words(waiting.at, zone, now), why=why)


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
