"""A shopper's time zones, from their number.

A number may map to several zones. Calling in the earliest-closing one alone
would still let a call land late in the west (for a Russian mobile, 08:00 in
Anadyr is 23:00 in Moscow), so calling hours are checked in every zone the
number may be in (their intersection; docs/rules.md), and the earliest-closing
zone is the one shown to the shopper.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.core import get_global
from phonenumbers import timezone as number_timezones

FALLBACK_ZONE = "UTC"


def zones_for_number(e164: str) -> list[str]:
    """Every IANA zone the number may be in, easternmost (earliest-closing) first.

    Among zones with the same offset, the number's own country's comes first: a UK
    mobile may be in Guernsey, Jersey or the Isle of Man too, but is shown London time.
    """
    parsed = phonenumbers.parse(e164, None)
    zones = []
    for name in number_timezones.time_zones_for_number(parsed):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    if not zones:
        return [FALLBACK_ZONE]
    now = datetime.now(ZoneInfo("UTC"))
    region = phonenumbers.region_code_for_number(parsed)
    territories = get_global("zone_territories")
    zones.sort(key=lambda zone: (-now.astimezone(zone).utcoffset().total_seconds(),
                                 territories.get(zone.key) != region, zone.key))
    return [zone.key for zone in zones]


def display_zone(e164: str) -> str:
    """The zone shown to the shopper: the earliest-closing one."""
    return zones_for_number(e164)[0]
