"""When a callback may happen: inside the merchant's business hours (its zone)
and inside the shopper's calling hours (every zone their number may be in).

Windows are lists of UTC intervals built day by day from local wall-clock
ranges, so daylight-saving changes fall out of `zoneinfo` instead of being
special-cased.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from registry.merchants.hours import DAYS

Interval = tuple[datetime, datetime]
HORIZON = timedelta(days=7)
SLOT_LENGTH = timedelta(minutes=30)
_HOURS = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")


def parse_call_hours(value: str) -> tuple[time, time | None]:
    """`"08:00-21:00"` -> (08:00, 21:00); an end of 24:00 is None (midnight)."""
    match = _HOURS.match(value.strip())
    if not match:
        raise ValueError(f"calling hours must look like 08:00-21:00, not {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start = time(h1, m1)
    end = None if (h2, m2) == (24, 0) else time(h2, m2)
    if end is not None and end <= start:
        raise ValueError("calling hours must end after they start")
    return start, end


def _local_interval(day: date, start: time, end: time | None, zone: ZoneInfo) -> Interval:
    begin = datetime.combine(day, start, zone)
    finish = datetime.combine(day + timedelta(days=1), time(0), zone) if end is None \
        else datetime.combine(day, end, zone)
    return begin.astimezone(UTC), finish.astimezone(UTC)


def _days(since: datetime, until: datetime, zone: ZoneInfo) -> Iterable[date]:
    day = since.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _parse_hhmm(value: str) -> time | None:
    hours, minutes = (int(p) for p in value.split(":"))
    return None if hours == 24 else time(hours, minutes)


def merchant_intervals(hours: dict, zone_name: str, since: datetime, until: datetime) -> list[Interval]:
    zone = ZoneInfo(zone_name)
    out = []
    for day in _days(since, until, zone):
        for start, end in hours.get(DAYS[day.weekday()], []):
            out.append(_local_interval(day, _parse_hhmm(start), _parse_hhmm(end), zone))
    return _clip(_merge(out), since, until)


def shopper_intervals(zone_names: list[str], call_hours: str, since: datetime,
                      until: datetime) -> list[Interval]:
    start, end = parse_call_hours(call_hours)
    result: list[Interval] | None = None
    for name in zone_names:
        zone = ZoneInfo(name)
        ranges = [_local_interval(day, start, end, zone) for day in _days(since, until, zone)]
        ranges = _clip(_merge(ranges), since, until)
        result = ranges if result is None else intersect(result, ranges)
    return result or []


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def _clip(intervals: list[Interval], since: datetime, until: datetime) -> list[Interval]:
    return [(max(b, since), min(e, until)) for b, e in intervals if e > since and b < until]


def intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        begin, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if begin < end:
            out.append((begin, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return out


def allowed(merchant_hours: dict, merchant_zone: str, shopper_zones: list[str], call_hours: str,
            since: datetime, until: datetime) -> list[Interval]:
    """UTC intervals in [since, until) when both sides may be called."""
    return intersect(merchant_intervals(merchant_hours, merchant_zone, since, until),
                     shopper_intervals(shopper_zones, call_hours, since, until))


def first_moment(intervals: list[Interval], not_before: datetime) -> datetime | None:
    """The earliest instant >= `not_before` inside an interval, if any."""
    for begin, end in intervals:
        if end > not_before:
            return max(begin, not_before)
    return None


def _ceil_to_slot(moment: datetime) -> datetime:
    start = moment.replace(minute=0, second=0, microsecond=0)
    while start < moment:
        start += SLOT_LENGTH
    return start


def slots(intervals: list[Interval], not_before: datetime) -> list[Interval]:
    """Half-hour slots wholly inside the intervals, starting on :00 or :30."""
    out = []
    for begin, end in intervals:
        start = _ceil_to_slot(max(begin, not_before))
        while start + SLOT_LENGTH <= end:
            out.append((start, start + SLOT_LENGTH))
            start += SLOT_LENGTH
    return out


# -- why a call waits ------------------------------------------------------------

STORE_CLOSED = "store_closed"
OUTSIDE_CALL_HOURS = "outside_call_hours"
BOTH_CLOSED = "store_closed_and_outside_call_hours"
# Closer to now than this is "right away": no reason to give.
NOT_WAITING = timedelta(minutes=1)


@dataclass(frozen=True)
class Waiting:
    """Why a call comes at `at` rather than now: the side(s) whose hours begin at `at`.

    `code` is `store_closed` (the store opens at `at`), `outside_call_hours` (the
    shopper's calling hours begin at `at`) or `store_closed_and_outside_call_hours`.
    """

    code: str
    at: datetime

    @property
    def store_closed(self) -> bool:
        return self.code in (STORE_CLOSED, BOTH_CLOSED)

    @property
    def outside_call_hours(self) -> bool:
        return self.code in (OUTSIDE_CALL_HOURS, BOTH_CLOSED)


def _open_at(intervals: list[Interval], moment: datetime) -> bool:
    return any(begin <= moment < end for begin, end in intervals)


def waiting(merchant_hours: dict, merchant_zone: str, shopper_zones: list[str], call_hours: str,
            at: datetime, now: datetime) -> Waiting | None:
    """Why a call due at `at` does not come at `now`, or None when nothing holds it back.

    A side binds when it is closed just before `at`: the first moment both sides
    allow starts where one of them (or both) opens. A due time inside both sides'
    hours (a slot the shopper chose, a retry's pause, a wait for a free line) has no
    reason here; nor has one within a minute of `now`.
    """
    if at - now < NOT_WAITING:
        return None
    before, after = at - timedelta(seconds=1), at + timedelta(seconds=1)
    store = not _open_at(merchant_intervals(merchant_hours, merchant_zone, before, after), before)
    shopper = not _open_at(shopper_intervals(shopper_zones, call_hours, before, after), before)
    if store and shopper:
        return Waiting(BOTH_CLOSED, at)
    if store or shopper:
        return Waiting(STORE_CLOSED if store else OUTSIDE_CALL_HOURS, at)
    return None
