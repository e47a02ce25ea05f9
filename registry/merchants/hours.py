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
