"""Weekly business hours: `{"mon": [["09:00", "12:00"], ...], ..., "sun": []}`."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from registry.core.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RANGES_PER_DAY = 6
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_BUSINESS_HOURS = {
    day: ([["09:00", "18:00"]] if day not in ("sat", "sun") else []) for day in DAYS
}
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")


def _minutes(value: object, day: str) -> int:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise InvalidInput("invalid.hours_time", field="business_hours", day=day)
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def parse_business_hours(value: object) -> dict[str, list[list[str]]]:
    """Validate a week of opening hours; every day must be present."""
    if not isinstance(value, dict):
        raise InvalidInput("invalid.hours_object", field="business_hours")
    unknown = sorted(set(value) - set(DAYS), key=str)
    if unknown:
        raise InvalidInput("invalid.hours_unknown_day", field="business_hours", value=repr(unknown[0]))
    week: dict[str, list[list[str]]] = {}
    for day in DAYS:
        ranges = value.get(day, [])
        if not isinstance(ranges, list) or len(ranges) > MAX_RANGES_PER_DAY:
            raise InvalidInput("invalid.hours_too_many", field="business_hours", day=day,
                               limit=MAX_RANGES_PER_DAY)
        spans = []
        for pair in ranges:
            if not isinstance(pair, list) or len(pair) != 2:
                raise InvalidInput("invalid.hours_pair", field="business_hours", day=day)
            start, end = _minutes(pair[0], day), _minutes(pair[1], day)
            if start >= end:
                raise InvalidInput("invalid.hours_order", field="business_hours", day=day,
                                   start=pair[0], end=pair[1])
            spans.append((start, end, pair))
        spans.sort()
        for (_, end, _), (start, _, pair) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise InvalidInput("invalid.hours_overlap", field="business_hours", day=day,
                                   start=pair[0])
        week[day] = [list(pair) for _, _, pair in spans]
    return week


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_timezone(value: object) -> str:
    """An IANA time zone name such as `Asia/Shanghai`."""
    if not isinstance(value, str) or value not in _known_timezones():
        raise InvalidInput("invalid.timezone", field="timezone")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:
        raise InvalidInput("invalid.timezone", field="timezone") from None
    return value


def timezone_choices() -> list[str]:
    return sorted(_known_timezones())


# The week as one line of text, for a CSV cell: `mon-fri 09:00-18:00; sat 10:00-14:00,15:00-17:00`.
# Entries are separated by `;`; each names a day or a span of days (`mon-fri`), then its ranges
# (`HH:MM-HH:MM`, separated by `,`) or `closed`. Days not named are closed. The result is checked
# by `parse_business_hours`, the one rule set of the form and the JSON API.
_DAY_SPAN = re.compile(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?")
_RANGE = re.compile(r"(\d\d:\d\d)\s*-\s*(\d\d:\d\d)")


def _text_refused(part: str) -> InvalidInput:
    return InvalidInput("invalid.hours_text", field="business_hours", part=part.strip()[:40])


def _entry(entry: str, week: dict[str, list[list[str]]]) -> None:
    match = _DAY_SPAN.match(entry)
    if match is None or match[1] not in DAYS or (match[2] is not None and match[2] not in DAYS):
        raise _text_refused(entry)
    first, last = DAYS.index(match[1]), DAYS.index(match[2] or match[1])
    if last < first:
        raise _text_refused(entry)
    rest = entry[match.end():].strip()
    ranges: list[list[str]] = []
    if rest != "closed":
        for piece in rest.split(","):
            span = _RANGE.fullmatch(piece.strip())
            if span is None:
                raise _text_refused(entry)
            ranges.append([span[1], span[2]])
    for day in DAYS[first:last + 1]:
        if day in week:
            raise _text_refused(entry)
        week[day] = [list(pair) for pair in ranges]


def parse_hours_text(value: str) -> dict[str, list[list[str]]]:
    """A week written as text (above), validated as `parse_business_hours` validates it."""
    week: dict[str, list[list[str]]] = {}
    for entry in value.lower().split(";"):
        if entry.strip():
            _entry(entry.strip(), week)
    return parse_business_hours(week)

