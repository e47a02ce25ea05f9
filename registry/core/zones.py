"""Time zones as a person reads them: the zone's city in the page's language and its
UTC offset (`London, UTC+01:00`, `上海, UTC+08:00`), never a raw IANA key such as
`Europe/Guernsey`."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from flask import has_request_context
from flask_babel import get_locale


def utc_offset(zone: str, at: datetime | None = None) -> str:
    """`UTC+08:00`: the zone's offset at `at` (default now), daylight saving included."""
    offset = (at or datetime.now(UTC)).astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_label(zone: str, at: datetime | None = None) -> str:
    """The zone's city, in the current page's language, with its UTC offset."""
    locale = get_locale() if has_request_context() else None
    try:
        city = get_timezone_location(zone, locale=locale or "en", return_city=True)
    except LookupError:  # a zone CLDR does not name: its own key, readably
        city = zone.rpartition("/")[2].replace("_", " ")
    return f"{city}, {utc_offset(zone, at)}"
