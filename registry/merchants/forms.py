"""Merchant onboarding forms: the store profile, a new number, a code.

The forms carry fields and the CSRF token; every rule (lengths, valid time
zones, business hours, phone numbers, codes) is checked by the operations,
so the HTML form and the JSON API refuse the same input the same way.
"""

from __future__ import annotations

import phonenumbers
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField

from registry.core.forms import BaseForm
from registry.merchants.hours import DAYS, DEFAULT_TIMEZONE, MAX_RANGES_PER_DAY, timezone_choices

SLOTS = tuple(range(1, MAX_RANGES_PER_DAY + 1))
SHOWN_SLOTS = 2  # time ranges shown per day; more appear only when a store has them


def _slot_name(day: str, slot: int, edge: str) -> str:
    return f"{day}_{slot}_{edge}"


class StoreForm(BaseForm):
    """Name, time zone, and a week of opening hours (`mon_1_start`, `mon_1_end`, ...)."""

    name = StringField(_l("Store name"),
                       render_kw={"maxlength": 100, "autocomplete": "organization"})
    timezone = SelectField(_l("Time zone"), default=DEFAULT_TIMEZONE, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(zone, zone.replace("_", " ")) for zone in timezone_choices()]

    def business_hours(self) -> dict[str, list[list[str]]]:
        """The week as the operations take it; an empty row means no range.

        A time input cannot show 24:00, so an end of 00:00 after a start
        means midnight at the end of the day.
        """
        week: dict[str, list[list[str]]] = {}
        for day in DAYS:
            ranges = []
            for slot in SLOTS:
                start = (self[_slot_name(day, slot, "start")].data or "").strip()
                end = (self[_slot_name(day, slot, "end")].data or "").strip()
                if not start and not end:
                    continue
                if start and end == "00:00":
                    end = "24:00"
                ranges.append([start, end])
            week[day] = ranges
        return week

    def fill(self, name: str, timezone: str, hours: dict) -> None:
        """Show a store's current profile in the form."""
        self.name.data, self.timezone.data = name, timezone
        for day in DAYS:
            for slot, (start, end) in zip(SLOTS, hours.get(day, []), strict=False):
                self[_slot_name(day, slot, "start")].data = start
                self[_slot_name(day, slot, "end")].data = "00:00" if end == "24:00" else end

    def day_rows(self, day: str) -> list[tuple]:
        """The (start, end) field pairs to show for `day`: two, or more if filled."""
        pairs = [(self[_slot_name(day, s, "start")], self[_slot_name(day, s, "end")])
                 for s in SLOTS]
        return [(start, end) for i, (start, end) in enumerate(pairs)
                if i < SHOWN_SLOTS or start.data or end.data]


for _day in DAYS:
    for _slot in SLOTS:
        for _edge in ("start", "end"):
            setattr(StoreForm, _slot_name(_day, _slot, _edge),
                    StringField(render_kw={"type": "time", "maxlength": 5}))
del _day, _slot, _edge


class NumberForm(BaseForm):
    number = StringField(
        _l("Phone number"),
        description=_l("Mobile or landline, e.g. +86 138 0013 8000 or 010 6552 9988."),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 64},
    )
    region = SelectField(
        _l("Country or region"),
        description=_l("Used for numbers typed without a leading + and country code."),
        validate_choice=False,
    )
    label = StringField(
        _l("Label (optional)"),
        description=_l("For your own reference, e.g. Shop phone."),
        render_kw={"maxlength": 60},
    )

    def __init__(self, *args, default_region: str = "CN", **kwargs):
        super().__init__(*args, **kwargs)
        locale = get_locale()
        territories = locale.territories if locale is not None else {}
        regions = sorted(phonenumbers.SUPPORTED_REGIONS,
                         key=lambda code: territories.get(code, code))
        self.region.choices = [
            (code, f"{territories.get(code, code)} (+{phonenumbers.country_code_for_region(code)})")
            for code in regions
        ]
        if not self.is_submitted():
            self.region.data = default_region


class CodeForm(BaseForm):
    code = StringField(
        _l("Code"),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 40},
    )


class SendCodeForm(BaseForm):
    """Only the CSRF token: the channel is chosen from the line type."""


class EmbedOriginsForm(BaseForm):
    """The sites that may show the store's callback button, one origin per line."""

    origins = TextAreaField(_l("Sites that may show your callback button"),
                            description=_l("One per line, such as https://shop.example.com: the "
                                           "scheme, the host and a port if it has one, no path."),
                            render_kw={"rows": 5, "spellcheck": "false"})

    def lines(self) -> list[str]:
        return [line.strip() for line in (self.origins.data or "").splitlines() if line.strip()]
